//! PostgreSQL column types as written in DDL, and the one mapping from them to Arrow.
//!
//! Every part of the crate that turns a PostgreSQL type into Arrow (schema files,
//! validation, coercion, DDL import, and the exporter to come) goes through
//! [`PgType::arrow_fields`]. `docs/schemas.md` has the same mapping as a table.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use arrow_schema::extension::{Json, Uuid as UuidExtension};
use arrow_schema::{DataType, Field, Fields, TimeUnit};

use crate::error::{Error, Result};

/// Precision and scale that an unconstrained `numeric` maps to: 38 digits, 9 after the
/// point. PostgreSQL allows far more; a value that does not fit is an error, never
/// rounded.
pub const UNCONSTRAINED_NUMERIC: (u8, i8) = (38, 9);

/// A PostgreSQL column type, as `CREATE TABLE` writes it.
///
/// Parses the spellings `pg_dump` prints and the common aliases (`int4`, `varchar(20)`,
/// `timestamp(3) with time zone`, `text[]`, `public.geography(Point,4326)`, …); displays
/// one canonical spelling.
///
/// ```
/// use parquet_storage::schema::PgType;
///
/// let t: PgType = "character varying(40)".parse()?;
/// assert_eq!(t, PgType::Varchar(Some(40)));
/// assert_eq!(t.to_string(), "varchar(40)");
/// assert_eq!("TIMESTAMP(3) WITH TIME ZONE".parse::<PgType>()?, PgType::Timestamptz(Some(3)));
/// # Ok::<(), parquet_storage::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PgType {
    /// `uuid`
    Uuid,
    /// `json`
    Json,
    /// `jsonb`
    Jsonb,
    /// `text`
    Text,
    /// `varchar(n)` / `character varying(n)`; no length: unbounded
    Varchar(Option<u32>),
    /// `char(n)` / `character(n)`; PostgreSQL's bare `char` is `char(1)`
    Char(u32),
    /// `smallint` / `int2`
    SmallInt,
    /// `integer` / `int` / `int4`
    Integer,
    /// `bigint` / `int8`
    BigInt,
    /// `real` / `float4`
    Real,
    /// `double precision` / `float8`
    Double,
    /// `numeric(p,s)` / `decimal(p,s)`; `None`: unconstrained
    Numeric(Option<(u8, i8)>),
    /// `boolean` / `bool`
    Boolean,
    /// `date`
    Date,
    /// `time(p)` without time zone
    Time(Option<u8>),
    /// `timestamp(p)` without time zone
    Timestamp(Option<u8>),
    /// `timestamptz(p)` / `timestamp(p) with time zone`
    Timestamptz(Option<u8>),
    /// `interval`
    Interval,
    /// `bytea`
    Bytea,
    /// `<element>[]`
    Array(Box<PgType>),
    /// `geography(Point[,srid])`: stored as `<column>_lat` and `<column>_lon`
    GeographyPoint(Option<u32>),
    /// `geometry(Point[,srid])`: stored as `<column>_lat` (y) and `<column>_lon` (x)
    GeometryPoint(Option<u32>),
}

/// How registry types become Arrow types; see [`RegistryOptions`](super::RegistryOptions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct TypeMapping {
    pub(crate) uuid_as_binary: bool,
    pub(crate) timestamps_in_millis: bool,
}

impl PgType {
    /// Whether a point type, stored as two float columns.
    pub fn is_point(&self) -> bool {
        matches!(self, PgType::GeographyPoint(_) | PgType::GeometryPoint(_))
    }

