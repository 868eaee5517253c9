//! Table paths and immutable data file names. Pure: no IO.
//!
//! A data file is named `{stem}_{YYYYMMDD}_{HHMMSS}_{uuid}.parquet`: the UTC second the
//! file was created and a UUIDv7 minted in that same instant. The UUID makes a name unique
//! without coordination between writers; because a v7 UUID starts with its millisecond
//! timestamp, names of one stem sort in creation order.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use uuid::Uuid;

use crate::error::{Error, Result};

/// File extension of every data file.
pub const PARQUET_EXTENSION: &str = "parquet";

/// Whether `segment` is hidden from readers: a leading `_` or `.` marks staging areas,
/// markers (`_SUCCESS`) and dot-files, as in Hive, Spark, pyarrow and DuckDB.
pub(crate) fn is_hidden(segment: &str) -> bool {
    segment.starts_with('_') || segment.starts_with('.')
}

/// Checks one name part: ASCII letters, digits, `-`, `_` and `.`, not hidden.
fn check_segment(segment: &str) -> std::result::Result<(), String> {
    if segment.is_empty() {
        return Err("empty path segment".into());
    }
    if is_hidden(segment) {
        return Err(format!(
            "segment {segment:?} starts with '_' or '.', which readers treat as hidden"
        ));
    }
    if let Some(c) = segment
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "segment {segment:?} contains {c:?}; use ASCII letters, digits, '-', '_' and '.'"
        ));
    }
    Ok(())
}

/// Where a table lives inside a backend, such as `battery/telemetry`.
///
/// Segments are ASCII letters, digits, `-`, `_` and `.`, and may not start with `_` or
/// `.` (readers hide those). Tables must not nest: the files of `a/b` would also be read
/// as part of table `a`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TablePath(String);

impl TablePath {
    /// Validates `path` (surrounding `/` are ignored).
    pub fn new(path: &str) -> Result<Self> {
        let trimmed = path.trim_matches('/');
        if trimmed.is_empty() {
            return Err(Error::InvalidTablePath {
                path: path.into(),
                reason: "empty".into(),
            });
        }
        for segment in trimmed.split('/') {
            check_segment(segment).map_err(|reason| Error::InvalidTablePath {
                path: path.into(),
                reason,
            })?;
        }
        Ok(TablePath(trimmed.to_string()))
    }

    /// The path as a `/`-separated string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last segment: the table's name and the default file stem.
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The object-store location of this table's directory.
    pub(crate) fn location(&self) -> object_store::path::Path {
        object_store::path::Path::from(self.0.as_str())
    }
}

impl fmt::Display for TablePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for TablePath {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        TablePath::new(s)
    }
}

impl TryFrom<&str> for TablePath {
    type Error = Error;
    fn try_from(s: &str) -> Result<Self> {
        TablePath::new(s)
    }
}

/// The name of one immutable data file: `{stem}_{YYYYMMDD}_{HHMMSS}_{uuid}.parquet`.
///
/// Ordered by creation time, then UUID (which is time-ordered itself for v7 UUIDs).
///
/// ```
/// use parquet_storage::FileName;
///
/// let name = FileName::generate("telemetry")?;
/// let text = name.to_string();
/// assert!(text.starts_with("telemetry_") && text.ends_with(".parquet"));
/// assert_eq!(text.parse::<FileName>()?, name);
/// # Ok::<(), parquet_storage::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileName {
    stem: String,
    created: DateTime<Utc>,
    uuid: Uuid,
}

impl FileName {
    /// A fresh name for `stem`: now (UTC, whole seconds) and a new UUIDv7.
    pub fn generate(stem: &str) -> Result<Self> {
        let uuid = Uuid::now_v7();
        let created = uuid
            .get_timestamp()
            .and_then(|ts| {
                let (secs, _) = ts.to_unix();
                Utc.timestamp_opt(i64::try_from(secs).ok()?, 0).single()
            })
            .unwrap_or_else(|| truncate_to_second(Utc::now()));
        FileName::new(stem, created, uuid)
    }

    /// A name from its parts; `created` is truncated to whole seconds.
    pub fn new(stem: &str, created: DateTime<Utc>, uuid: Uuid) -> Result<Self> {
        check_segment(stem).map_err(|reason| Error::InvalidFileName {
            name: stem.into(),
            reason: format!("bad stem: {reason}"),
        })?;
        Ok(FileName {
            stem: stem.into(),
            created: truncate_to_second(created),
            uuid,
        })
    }

    /// The stem (by default the table name).
    pub fn stem(&self) -> &str {
        &self.stem
    }

    /// When the file was created (UTC, whole seconds).
    pub fn created(&self) -> DateTime<Utc> {
        self.created
    }

