//! The on-disk form of schema files (`schemas/**/*.toml`): private serde structs,
//! converted to and from [`TableDef`] in one place.
//!
//! ```toml
//! name = "borehole"
//! version = 1
//! description = "A drilled borehole"
//! partition_by = ["project_id"]      # optional
//! sort_by = ["created_at"]           # optional
//!
//! [[columns]]
//! name = "id"
//! type = "uuid"
//! nullable = false                   # default: true
//! description = "Primary key"        # optional
//! ```

use serde::{Deserialize, Serialize};

use super::{ColumnDef, TableDef};
use crate::error::{Error, Result};

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    name: String,
    version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    partition_by: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    sort_by: Vec<String>,
    columns: Vec<RawColumn>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumn {
    name: String,
    #[serde(rename = "type")]
    pg_type: String,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    nullable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

pub(super) fn from_toml(text: &str, origin: &str) -> Result<TableDef> {
    let raw: RawTable = toml::from_str(text).map_err(|source| Error::SchemaFile {
        path: origin.to_string(),
        source: Box::new(source),
    })?;
    let mut columns = Vec::with_capacity(raw.columns.len());
    for column in raw.columns {
        let pg_type = column
            .pg_type
            .parse()
            .map_err(|source: Error| Error::SchemaFile {
                path: origin.to_string(),
                source: format!("column {:?}: {source}", column.name).into(),
            })?;
        columns.push(ColumnDef {
            name: column.name,
            pg_type,
            nullable: column.nullable,
            description: column.description,
        });
    }
    Ok(TableDef {
        name: raw.name,
        version: raw.version,
        description: raw.description,
        columns,
        partition_by: raw.partition_by,
        sort_by: raw.sort_by,
    })
}

pub(super) fn to_toml(def: &TableDef) -> Result<String> {
    let raw = RawTable {
        name: def.name.clone(),
        version: def.version,
        description: def.description.clone(),
        partition_by: def.partition_by.clone(),
        sort_by: def.sort_by.clone(),
        columns: def
            .columns
            .iter()
            .map(|c| RawColumn {
                name: c.name.clone(),
                pg_type: c.pg_type.to_string(),
                nullable: c.nullable,
                description: c.description.clone(),
            })
            .collect(),
    };
    // Plain strings, numbers and arrays of tables always serialise.
    toml::to_string(&raw).map_err(|e| {
        Error::internal(format!(
            "writing the schema of table {:?} as TOML: {e}",
            def.name
        ))
    })
}
