//! Embeds every schema file under `schemas/` into the library (see
//! `SchemaRegistry::builtin`), so the crate's own schemas need no files at run time.

use std::path::{Path, PathBuf};

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "toml") {
            files.push(path);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let schemas = root.join("schemas");
    println!("cargo::rerun-if-changed=schemas");
    let mut files = Vec::new();
    collect(&schemas, &mut files);
    files.sort();
    let mut out = String::from("[\n");
    for file in &files {
        println!("cargo::rerun-if-changed={}", file.display());
        let name = file.strip_prefix(&schemas).unwrap_or(file);
        out.push_str(&format!(
            "    ({:?}, include_str!({:?})),\n",
            format!("schemas/{}", name.display()),
            file.display().to_string()
        ));
    }
    out.push(']');
    let dest =
        PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("builtin_schemas.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}