    /// The unique part of the name.
    pub fn uuid(&self) -> Uuid {
        self.uuid
    }
}

fn truncate_to_second(t: DateTime<Utc>) -> DateTime<Utc> {
    Utc.timestamp_opt(t.timestamp(), 0).single().unwrap_or(t)
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}_{}_{}.{PARQUET_EXTENSION}",
            self.stem,
            self.created.format("%Y%m%d_%H%M%S"),
            self.uuid.hyphenated()
        )
    }
}

impl FromStr for FileName {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self> {
        let bad = |reason: &str| Error::InvalidFileName {
            name: name.into(),
            reason: reason.into(),
        };
        let base = name
            .strip_suffix(".parquet")
            .ok_or_else(|| bad("does not end in .parquet"))?;
        // The stem may itself contain '_', so split the three fixed fields off the right.
        let mut parts = base.rsplitn(4, '_');
        let (uuid_text, time, date, stem) =
            match (parts.next(), parts.next(), parts.next(), parts.next()) {
                (Some(u), Some(t), Some(d), Some(s)) => (u, t, d, s),
                _ => return Err(bad("expected {stem}_{YYYYMMDD}_{HHMMSS}_{uuid}.parquet")),
            };
        let uuid = Uuid::try_parse(uuid_text).map_err(|_| bad("the last field is not a UUID"))?;
        if uuid.hyphenated().to_string() != uuid_text {
            return Err(bad("the UUID is not in lower-case hyphenated form"));
        }
        if date.len() != 8 || time.len() != 6 {
            return Err(bad("date must be YYYYMMDD and time HHMMSS"));
        }
        let created = NaiveDateTime::parse_from_str(&format!("{date}{time}"), "%Y%m%d%H%M%S")
            .map_err(|_| bad("date must be YYYYMMDD and time HHMMSS"))?
            .and_utc();
        FileName::new(stem, created, uuid)
    }
}

impl PartialOrd for FileName {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for FileName {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.created, self.uuid, &self.stem).cmp(&(other.created, other.uuid, &other.stem))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn table_paths() {
        assert_eq!(TablePath::new("/a/b/").unwrap().as_str(), "a/b");
        assert_eq!(TablePath::new("a/b-c.d").unwrap().name(), "b-c.d");
        for bad in [
            "", "/", "a//b", "../x", "a/../b", "_staging", "a/.x", "a b", "a/ü", "a\\b",
        ] {
            assert!(TablePath::new(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn rejects_malformed_names() {
        for bad in [
            "x.parquet",
            "t_20240101_000000_notauuid.parquet",
            "t_2024010_000000_0190a5a0-0000-7000-8000-000000000000.parquet",
            "t_20241301_000000_0190a5a0-0000-7000-8000-000000000000.parquet",
            "t_20240101_000000_0190A5A0-0000-7000-8000-000000000000.parquet",
            "_t_20240101_000000_0190a5a0-0000-7000-8000-000000000000.parquet",
            "t_20240101_000000_0190a5a0-0000-7000-8000-000000000000.csv",
        ] {
            assert!(bad.parse::<FileName>().is_err(), "{bad:?} accepted");
        }
    }

    fn stem() -> impl Strategy<Value = String> {
        "[A-Za-z0-9][A-Za-z0-9_.-]{0,20}"
    }

    proptest! {
        #[test]
        fn names_round_trip(stem in stem(), secs in 0i64..4_102_444_800, bits in any::<u128>()) {
            let created = Utc.timestamp_opt(secs, 0).unwrap();
            let name = FileName::new(&stem, created, Uuid::from_u128(bits)).unwrap();
            let parsed: FileName = name.to_string().parse().unwrap();
            prop_assert_eq!(&parsed, &name);
        }

        #[test]
        fn text_order_is_time_order(stem in stem(), a in 0i64..4_102_444_800, b in 0i64..4_102_444_800,
                                    ua in any::<u128>(), ub in any::<u128>()) {
            let x = FileName::new(&stem, Utc.timestamp_opt(a, 0).unwrap(), Uuid::from_u128(ua)).unwrap();
            let y = FileName::new(&stem, Utc.timestamp_opt(b, 0).unwrap(), Uuid::from_u128(ub)).unwrap();
            prop_assert_eq!(x.cmp(&y), x.to_string().cmp(&y.to_string()));
        }
    }

    #[test]
    fn generated_names_are_unique_and_ordered() {
        let names: Vec<FileName> = (0..1000)
            .map(|_| FileName::generate("t").unwrap())
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(sorted, names);
        sorted.dedup();
        assert_eq!(sorted.len(), 1000);
    }
}
