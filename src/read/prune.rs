//! Skipping row groups and pages a filter cannot match, from column statistics (the
//! footer's per row group, the page index's per page) and bloom filters, before any
//! data page is fetched.
//!
//! One judgement serves both granularities: it works on "units" that each have a
//! min, max and null count per column. For pages the units are the fragments a row
//! group's rows fall into when every filtered column's page boundaries are overlaid,
//! so each fragment lies inside exactly one page of every column.

use arrow_array::{Array, BooleanArray, UInt32Array};
use arrow_schema::Schema;
use parquet::arrow::arrow_reader::RowSelector;
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use parquet::file::metadata::ParquetMetaData;

use crate::filter::{Filter, Op, Value};

/// For each row group: could any row match (`maybe`), and do all rows match (`all`)?
struct Verdict {
    maybe: Vec<bool>,
    all: Vec<bool>,
}

impl Verdict {
    fn constant(groups: usize, value: bool) -> Self {
        Verdict {
            maybe: vec![value; groups],
            all: vec![value; groups],
        }
    }

    fn unknown(groups: usize) -> Self {
        Verdict {
            maybe: vec![true; groups],
            all: vec![false; groups],
        }
    }
}

/// Statistics of one column over the units (row groups or page fragments).
struct ColumnStats {
    mins: arrow_array::ArrayRef,
    maxes: arrow_array::ArrayRef,
    nulls: Vec<Option<u64>>,
    rows: Vec<Option<u64>>,
}

/// A value from a comparison on statistics: missing statistics decide nothing.
fn known(result: Option<BooleanArray>, groups: usize, default: bool) -> Vec<bool> {
    match result {
        Some(r) if r.len() == groups => (0..groups)
            .map(|i| if r.is_valid(i) { r.value(i) } else { default })
            .collect(),
        _ => vec![default; groups],
    }
}

fn cmp(array: &arrow_array::ArrayRef, op: Op, value: &Value, name: &str) -> Option<BooleanArray> {
    let filter = Filter::Compare {
        column: name.to_string(),
        op,
        value: value.clone(),
    };
    let batch =
        arrow_array::RecordBatch::try_from_iter([(name, std::sync::Arc::clone(array))]).ok()?;
    filter.evaluate(&batch).ok()
}

fn and(a: &[bool], b: &[bool]) -> Vec<bool> {
    a.iter().zip(b).map(|(x, y)| *x && *y).collect()
}

fn or(a: &[bool], b: &[bool]) -> Vec<bool> {
    a.iter().zip(b).map(|(x, y)| *x || *y).collect()
}

/// The row groups of `metadata` that `filter` may match, by index.
pub(crate) fn row_groups(
    filter: &Filter,
    schema: &Schema,
    metadata: &ParquetMetaData,
) -> Vec<usize> {
    let groups = metadata.num_row_groups();
    // Each column's statistics once, however many leaves test it.
    let by_column: Vec<(&str, Option<ColumnStats>)> = filter
        .columns()
        .into_iter()
        .map(|name| (name, stats(name, schema, metadata)))
        .collect();
    let verdict = judge(filter, &|name| lookup(&by_column, name), groups);
    (0..groups).filter(|&g| verdict.maybe[g]).collect()
}

fn lookup<'a>(by_column: &'a [(&str, Option<ColumnStats>)], name: &str) -> Option<&'a ColumnStats> {
    by_column
        .iter()
        .find(|(n, _)| *n == name)
        .and_then(|(_, s)| s.as_ref())
}

fn stats(name: &str, schema: &Schema, metadata: &ParquetMetaData) -> Option<ColumnStats> {
    let converter =
        StatisticsConverter::try_new(name, schema, metadata.file_metadata().schema_descr()).ok()?;
    let groups = metadata.row_groups();
    let mins = converter.row_group_mins(groups.iter()).ok()?;
    let maxes = converter.row_group_maxes(groups.iter()).ok()?;
    let maxes = nan_maxes(maxes, converter.row_group_nan_counts(groups.iter()).ok())?;
    let nulls = converter.row_group_null_counts(groups.iter()).ok()?;
    let rows = converter.row_group_row_counts(groups.iter()).ok()??;
    Some(ColumnStats {
        mins,
        maxes,
        nulls: nulls.iter().collect(),
        rows: rows.iter().collect(),
    })
}