    /// Whether a column of this type may be widened into `to` without losing values, so
    /// files written with `self` read as `to`.
    pub fn widens_to(&self, to: &PgType) -> bool {
        use PgType::*;
        let int_rank = |t: &PgType| match t {
            SmallInt => Some(1),
            Integer => Some(2),
            BigInt => Some(3),
            _ => None,
        };
        match (self, to) {
            (a, b) if a == b => true,
            (a, b) if int_rank(a).is_some() && int_rank(b).is_some() => int_rank(a) <= int_rank(b),
            (SmallInt | Integer, Numeric(None)) | (Real, Double) => true,
            (Varchar(Some(n)), Varchar(Some(m))) => n <= m,
            (Char(n), Varchar(Some(m))) => n <= m,
            (Varchar(_) | Char(_), Text | Varchar(None)) | (Text, Varchar(None)) => true,
            (Numeric(Some((p1, s1))), Numeric(Some((p2, s2)))) => {
                s2 >= s1 && i16::from(*p2) - i16::from(*s2) >= i16::from(*p1) - i16::from(*s1)
            }
            (Timestamp(a), Timestamp(b))
            | (Timestamptz(a), Timestamptz(b))
            | (Time(a), Time(b)) => a.unwrap_or(6) <= b.unwrap_or(6),
            (Json, Jsonb) | (Jsonb, Json) => true,
            (Array(a), Array(b)) => a.widens_to(b),
            _ => false,
        }
    }

    /// The Arrow fields a column `name` of this type is stored as: one field, or two
    /// (`<name>_lat`, `<name>_lon`) for points.
    pub(crate) fn arrow_fields(
        &self,
        name: &str,
        nullable: bool,
        mapping: TypeMapping,
    ) -> Result<Vec<Field>> {
        if self.is_point() {
            return Ok(vec![
                Field::new(format!("{name}_lat"), DataType::Float64, nullable),
                Field::new(format!("{name}_lon"), DataType::Float64, nullable),
            ]);
        }
        let mut field = Field::new(name, self.arrow_type(name, mapping)?, nullable);
        match self {
            PgType::Uuid if mapping.uuid_as_binary => {
                field = field.with_extension_type(UuidExtension)
            }
            PgType::Json | PgType::Jsonb => field = field.with_extension_type(Json::default()),
            _ => {}
        }
        Ok(vec![field])
    }

    /// The Arrow type of a single-field column.
    fn arrow_type(&self, name: &str, mapping: TypeMapping) -> Result<DataType> {
        let unit = |precision: &Option<u8>| {
            if mapping.timestamps_in_millis || precision.is_some_and(|p| p <= 3) {
                TimeUnit::Millisecond
            } else {
                TimeUnit::Microsecond
            }
        };
        Ok(match self {
            PgType::Uuid if mapping.uuid_as_binary => DataType::FixedSizeBinary(16),
            PgType::Uuid
            | PgType::Json
            | PgType::Jsonb
            | PgType::Text
            | PgType::Varchar(_)
            | PgType::Char(_) => DataType::Utf8,
            PgType::SmallInt => DataType::Int16,
            PgType::Integer => DataType::Int32,
            PgType::BigInt => DataType::Int64,
            PgType::Real => DataType::Float32,
            PgType::Double => DataType::Float64,
            PgType::Numeric(None) => {
                DataType::Decimal128(UNCONSTRAINED_NUMERIC.0, UNCONSTRAINED_NUMERIC.1)
            }
            PgType::Numeric(Some((p, s))) if *p <= 38 => DataType::Decimal128(*p, *s),
            PgType::Numeric(Some((p, s))) if *p <= 76 => DataType::Decimal256(*p, *s),
            PgType::Numeric(Some((p, _))) => {
                return Err(Error::config(format!(
                    "column {name:?}: numeric precision {p} is above Arrow's maximum of 76"
                )));
            }
            PgType::Boolean => DataType::Boolean,
            PgType::Date => DataType::Date32,
            PgType::Time(p) => match unit(p) {
                TimeUnit::Millisecond => DataType::Time32(TimeUnit::Millisecond),
                _ => DataType::Time64(TimeUnit::Microsecond),
            },
            PgType::Timestamp(p) => DataType::Timestamp(unit(p), None),
            PgType::Timestamptz(p) => DataType::Timestamp(unit(p), Some("UTC".into())),
            PgType::Interval => interval_type(),
            PgType::Bytea => DataType::Binary,
            PgType::Array(element)
                if element.is_point() || matches!(**element, PgType::Array(_)) =>
            {
                return Err(Error::config(format!(
                    "column {name:?}: arrays of {element} are not supported"
                )));
            }
            PgType::Array(element) => {
                let item = element.arrow_type(name, mapping)?;
                DataType::List(Arc::new(Field::new("item", item, true)))
            }
            PgType::GeographyPoint(_) | PgType::GeometryPoint(_) => {
                return Err(Error::config(format!(
                    "column {name:?}: a point is two columns, not one"
                )));
            }
        })
    }
}

