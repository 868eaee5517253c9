//! Turns `CREATE TABLE` statements (as `pg_dump --schema-only` prints them) into registry
//! schema files, one TOML file per table.
//!
//! ```sh
//! cargo run --example ddl_import -- schemas/geotech/geotech.sql schemas/geotech
//! ```
//!
//! This is how the crate's geotechnical schemas under `schemas/geotech/` were made;
//! `tests/schemas.rs` checks that they still agree with the DDL.

use std::path::PathBuf;

use parquet_storage::schema::ddl;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(sql), Some(out)) = (args.next(), args.next()) else {
        eprintln!("usage: ddl_import <dump.sql> <output directory>");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(&sql)?;
    let tables = ddl::import(&text)?;
    let out = PathBuf::from(out);
    std::fs::create_dir_all(&out)?;
    let source = PathBuf::from(&sql);
    let source = source
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    for table in &tables {
        let path = out.join(format!("{}.toml", table.name));
        let header = format!(
            "# Table {} of {source}, imported with `cargo run --example ddl_import`.\n\
             # A released version is never edited: change the DDL, re-import, bump the version.\n\n",
            table.name
        );
        std::fs::write(&path, header + &table.to_toml()?)?;
        println!("{}: {} columns", path.display(), table.columns.len());
    }
    println!("{} tables from {sql}", tables.len());
    Ok(())
}
