//! Embeds the schema sets under `schemas/` into the library, each under its cargo
//! feature (see `SchemaRegistry::builtin`): a build embeds only the sets its features
//! name, and the default build none.

use std::path::{Path, PathBuf};

/// Each directory under `schemas/` and the feature that embeds it.
const SETS: &[(&str, &str)] = &[("geotech", "geotech")];

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
    let mut dirs: Vec<String> = std::fs::read_dir(&schemas)
        .expect("schemas/ exists")
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let mut consts = String::new();
    let mut pushes = String::new();
    for dir in &dirs {
        let Some((_, feature)) = SETS.iter().find(|(d, _)| d == dir) else {
            panic!("schemas/{dir}/ is not a schema set build.rs knows; add it to SETS");
        };
        let mut files = Vec::new();
        collect(&schemas.join(dir), &mut files);
        files.sort();
        let constant = dir.to_uppercase().replace('-', "_");
        consts.push_str(&format!(
            "#[cfg(feature = {feature:?})]\nconst {constant}: &[(&str, &str)] = &[\n"
        ));
        for file in &files {
            println!("cargo::rerun-if-changed={}", file.display());
            let name = file.strip_prefix(&schemas).unwrap_or(file);
            consts.push_str(&format!(
                "    ({:?}, include_str!({:?})),\n",
                format!("schemas/{}", name.display()),
                file.display().to_string()
            ));
        }
        consts.push_str("];\n");
        pushes.push_str(&format!(
            "    #[cfg(feature = {feature:?})]\n    sets.push(({dir:?}, {constant}));\n"
        ));
    }
    let out = format!(
        "{consts}\n/// The embedded schema sets: (set, [(file, TOML text)]).\n\
         #[allow(unused_mut, clippy::vec_init_then_push)]\n\
         pub(super) fn sets() -> Vec<(&'static str, &'static [(&'static str, &'static str)])> {{\n\
         \x20   let mut sets = Vec::new();\n{pushes}    sets\n}}\n"
    );
    let dest =
        PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("builtin_schemas.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}