/// How an `interval` is stored: PostgreSQL's own representation, which keeps every
/// value exactly. Parquet's INTERVAL type holds only milliseconds, and arrow-rs cannot
/// write Arrow's month-day-nano intervals to Parquet.
pub fn interval_type() -> DataType {
    DataType::Struct(Fields::from(vec![
        Field::new("months", DataType::Int32, false),
        Field::new("days", DataType::Int32, false),
        Field::new("microseconds", DataType::Int64, false),
    ]))
}

impl fmt::Display for PgType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let precision = |f: &mut fmt::Formatter<'_>, base: &str, p: &Option<u8>| match p {
            Some(p) => write!(f, "{base}({p})"),
            None => f.write_str(base),
        };
        let point = |f: &mut fmt::Formatter<'_>, base: &str, srid: &Option<u32>| match srid {
            Some(srid) => write!(f, "{base}(point,{srid})"),
            None => write!(f, "{base}(point)"),
        };
        match self {
            PgType::Uuid => f.write_str("uuid"),
            PgType::Json => f.write_str("json"),
            PgType::Jsonb => f.write_str("jsonb"),
            PgType::Text => f.write_str("text"),
            PgType::Varchar(None) => f.write_str("varchar"),
            PgType::Varchar(Some(n)) => write!(f, "varchar({n})"),
            PgType::Char(n) => write!(f, "char({n})"),
            PgType::SmallInt => f.write_str("smallint"),
            PgType::Integer => f.write_str("integer"),
            PgType::BigInt => f.write_str("bigint"),
            PgType::Real => f.write_str("real"),
            PgType::Double => f.write_str("double precision"),
            PgType::Numeric(None) => f.write_str("numeric"),
            PgType::Numeric(Some((p, s))) => write!(f, "numeric({p},{s})"),
            PgType::Boolean => f.write_str("boolean"),
            PgType::Date => f.write_str("date"),
            PgType::Time(p) => precision(f, "time", p),
            PgType::Timestamp(p) => precision(f, "timestamp", p),
            PgType::Timestamptz(p) => precision(f, "timestamptz", p),
            PgType::Interval => f.write_str("interval"),
            PgType::Bytea => f.write_str("bytea"),
            PgType::Array(element) => write!(f, "{element}[]"),
            PgType::GeographyPoint(srid) => point(f, "geography", srid),
            PgType::GeometryPoint(srid) => point(f, "geometry", srid),
        }
    }
}

