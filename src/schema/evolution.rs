//! Schema evolution: what changed between two versions of a table, and whether files
//! written with the old version can still be read with the new one.
//!
//! Compatible: a nullable column added (old files read it as nulls), a type widened
//! ([`PgType::widens_to`]), `NOT NULL` relaxed. Incompatible: a column removed, renamed,
//! narrowed or changed to an unrelated type, a `NOT NULL` column added or a nullable
//! column made `NOT NULL`.
//!
//! ```
//! use parquet_storage::schema::evolution::{compare, Change};
//! use parquet_storage::schema::{ColumnDef, TableDef};
//!
//! let v1 = TableDef::new("t", 1)
//!     .with_column(ColumnDef::new("id", "uuid")?.not_null())
//!     .with_column(ColumnDef::new("n", "integer")?);
//! let v2 = TableDef::new("t", 2)
//!     .with_column(ColumnDef::new("id", "uuid")?.not_null())
//!     .with_column(ColumnDef::new("n", "bigint")?)
//!     .with_column(ColumnDef::new("note", "text")?);
//! let evolution = compare(&v1, &v2);
//! assert!(evolution.is_compatible());
//! assert_eq!(evolution.changes.len(), 2);
//! # Ok::<(), parquet_storage::Error>(())
//! ```

use std::fmt;

use super::{PgType, TableDef};

/// One difference between two versions of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// A nullable column was added: compatible.
    AddedNullable {
        /// The column.
        column: String,
    },
    /// A `NOT NULL` column was added: old files have no values for it.
    AddedRequired {
        /// The column.
        column: String,
    },
    /// A column was removed.
    Removed {
        /// The column.
        column: String,
    },
    /// A column was removed and another of the same type added in its place.
    Renamed {
        /// The old name.
        from: String,
        /// The new name.
        to: String,
    },
    /// A column's type was widened: compatible.
    Widened {
        /// The column.
        column: String,
        /// The old type.
        from: PgType,
        /// The new type.
        to: PgType,
    },
    /// A column's type was narrowed or changed to an unrelated type.
    Narrowed {
        /// The column.
        column: String,
        /// The old type.
        from: PgType,
        /// The new type.
        to: PgType,
    },
    /// `NOT NULL` was dropped: compatible.
    NullabilityRelaxed {
        /// The column.
        column: String,
    },
    /// `NOT NULL` was added: old files may hold nulls.
    NullabilityTightened {
        /// The column.
        column: String,
    },
}

impl Change {
    /// Whether files written before the change still read under the new version.
    pub fn is_compatible(&self) -> bool {
        matches!(
            self,
            Change::AddedNullable { .. }
                | Change::Widened { .. }
                | Change::NullabilityRelaxed { .. }
        )
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::AddedNullable { column } => write!(f, "added nullable column {column:?}"),
            Change::AddedRequired { column } => write!(f, "added NOT NULL column {column:?}"),
            Change::Removed { column } => write!(f, "removed column {column:?}"),
            Change::Renamed { from, to } => write!(f, "renamed column {from:?} to {to:?}"),
            Change::Widened { column, from, to } => {
                write!(f, "widened {column:?} from {from} to {to}")
            }
            Change::Narrowed { column, from, to } => write!(
                f,
                "changed {column:?} from {from} to {to}, which loses values"
            ),
            Change::NullabilityRelaxed { column } => write!(f, "{column:?} now allows nulls"),
            Change::NullabilityTightened { column } => write!(f, "{column:?} is now NOT NULL"),
        }
    }
}

/// The changes from one version of a table to another.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Evolution {
    /// Every change, in the new version's column order (removals last).
    pub changes: Vec<Change>,
}

impl Evolution {
    /// Whether every change is compatible.
    pub fn is_compatible(&self) -> bool {
        self.changes.iter().all(Change::is_compatible)
    }

    /// The incompatible changes.
    pub fn incompatible(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| !c.is_compatible())
    }
}

/// Classifies the changes from `old` to `new`, matching columns by name.
pub fn compare(old: &TableDef, new: &TableDef) -> Evolution {
    let mut changes = Vec::new();
    let mut added = Vec::new();
    for (position, column) in new.columns.iter().enumerate() {
        let Some(before) = old.column(&column.name) else {
            added.push((position, column));
            continue;
        };
        if before.pg_type != column.pg_type {
            let (from, to) = (before.pg_type.clone(), column.pg_type.clone());
            let name = column.name.clone();
            changes.push(if from.widens_to(&to) {
                Change::Widened {
                    column: name,
                    from,
                    to,
                }
            } else {
                Change::Narrowed {
                    column: name,
                    from,
                    to,
                }
            });
        }
        match (before.nullable, column.nullable) {
            (false, true) => changes.push(Change::NullabilityRelaxed {
                column: column.name.clone(),
            }),
            (true, false) => changes.push(Change::NullabilityTightened {
                column: column.name.clone(),
            }),
            _ => {}
        }
    }
    let mut removed: Vec<(usize, &super::ColumnDef)> = old
        .columns
        .iter()
        .enumerate()
        .filter(|(_, c)| new.column(&c.name).is_none())
        .collect();
    for (position, column) in added {
        // A removed column of the same type at the same position: a rename.
        let renamed = removed
            .iter()
            .position(|(p, c)| *p == position && c.pg_type == column.pg_type);
        if let Some(index) = renamed {
            let (_, from) = removed.remove(index);
            changes.push(Change::Renamed {
                from: from.name.clone(),
                to: column.name.clone(),
            });
        } else if column.nullable {
            changes.push(Change::AddedNullable {
                column: column.name.clone(),
            });
        } else {
            changes.push(Change::AddedRequired {
                column: column.name.clone(),
            });
        }
    }
    changes.extend(removed.into_iter().map(|(_, c)| Change::Removed {
        column: c.name.clone(),
    }));
    Evolution { changes }
}
