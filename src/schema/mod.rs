//! The typed schema registry: table schemas declared with PostgreSQL types, mapped to
//! Arrow once, and checked against every batch before it is written.
//!
//! * [`TableDef`] is a table as declared: in a TOML file under `schemas/`, built in code,
//!   or imported from `CREATE TABLE` statements ([`ddl::import`]).
//! * [`SchemaRegistry`] holds the definitions and resolves each into a [`TableSchema`],
//!   its Arrow form under the registry's [`RegistryOptions`].
//! * [`TableSchema::validate`] reports every problem of a batch at once;
//!   [`TableSchema::coerce`] makes the lossless conversions users ask for;
//!   [`evolution::compare`] classifies the change between two versions.
//!
//! ```
//! use parquet_storage::schema::{ColumnDef, SchemaRegistry, TableDef};
//!
//! let mut registry = SchemaRegistry::default();
//! registry.register(
//!     TableDef::new("sensors", 1)
//!         .with_column(ColumnDef::new("id", "uuid")?.not_null())
//!         .with_column(ColumnDef::new("location", "geography(point,4326)")?)
//!         .with_column(ColumnDef::new("reading", "numeric(10,3)")?),
//! )?;
//! let sensors = registry.get("sensors")?;
//! let names: Vec<_> = sensors.arrow_schema().fields().iter().map(|f| f.name().clone()).collect();
//! assert_eq!(names, ["id", "location_lat", "location_lon", "reading"]);
//! # Ok::<(), parquet_storage::Error>(())
//! ```

mod coerce;
pub mod ddl;
pub mod evolution;
mod pg_type;
mod raw;
mod validate;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use arrow_schema::{Schema, SchemaRef};

pub use crate::error::{CoercionFailure, Problem, ProblemKind, ValidationReport};
pub use pg_type::{PgType, UNCONSTRAINED_NUMERIC, interval_type};
pub use validate::UnexpectedColumns;

use crate::error::{Error, Result};
use pg_type::TypeMapping;

pub use crate::metadata::{METADATA_SCHEMA_KEY, METADATA_SCHEMA_VERSION_KEY};

/// One column as declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDef {
    /// Column name.
    pub name: String,
    /// PostgreSQL type.
    pub pg_type: PgType,
    /// Whether nulls are allowed (default: yes, as in SQL).
    pub nullable: bool,
    /// What the column holds.
    pub description: Option<String>,
}

impl ColumnDef {
    /// A nullable column of a type written as in DDL (`"varchar(40)"`, `"timestamptz"`).
    pub fn new(name: impl Into<String>, pg_type: &str) -> Result<Self> {
        Ok(ColumnDef::of_type(name, pg_type.parse()?))
    }

    /// A nullable column of a parsed type.
    pub fn of_type(name: impl Into<String>, pg_type: PgType) -> Self {
        ColumnDef {
            name: name.into(),
            pg_type,
            nullable: true,
            description: None,
        }
    }

    /// Marks the column `NOT NULL`.
    pub fn not_null(mut self) -> Self {
        self.nullable = false;
        self
    }

    /// Adds a description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }
}

/// A table as declared: the content of one file under `schemas/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDef {
    /// Table name, the registry key.
    pub name: String,
    /// Schema version; a released version is never edited, a change is a new version.
    pub version: u32,
    /// What the table holds.
    pub description: Option<String>,
    /// Columns in order.
    pub columns: Vec<ColumnDef>,
    /// Default partition columns for writes of this table.
    pub partition_by: Vec<String>,
    /// Default sort order within a file.
    pub sort_by: Vec<String>,
}

impl TableDef {
    /// An empty table definition.
    pub fn new(name: impl Into<String>, version: u32) -> Self {
        TableDef {
            name: name.into(),
            version,
            description: None,
            columns: Vec::new(),
            partition_by: Vec::new(),
            sort_by: Vec::new(),
        }
    }

    /// Appends a column.
    pub fn with_column(mut self, column: ColumnDef) -> Self {
        self.columns.push(column);
        self
    }

    /// Adds a description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the default partition columns.
    pub fn with_partition_by<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        columns: I,
    ) -> Self {
        self.partition_by = columns.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the default sort order.
    pub fn with_sort_by<I: IntoIterator<Item = S>, S: Into<String>>(mut self, columns: I) -> Self {
        self.sort_by = columns.into_iter().map(Into::into).collect();
        self
    }

    /// Parses a schema file's TOML text. `origin` (a file name) goes into errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self> {
        raw::from_toml(text, origin)
    }

    /// The TOML text of a schema file for this table.
    pub fn to_toml(&self) -> Result<String> {
        raw::to_toml(self)
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// Registry-wide choices of how PostgreSQL types are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryOptions {
    uuid_as_binary: bool,
    timestamps_in_millis: bool,
    check_json: bool,
    unexpected_columns: UnexpectedColumns,
    fill_missing_nullable: bool,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            uuid_as_binary: false,
            timestamps_in_millis: false,
            check_json: true,
            unexpected_columns: UnexpectedColumns::Reject,
            fill_missing_nullable: false,
        }
    }
}