impl FromStr for PgType {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let invalid = |reason: &str| Error::InvalidPgType {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        // Lower-case, single spaces, no spaces around punctuation.
        let mut t = text
            .trim()
            .to_ascii_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        for (from, to) in [
            (" (", "("),
            ("( ", "("),
            (" )", ")"),
            (", ", ","),
            (" ,", ","),
            (" [", "["),
        ] {
            t = t.replace(from, to);
        }
        if let Some(element) = t.strip_suffix("[]") {
            return Ok(PgType::Array(Box::new(element.parse()?)));
        }
        if let Some(element) = t.strip_suffix(" array") {
            return Ok(PgType::Array(Box::new(element.parse()?)));
        }
        // pg_dump qualifies extension and catalog types: public.geography, pg_catalog.int4.
        let t = t
            .strip_prefix("pg_catalog.")
            .or_else(|| t.strip_prefix("public."))
            .unwrap_or(&t);
        let (base, args) = match t.split_once('(') {
            Some((base, rest)) => {
                let (args, after) = rest
                    .split_once(')')
                    .ok_or_else(|| invalid("unbalanced parenthesis"))?;
                // `timestamp(3) with time zone` puts the zone after the arguments.
                (
                    format!("{base}{after}"),
                    Some(args.split(',').map(str::trim).collect::<Vec<_>>()),
                )
            }
            None => (t.to_string(), None),
        };
        let number = |s: &str| s.parse::<u32>().map_err(|_| invalid("expected a number"));
        let one = |args: &Option<Vec<&str>>| -> Result<Option<u32>> {
            match args.as_deref() {
                None => Ok(None),
                Some([n]) => number(n).map(Some),
                Some(_) => Err(invalid("expected one number")),
            }
        };
        let precision = |args: &Option<Vec<&str>>| -> Result<Option<u8>> {
            match one(args)? {
                None => Ok(None),
                Some(p) if p <= 6 => Ok(Some(p as u8)),
                Some(_) => Err(invalid("precision must be 0 to 6")),
            }
        };
        let no_args = |ty: PgType| match args {
            None => Ok(ty),
            Some(_) => Err(invalid("takes no arguments")),
        };
        match base.as_str() {
            "uuid" => no_args(PgType::Uuid),
            "json" => no_args(PgType::Json),
            "jsonb" => no_args(PgType::Jsonb),
            "text" => no_args(PgType::Text),
            "varchar" | "character varying" => Ok(PgType::Varchar(one(&args)?)),
            "char" | "character" | "bpchar" => Ok(PgType::Char(one(&args)?.unwrap_or(1))),
            "smallint" | "int2" => no_args(PgType::SmallInt),
            "integer" | "int" | "int4" => no_args(PgType::Integer),
            "bigint" | "int8" => no_args(PgType::BigInt),
            "real" | "float4" => no_args(PgType::Real),
            "double precision" | "float8" => no_args(PgType::Double),
            "numeric" | "decimal" => match args.as_deref() {
                None => Ok(PgType::Numeric(None)),
                Some([p]) | Some([p, _]) => {
                    let p = number(p)?;
                    let s: i32 = match args.as_deref() {
                        Some([_, s]) => s.parse().map_err(|_| invalid("expected a scale"))?,
                        _ => 0,
                    };
                    let p = u8::try_from(p).ok().filter(|p| (1..=76).contains(p));
                    let p = p.ok_or_else(|| invalid("precision must be 1 to 76"))?;
                    let s = i8::try_from(s).map_err(|_| invalid("scale out of range"))?;
                    if i16::from(s) > i16::from(p) {
                        return Err(invalid("scale is larger than precision"));
                    }
                    Ok(PgType::Numeric(Some((p, s))))
                }
                Some(_) => Err(invalid("expected numeric(p) or numeric(p,s)")),
            },
            "boolean" | "bool" => no_args(PgType::Boolean),
            "date" => no_args(PgType::Date),
            "time" | "time without time zone" => Ok(PgType::Time(precision(&args)?)),
            "timestamp" | "timestamp without time zone" => Ok(PgType::Timestamp(precision(&args)?)),
            "timestamptz" | "timestamp with time zone" => {
                Ok(PgType::Timestamptz(precision(&args)?))
            }
            "interval" => no_args(PgType::Interval),
            "bytea" => no_args(PgType::Bytea),
            "geography" | "geometry" => {
                let srid = match args.as_deref() {
                    Some(["point"]) => None,
                    Some(["point", srid]) => Some(number(srid)?),
                    _ => {
                        return Err(invalid(
                            "only point columns are supported: geography(Point[,srid])",
                        ));
                    }
                };
                Ok(if base == "geography" {
                    PgType::GeographyPoint(srid)
                } else {
                    PgType::GeometryPoint(srid)
                })
            }
            _ => Err(invalid("not a supported PostgreSQL type")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pg_dump_spellings() {
        for (text, expected) in [
            ("uuid", PgType::Uuid),
            ("character varying(255)", PgType::Varchar(Some(255))),
            ("character varying", PgType::Varchar(None)),
            ("character(2)", PgType::Char(2)),
            ("bpchar", PgType::Char(1)),
            ("timestamp without time zone", PgType::Timestamp(None)),
            ("timestamp(3) without time zone", PgType::Timestamp(Some(3))),
            ("timestamp(3) with time zone", PgType::Timestamptz(Some(3))),
            ("time(0) without time zone", PgType::Time(Some(0))),
            ("numeric(10,3)", PgType::Numeric(Some((10, 3)))),
            ("NUMERIC ( 12 , 2 )", PgType::Numeric(Some((12, 2)))),
            ("numeric(5)", PgType::Numeric(Some((5, 0)))),
            (
                "public.geography(Point,4326)",
                PgType::GeographyPoint(Some(4326)),
            ),
            ("geometry(point)", PgType::GeometryPoint(None)),
            ("text[]", PgType::Array(Box::new(PgType::Text))),
            ("integer[]", PgType::Array(Box::new(PgType::Integer))),
            ("int4 ARRAY", PgType::Array(Box::new(PgType::Integer))),
            ("pg_catalog.int8", PgType::BigInt),
            ("double precision", PgType::Double),
        ] {
            assert_eq!(text.parse::<PgType>().unwrap(), expected, "{text}");
            // The canonical spelling parses back to the same type.
            assert_eq!(expected.to_string().parse::<PgType>().unwrap(), expected);
        }
        for bad in [
            "money",
            "varchar(x)",
            "numeric(100,2)",
            "numeric(4,6)",
            "timestamp(9)",
            "geography(polygon)",
            "uuid(3)",
        ] {
            assert!(bad.parse::<PgType>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn maps_to_arrow() {
        let m = TypeMapping::default();
        let ty = |t: &str, m| {
            t.parse::<PgType>()
                .unwrap()
                .arrow_fields("c", true, m)
                .unwrap()[0]
                .data_type()
                .clone()
        };
        assert_eq!(
            ty("timestamp", m),
            DataType::Timestamp(TimeUnit::Microsecond, None)
        );
        assert_eq!(
            ty("timestamp(3)", m),
            DataType::Timestamp(TimeUnit::Millisecond, None)
        );
        assert_eq!(
            ty("timestamptz", m),
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
        let millis = TypeMapping {
            timestamps_in_millis: true,
            ..m
        };
        assert_eq!(
            ty("timestamptz(6)", millis),
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
        );
        assert_eq!(ty("numeric", m), DataType::Decimal128(38, 9));
        assert_eq!(ty("numeric(60,2)", m), DataType::Decimal256(60, 2));
        let binary = TypeMapping {
            uuid_as_binary: true,
            ..m
        };
        assert_eq!(ty("uuid", binary), DataType::FixedSizeBinary(16));
        let point = "geography(point,4326)"
            .parse::<PgType>()
            .unwrap()
            .arrow_fields("loc", false, m)
            .unwrap();
        let names: Vec<_> = point.iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["loc_lat", "loc_lon"]);
        assert!(point.iter().all(|f| !f.is_nullable()));
    }

    #[test]
    fn widening() {
        let t = |s: &str| s.parse::<PgType>().unwrap();
        assert!(t("smallint").widens_to(&t("bigint")));
        assert!(!t("bigint").widens_to(&t("integer")));
        assert!(t("varchar(10)").widens_to(&t("text")));
        assert!(!t("varchar(10)").widens_to(&t("varchar(5)")));
        assert!(t("numeric(10,2)").widens_to(&t("numeric(12,3)")));
        assert!(!t("numeric(10,2)").widens_to(&t("numeric(10,3)")));
        assert!(t("real").widens_to(&t("double precision")));
        assert!(!t("text").widens_to(&t("integer")));
    }
}