/// The rows of each of the row groups `groups` that `filter` may match, by page, from
/// the page index (selectors per group, in the order of `groups`); `None` when the
/// file has no page index or no page can be skipped.
pub(crate) fn pages(
    filter: &Filter,
    schema: &Schema,
    metadata: &ParquetMetaData,
    groups: &[usize],
) -> Option<Vec<Vec<RowSelector>>> {
    let page_index: &dyn parquet::file::metadata::page_index::PageIndexProvider =
        metadata.page_index()?.as_ref();
    let columns: Vec<(&str, StatisticsConverter<'_>)> = filter
        .columns()
        .into_iter()
        .filter_map(|name| {
            let converter =
                StatisticsConverter::try_new(name, schema, metadata.file_metadata().schema_descr())
                    .ok()?;
            Some((name, converter))
        })
        .collect();
    let mut selectors: Vec<Vec<RowSelector>> = Vec::new();
    let mut skipped = false;
    for &group in groups {
        let mut group_selectors = Vec::new();
        let rows = usize::try_from(metadata.row_group(group).num_rows()).ok()?;
        // Each column's page starts, then their union: the fragment boundaries.
        let starts: Vec<Option<Vec<usize>>> = columns
            .iter()
            .map(|(_, converter)| {
                let locations = page_index
                    .offset_index(group, converter.parquet_column_index()?)?
                    .page_locations();
                locations
                    .iter()
                    .map(|l| usize::try_from(l.first_row_index).ok())
                    .collect()
            })
            .collect();
        let mut bounds: Vec<usize> = starts.iter().flatten().flatten().copied().collect();
        bounds.push(0);
        bounds.sort_unstable();
        bounds.dedup();
        bounds.retain(|&b| b < rows);
        let fragments = bounds.len();
        if fragments <= 1 {
            selectors.push(vec![RowSelector::select(rows)]);
            continue;
        }
        let fragment_stats = |at: usize| -> Option<ColumnStats> {
            let (_, converter) = &columns[at];
            let page_starts = starts[at].as_ref()?;
            // The page of this column each fragment lies in.
            let page_of = UInt32Array::from_iter_values(
                bounds
                    .iter()
                    .map(|b| (page_starts.partition_point(|s| s <= b).max(1) - 1) as u32),
            );
            let one = [group];
            let mins = converter.data_page_mins(page_index, one.iter()).ok()?;
            let maxes = converter.data_page_maxes(page_index, one.iter()).ok()?;
            let maxes = nan_maxes(
                maxes,
                converter.data_page_nan_counts(page_index, one.iter()).ok(),
            )?;
            let nulls = converter
                .data_page_null_counts(page_index, one.iter())
                .ok()?;
            let counts = converter
                .data_page_row_counts(page_index, metadata.row_groups(), one.iter())
                .ok()??;
            if mins.len() != page_starts.len() || counts.len() != page_starts.len() {
                return None;
            }
            let take = |a: &dyn Array| arrow_select::take::take(a, &page_of, None).ok();
            let nulls = take(&nulls)?;
            let counts = take(&counts)?;
            // A page's counts stay the page's: "no nulls" and "all null" hold for every
            // fragment of a page they hold for.
            Some(ColumnStats {
                mins: take(&mins)?,
                maxes: take(&maxes)?,
                nulls: nulls
                    .as_any()
                    .downcast_ref::<arrow_array::UInt64Array>()?
                    .iter()
                    .collect(),
                rows: counts
                    .as_any()
                    .downcast_ref::<arrow_array::UInt64Array>()?
                    .iter()
                    .collect(),
            })
        };
        let by_column: Vec<(&str, Option<ColumnStats>)> = (0..columns.len())
            .map(|at| (columns[at].0, fragment_stats(at)))
            .collect();
        let verdict = judge(filter, &|name| lookup(&by_column, name), fragments);
        for (i, start) in bounds.iter().enumerate() {
            let end = bounds.get(i + 1).copied().unwrap_or(rows);
            let selector = if verdict.maybe[i] {
                RowSelector::select(end - start)
            } else {
                skipped = true;
                RowSelector::skip(end - start)
            };
            group_selectors.push(selector);
        }
        selectors.push(group_selectors);
    }
    skipped.then_some(selectors)
}

/// Parquet leaves NaN out of float minimums and maximums, but the filter orders NaN
/// above every number (as SQL does): where a unit may hold NaN, its true maximum is NaN.
fn nan_maxes(
    maxes: arrow_array::ArrayRef,
    nans: Option<arrow_array::UInt64Array>,
) -> Option<arrow_array::ArrayRef> {
    if !maxes.data_type().is_floating() {
        return Some(maxes);
    }
    let may_hold_nan: BooleanArray = (0..maxes.len())
        .map(|i| {
            Some(
                nans.as_ref()
                    .is_none_or(|n| n.len() != maxes.len() || n.is_null(i) || n.value(i) > 0),
            )
        })
        .collect();
    let nan = arrow_cast::cast(
        &arrow_array::Float64Array::from(vec![f64::NAN; maxes.len()]),
        maxes.data_type(),
    )
    .ok()?;
    arrow_select::zip::zip(&may_hold_nan, &nan, &maxes).ok()
}

/// Statistics of a column over the units being judged, if known.
type StatsOf<'a> = dyn Fn(&str) -> Option<&'a ColumnStats> + 'a;

fn judge(filter: &Filter, leaf_stats: &StatsOf<'_>, groups: usize) -> Verdict {
    match filter {
        Filter::Const(b) => Verdict::constant(groups, *b),
        // Unknown keeps no row, but NOT unknown is unknown too: claim nothing for NOT.
        Filter::Unknown => Verdict {
            maybe: vec![false; groups],
            all: vec![true; groups],
        },
        Filter::And(all) => all.iter().fold(Verdict::constant(groups, true), |acc, c| {
            let v = judge(c, leaf_stats, groups);
            Verdict {
                maybe: and(&acc.maybe, &v.maybe),
                all: and(&acc.all, &v.all),
            }
        }),
        Filter::Or(any) => any.iter().fold(Verdict::constant(groups, false), |acc, c| {
            let v = judge(c, leaf_stats, groups);
            Verdict {
                maybe: or(&acc.maybe, &v.maybe),
                all: or(&acc.all, &v.all),
            }
        }),
        Filter::Not(inner) => {
            let v = judge(inner, leaf_stats, groups);
            Verdict {
                maybe: v.all.iter().map(|b| !b).collect(),
                all: v.maybe.iter().map(|b| !b).collect(),
            }
        }
        Filter::IsNull(name) | Filter::IsNotNull(name) => {
            let Some(s) = leaf_stats(name) else {
                return Verdict::unknown(groups);
            };
            let some_null: Vec<bool> = s.nulls.iter().map(|n| n.is_none_or(|n| n > 0)).collect();
            let all_null: Vec<bool> = s
                .nulls
                .iter()
                .zip(&s.rows)
                .map(|(n, r)| matches!((n, r), (Some(n), Some(r)) if n == r))
                .collect();
            let no_null: Vec<bool> = s.nulls.iter().map(|n| *n == Some(0)).collect();
            let not_all_null: Vec<bool> = all_null.iter().map(|b| !b).collect();
            if matches!(filter, Filter::IsNull(_)) {
                Verdict {
                    maybe: some_null,
                    all: all_null,
                }
            } else {
                Verdict {
                    maybe: not_all_null,
                    all: no_null,
                }
            }
        }
        Filter::Compare { column, op, value } => {
            let Some(s) = leaf_stats(column) else {
                return Verdict::unknown(groups);
            };
            let no_null: Vec<bool> = s.nulls.iter().map(|n| *n == Some(0)).collect();
            let (min, max) = (&s.mins, &s.maxes);
            let c = |array, op| cmp(array, op, value, column);
            let (maybe, all) = match op {
                Op::Eq => (
                    and(
                        &known(c(min, Op::LtEq), groups, true),
                        &known(c(max, Op::GtEq), groups, true),
                    ),
                    and(
                        &known(c(min, Op::Eq), groups, false),
                        &known(c(max, Op::Eq), groups, false),
                    ),
                ),
                Op::NotEq => (
                    or(
                        &known(c(min, Op::NotEq), groups, true),
                        &known(c(max, Op::NotEq), groups, true),
                    ),
                    or(
                        &known(c(max, Op::Lt), groups, false),
                        &known(c(min, Op::Gt), groups, false),
                    ),
                ),
                Op::Lt => (
                    known(c(min, Op::Lt), groups, true),
                    known(c(max, Op::Lt), groups, false),
                ),
                Op::LtEq => (
                    known(c(min, Op::LtEq), groups, true),
                    known(c(max, Op::LtEq), groups, false),
                ),
                Op::Gt => (
                    known(c(max, Op::Gt), groups, true),
                    known(c(min, Op::Gt), groups, false),
                ),
                Op::GtEq => (
                    known(c(max, Op::GtEq), groups, true),
                    known(c(min, Op::GtEq), groups, false),
                ),
            };
            Verdict {
                maybe,
                all: and(&all, &no_null),
            }
        }
        Filter::Between { column, low, high } => judge(
            &Filter::And(vec![
                Filter::Compare {
                    column: column.clone(),
                    op: Op::GtEq,
                    value: low.clone(),
                },
                Filter::Compare {
                    column: column.clone(),
                    op: Op::LtEq,
                    value: high.clone(),
                },
            ]),
            leaf_stats,
            groups,
        ),
        Filter::In { column, values } => {
            let maybe = values.iter().fold(vec![false; groups], |acc, v| {
                let eq = Filter::Compare {
                    column: column.clone(),
                    op: Op::Eq,
                    value: v.clone(),
                };
                or(&acc, &judge(&eq, leaf_stats, groups).maybe)
            });
            Verdict {
                maybe,
                all: vec![false; groups],
            }
        }
        Filter::StartsWith { column, prefix } => {
            let Some(s) = leaf_stats(column) else {
                return Verdict::unknown(groups);
            };
            let p = Value::Str(prefix.clone());
            // Rows with the prefix lie in [prefix, prefix with its last character bumped).
            let mut maybe = known(cmp(&s.maxes, Op::GtEq, &p, column), groups, true);
            if let Some(upper) = bump(prefix) {
                let below = known(
                    cmp(&s.mins, Op::Lt, &Value::Str(upper), column),
                    groups,
                    true,
                );
                maybe = and(&maybe, &below);
            }
            Verdict {
                maybe,
                all: vec![false; groups],
            }
        }
    }
}

/// The smallest string greater than every string starting with `prefix`, if any.
fn bump(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(next) = char::from_u32(last as u32 + 1) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The values an `=`/`IN` conjunct of `filter` requires of `column`, if any: a row
/// group whose bloom filter holds none of them can be skipped.
pub(crate) fn required_values<'a>(filter: &'a Filter, column: &str) -> Option<Vec<&'a Value>> {
    match filter {
        Filter::Compare {
            column: c,
            op: Op::Eq,
            value,
        } if c == column => Some(vec![value]),
        Filter::In { column: c, values } if c == column => Some(values.iter().collect()),
        Filter::And(all) => all.iter().find_map(|f| required_values(f, column)),
        _ => None,
    }
}