impl RegistryOptions {
    /// Stores `uuid` columns as the Parquet UUID type (16 bytes) instead of canonical
    /// text (default: text).
    pub fn with_uuid_as_binary(mut self, binary: bool) -> Self {
        self.uuid_as_binary = binary;
        self
    }

    /// Stores every timestamp and time in milliseconds, as the old files did (default:
    /// PostgreSQL's precision: `timestamp(p)` with p ≤ 3 in ms, any other in µs).
    /// Converting a value with sub-millisecond digits is then an error.
    pub fn with_timestamps_in_millis(mut self, millis: bool) -> Self {
        self.timestamps_in_millis = millis;
        self
    }

    /// Checks that `json`/`jsonb` text parses (default: on).
    pub fn with_check_json(mut self, check: bool) -> Self {
        self.check_json = check;
        self
    }

    /// What validation does with columns the schema does not know (default: reject).
    pub fn with_unexpected_columns(mut self, policy: UnexpectedColumns) -> Self {
        self.unexpected_columns = policy;
        self
    }

    /// Fills a nullable column the batch lacks with nulls, as an SQL `INSERT` that omits
    /// it would (default: off; a missing column is a problem, which catches misspelt
    /// names). A missing `NOT NULL` column is always a problem.
    pub fn with_fill_missing_nullable(mut self, fill: bool) -> Self {
        self.fill_missing_nullable = fill;
        self
    }

    fn mapping(&self) -> TypeMapping {
        TypeMapping {
            uuid_as_binary: self.uuid_as_binary,
            timestamps_in_millis: self.timestamps_in_millis,
        }
    }
}

/// Where an Arrow field of a [`TableSchema`] comes from.
#[derive(Debug, Clone)]
pub(crate) struct FieldOrigin {
    /// Index into [`TableDef::columns`].
    pub(crate) column: usize,
    /// For points: which coordinate.
    pub(crate) coordinate: Option<Coordinate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coordinate {
    Lat,
    Lon,
}

/// A registered table: its definition resolved to Arrow under the registry's options.
///
/// Only a [`SchemaRegistry`] makes one, so a `TableSchema` that exists is valid.
#[derive(Debug, Clone)]
pub struct TableSchema {
    def: TableDef,
    options: RegistryOptions,
    arrow: SchemaRef,
    origins: Vec<FieldOrigin>,
}

impl TableSchema {
    fn resolve(def: TableDef, options: RegistryOptions) -> Result<Self> {
        let invalid = |reason: String| Error::InvalidSchema {
            table: def.name.clone(),
            reason,
        };
        if def.name.is_empty() {
            return Err(invalid("the table has no name".into()));
        }
        if def.columns.is_empty() {
            return Err(invalid("the table has no columns".into()));
        }
        let mut fields = Vec::new();
        let mut origins = Vec::new();
        for (index, column) in def.columns.iter().enumerate() {
            if column.name.is_empty() {
                return Err(invalid(format!("column {} has no name", index + 1)));
            }
            let resolved = column
                .pg_type
                .arrow_fields(&column.name, column.nullable, options.mapping())
                .map_err(|e| invalid(e.to_string()))?;
            let coordinates: &[Option<Coordinate>] = if resolved.len() == 2 {
                &[Some(Coordinate::Lat), Some(Coordinate::Lon)]
            } else {
                &[None]
            };
            for (field, coordinate) in resolved.into_iter().zip(coordinates) {
                if fields
                    .iter()
                    .any(|f: &arrow_schema::Field| f.name() == field.name())
                {
                    return Err(invalid(format!("column {:?} appears twice", field.name())));
                }
                fields.push(field);
                origins.push(FieldOrigin {
                    column: index,
                    coordinate: *coordinate,
                });
            }
        }
        for key in def.partition_by.iter().chain(&def.sort_by) {
            if !fields.iter().any(|f| f.name() == key) {
                return Err(invalid(format!(
                    "partition or sort column {key:?} is not a column"
                )));
            }
        }
        Ok(TableSchema {
            arrow: Arc::new(Schema::new(fields)),
            def,
            options,
            origins,
        })
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.def.name
    }

    /// The table's schema version.
    pub fn version(&self) -> u32 {
        self.def.version
    }

    /// The definition this schema was resolved from.
    pub fn def(&self) -> &TableDef {
        &self.def
    }

    /// The Arrow schema files of this table are written with.
    pub fn arrow_schema(&self) -> SchemaRef {
        Arc::clone(&self.arrow)
    }

    /// The registry options it was resolved under.
    pub fn options(&self) -> &RegistryOptions {
        &self.options
    }

    /// The column definition behind Arrow field `index`.
    pub(crate) fn origin(&self, index: usize) -> (&ColumnDef, Option<Coordinate>) {
        let origin = &self.origins[index];
        (&self.def.columns[origin.column], origin.coordinate)
    }
}

/// Table schemas by name, each resolved under one set of [`RegistryOptions`].
#[derive(Debug, Clone, Default)]
pub struct SchemaRegistry {
    options: RegistryOptions,
    /// name -> version -> schema
    tables: BTreeMap<String, BTreeMap<u32, Arc<TableSchema>>>,
}

/// The schema sets under `schemas/`, each embedded when its cargo feature is on.
mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_schemas.rs"));
}

impl SchemaRegistry {
    /// An empty registry.
    pub fn new(options: RegistryOptions) -> Self {
        SchemaRegistry {
            options,
            tables: BTreeMap::new(),
        }
    }

    /// A registry with the schema sets the crate's enabled features embed, with
    /// default options: `geotech` (the 29 tables of the site-investigation system). The
    /// default build embeds none, so this is then an empty registry; a service loads
    /// its own schema files with [`load_dir`](Self::load_dir).
    pub fn builtin() -> Result<Self> {
        SchemaRegistry::builtin_with(RegistryOptions::default())
    }

    /// The embedded schema sets (see [`builtin`](Self::builtin)) under `options`.
    pub fn builtin_with(options: RegistryOptions) -> Result<Self> {
        let mut registry = SchemaRegistry::new(options);
        for (_, files) in builtin::sets() {
            for (origin, text) in files {
                registry.register(TableDef::from_toml(text, origin)?)?;
            }
        }
        Ok(registry)
    }

    /// The names of the embedded schema sets (the enabled features that embed one).
    pub fn builtin_sets() -> Vec<&'static str> {
        builtin::sets().into_iter().map(|(set, _)| set).collect()
    }

    /// The options schemas are resolved under.
    pub fn options(&self) -> &RegistryOptions {
        &self.options
    }

    /// Adds a table definition; a second definition of the same name and version is an
    /// error, another version of a known table is added beside it.
    pub fn register(&mut self, def: TableDef) -> Result<Arc<TableSchema>> {
        let versions = self.tables.entry(def.name.clone()).or_default();
        if versions.contains_key(&def.version) {
            return Err(Error::InvalidSchema {
                table: def.name.clone(),
                reason: format!("version {} is already registered", def.version),
            });
        }
        let version = def.version;
        let schema = Arc::new(TableSchema::resolve(def, self.options.clone())?);
        versions.insert(version, Arc::clone(&schema));
        Ok(schema)
    }

    /// Registers every `*.toml` file under `dir`, recursively, and returns how many.
    pub fn load_dir(&mut self, dir: impl AsRef<Path>) -> Result<usize> {
        let mut files = Vec::new();
        collect_toml_files(dir.as_ref(), &mut files)?;
        files.sort();
        for file in &files {
            let text = std::fs::read_to_string(file).map_err(|source| Error::SchemaFile {
                path: file.display().to_string(),
                source: Box::new(source),
            })?;
            self.register(TableDef::from_toml(&text, &file.display().to_string())?)?;
        }
        Ok(files.len())
    }

    /// The newest version of table `name`.
    pub fn get(&self, name: &str) -> Result<Arc<TableSchema>> {
        self.tables
            .get(name)
            .and_then(|versions| versions.values().next_back())
            .cloned()
            .ok_or_else(|| Error::UnknownSchema {
                name: name.to_string(),
                version: None,
            })
    }

    /// A given version of table `name`.
    pub fn get_version(&self, name: &str, version: u32) -> Result<Arc<TableSchema>> {
        self.tables
            .get(name)
            .and_then(|versions| versions.get(&version))
            .cloned()
            .ok_or_else(|| Error::UnknownSchema {
                name: name.to_string(),
                version: Some(version),
            })
    }

    /// The newest version of every table, by name.
    pub fn tables(&self) -> impl Iterator<Item = &Arc<TableSchema>> {
        self.tables
            .values()
            .filter_map(|versions| versions.values().next_back())
    }
}

fn collect_toml_files(dir: &Path, files: &mut Vec<std::path::PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::SchemaFile {
        path: dir.display().to_string(),
        source: Box::new(source),
    })?;
    for entry in entries {
        let path = entry
            .map_err(|source| Error::SchemaFile {
                path: dir.display().to_string(),
                source: Box::new(source),
            })?
            .path();
        if path.is_dir() {
            collect_toml_files(&path, files)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            files.push(path);
        }
    }
    Ok(())
}
