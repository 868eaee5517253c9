//! Property tests of the transformations: inference, decoding and rejection. Test-only
//! (`#[cfg(test)]` in `compact/mod.rs`): its `unwrap`s fail a test, never a caller.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_schema::{DataType, Field, Schema};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::decode::{Counts, Decoder};
use super::infer::{Inferred, JsonType};
use super::rejects::Reject;
use super::rules::BigIntegers;

fn json_type() -> impl Strategy<Value = JsonType> {
    prop_oneof![
        Just(JsonType::Null),
        Just(JsonType::Bool),
        Just(JsonType::Int),
        Just(JsonType::WideInt),
        Just(JsonType::BigInt),
        Just(JsonType::Float),
        Just(JsonType::Text),
    ]
}

/// Any JSON value a source line may hold.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[a-z0-9 \"\\\\é]{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 6, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            prop::collection::btree_map("[a-c]", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Lines of objects over a few keys, each key present or not.
fn json_lines() -> impl Strategy<Value = Vec<String>> {
    let key = prop::sample::select(vec!["a", "b", "c", "d\u{e9}", "e f"]);
    let object = prop::collection::vec((key, json_value()), 0..5).prop_map(|fields| {
        let map: Map<String, Value> = fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        Value::Object(map).to_string()
    });
    prop::collection::vec(object, 1..20)
}

fn decode_all(schema: &Schema, lines: &[Vec<u8>]) -> (Option<RecordBatch>, Vec<Reject>, Counts) {
    let mut decoder = Decoder::new(schema, 16);
    decoder.start_file("f");
    for (i, line) in lines.iter().enumerate() {
        decoder.line(i as u64 + 1, line);
    }
    let batch = decoder.flush().unwrap();
    (batch, decoder.take_rejects(), decoder.counts().clone())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Widening is a join: any order of the same types gives the same column type.
    #[test]
    fn widening_is_order_independent(
        types in prop::collection::vec(json_type(), 1..12),
        shuffle in any::<prop::sample::Index>(),
    ) {
        let fold = |ts: &[JsonType]| ts.iter().fold(JsonType::Null, |a, b| a.widen(*b));
        let mut rotated = types.clone();
        rotated.rotate_left(shuffle.index(types.len()));
        let mut reversed = types.clone();
        reversed.reverse();
        prop_assert_eq!(fold(&types), fold(&rotated));
        prop_assert_eq!(fold(&types), fold(&reversed));
        for t in &types {
            prop_assert_eq!(fold(&types).widen(*t), fold(&types));
        }
    }

    /// Every value of every line decodes under the schema inferred from the lines, in
    /// any file order, without a reject.
    #[test]
    fn every_value_decodes_under_the_inferred_schema(lines in json_lines(), split in any::<prop::sample::Index>()) {
        let at = split.index(lines.len());
        let (mut first, mut second) = (Inferred::default(), Inferred::default());
        for line in &lines[..at] { first.add_line(line.as_bytes()); }
        for line in &lines[at..] { second.add_line(line.as_bytes()); }
        let mut forward = first.clone();
        forward.merge(&second);
        let mut backward = second.clone();
        backward.merge(&first);
        let sorted = |i: &Inferred| {
            let mut t: Vec<(String, JsonType)> = i.types().map(|(n, t)| (n.to_string(), t)).collect();
            t.sort();
            t
        };
        prop_assert_eq!(sorted(&forward), sorted(&backward));

        let bytes: Vec<Vec<u8>> = lines.iter().map(|l| l.clone().into_bytes()).collect();
        let (batch, rejects, counts) = decode_all(&forward.schema(BigIntegers::Decimal), &bytes);
        prop_assert!(rejects.is_empty(), "{:?}", rejects);
        prop_assert_eq!(counts.rows_out, lines.len() as u64);
        prop_assert_eq!(batch.map(|b| b.num_rows()), Some(lines.len()));
    }

    /// Typed rows encoded as JSON lines decode back to the same values.
    #[test]
    fn decode_of_encoded_rows_round_trips(
        rows in prop::collection::vec(
            (any::<Option<i64>>(), any::<Option<f64>>().prop_map(|f| f.filter(|f| f.is_finite())),
             any::<Option<bool>>(), proptest::option::of(".{0,8}")),
            1..40),
    ) {
        let schema = Schema::new(vec![
            Field::new("i", DataType::Int64, true),
            Field::new("f", DataType::Float64, true),
            Field::new("b", DataType::Boolean, true),
            Field::new("s", DataType::Utf8, true),
        ]);
        let lines: Vec<Vec<u8>> = rows
            .iter()
            .map(|(i, f, b, s)| json!({"s": s, "b": b, "f": f, "i": i}).to_string().into_bytes())
            .collect();
        let (batch, rejects, _) = decode_all(&schema, &lines);
        prop_assert!(rejects.is_empty());
        let batch = batch.unwrap();
        let i: Vec<Option<i64>> = batch.column(0).as_primitive::<Int64Type>().iter().collect();
        let f: Vec<Option<f64>> = batch.column(1).as_primitive::<Float64Type>().iter().collect();
        let b: Vec<Option<bool>> = batch.column(2).as_boolean().iter().collect();
        let s: Vec<Option<String>> = batch.column(3).as_string::<i32>().iter().map(|v| v.map(str::to_string)).collect();
        prop_assert_eq!(i, rows.iter().map(|r| r.0).collect::<Vec<_>>());
        prop_assert_eq!(f, rows.iter().map(|r| r.1).collect::<Vec<_>>());
        prop_assert_eq!(b, rows.iter().map(|r| r.2).collect::<Vec<_>>());
        prop_assert_eq!(s, rows.iter().map(|r| r.3.clone()).collect::<Vec<_>>());
    }

    /// Dirty lines (cut short, bytes flipped, random bytes) never panic, and exactly the
    /// lines that are not one JSON object are rejected, with their own line numbers.
    #[test]
    fn dirty_lines_are_rejected_with_their_line_numbers(
        lines in json_lines(),
        damage in prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<u8>()), 0..10),
    ) {
        let mut bytes: Vec<Vec<u8>> = lines.iter().map(|l| l.clone().into_bytes()).collect();
        for (at, how, byte) in damage {
            let line = &mut bytes[at.index(lines.len())];
            let cut = at.index(line.len().max(1));
            match how {
                0 => line.truncate(cut),
                1 if !line.is_empty() => line[cut] = byte,
                2 => line.insert(cut.min(line.len()), byte),
                _ => *line = vec![byte; 3],
            }
            line.retain(|b| *b != b'\n');
        }
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Utf8, true),
            Field::new("b", DataType::Int64, true),
        ]));
        let (batch, rejects, counts) = decode_all(&schema, &bytes);
        let expected: Vec<u64> = bytes
            .iter()
            .enumerate()
            .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace))
            // Syntax decides, not range: `1E400` is JSON (kept as text in a text column,
            // rejected as a value in a number column), though serde_json's `Value`
            // refuses it.
            .filter(|(_, l)| {
                serde_json::from_slice::<std::collections::BTreeMap<String, Box<serde_json::value::RawValue>>>(l)
                    .is_err()
            })
            .map(|(i, _)| i as u64 + 1)
            .collect();
        let rejected: Vec<u64> = rejects
            .iter()
            .filter(|r| r.column.is_none())
            .map(|r| r.line.unwrap())
            .collect();
        prop_assert_eq!(&rejected, &expected);
        prop_assert_eq!(counts.rows_in, counts.rows_out + counts.rows_rejected);
        prop_assert_eq!(batch.map_or(0, |b| b.num_rows()) as u64, counts.rows_out);
    }
}

/// Decodes `files` the one-pass way: each raw ([`Decoder::raw`]) in batches of `rows`,
/// the schema inferred from what they met, then every batch typed into it. Gives the
/// schema, the typed batches, the line rejects and the counts of all files.
fn decode_raw_then_convert(
    files: &[Vec<Vec<u8>>],
    rows: usize,
) -> (Schema, Vec<RecordBatch>, Vec<Reject>, Counts) {
    let mut raw = Vec::new();
    let mut inferred = Inferred::default();
    let mut rejects = Vec::new();
    let mut counts = Counts::default();
    for (f, lines) in files.iter().enumerate() {
        let mut decoder = Decoder::raw(rows);
        decoder.start_file(&format!("f{f}"));
        let flush = |decoder: &mut Decoder, raw: &mut Vec<_>| {
            let lines = decoder.buffered_lines().to_vec();
            if let Some(batch) = decoder.flush().unwrap() {
                raw.push((f, batch, lines));
            }
        };
        for (i, line) in lines.iter().enumerate() {
            decoder.line(i as u64 + 1, line);
            if decoder.buffered_rows() >= rows {
                flush(&mut decoder, &mut raw);
            }
        }
        flush(&mut decoder, &mut raw);
        inferred.merge(&decoder.inferred().unwrap());
        rejects.extend(decoder.take_rejects());
        let c = decoder.counts();
        counts.rows_in += c.rows_in;
        counts.rows_out += c.rows_out;
        counts.rows_rejected += c.rows_rejected;
    }
    let schema = inferred.schema(BigIntegers::Decimal);
    let mut typed = Vec::new();
    for (f, batch, lines) in &raw {
        let mut decoder = Decoder::new(&schema, 16);
        decoder.start_file(&format!("f{f}"));
        typed.push(decoder.convert(batch, lines).unwrap());
        assert!(decoder.take_rejects().is_empty());
    }
    (schema.as_ref().clone(), typed, rejects, counts)
}

/// The raw JSON text of a number in any of its spellings (`12`, `-0`, `12.0`, `1.50`,
/// `1e3`, 17 digits, past `i64`), or now and then a value of another type.
pub(super) fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "-?(0|[1-9][0-9]{0,19})(\\.[0-9]{1,7})?([eE][-+]?[0-9]{1,2})?",
        1 => prop::sample::select(vec!["\"4.5\"", "true", "null", "[1.5]", "NaN", "-Infinity"])
            .prop_map(String::from),
    ]
}

/// Lines with dirt: some cut short or overwritten, some with a key repeated, some with
/// a key `n` holding numbers as [`number_text`] spells them.
fn dirty_json_lines() -> impl Strategy<Value = Vec<Vec<u8>>> {
    let damage = prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<u8>()), 0..6);
    let scalar = prop_oneof![
        Just(json!(null)),
        Just(json!(true)),
        Just(json!(7)),
        Just(json!(2.5)),
        Just(json!("s")),
    ];
    let numbers = prop::collection::vec(prop::option::of(number_text()), 20);
    let parts = (json_lines(), numbers, damage, scalar.clone(), scalar);
    parts.prop_map(|(lines, numbers, damage, first, last)| {
        let mut bytes: Vec<Vec<u8>> = (lines.into_iter().zip(numbers))
            .map(|(line, number)| match number {
                None => line.into_bytes(),
                Some(n) if line == "{}" => format!("{{\"n\":{n}}}").into_bytes(),
                Some(n) => format!("{{\"n\":{n},{}", &line[1..]).into_bytes(),
            })
            .collect();
        for (at, how, byte) in damage {
            let n = bytes.len();
            let line = &mut bytes[at.index(n)];
            let cut = at.index(line.len().max(1));
            match how {
                0 => line.truncate(cut),
                1 if !line.is_empty() => line[cut] = byte,
                2 if line.len() > 2 => {
                    // A key twice: the last value wins, both count for its type.
                    line.pop();
                    let comma = if line.ends_with(b"{") { "" } else { "," };
                    line.extend(format!("{comma}\"r\":{first},\"r\":{last}}}").into_bytes());
                }
                _ => *line = vec![byte; 3],
            }
            line.retain(|b| *b != b'\n');
        }
        bytes
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Reading each file once (raw, then typed after inference) gives exactly what
    /// inferring first and then decoding gives: the same schema, rows, values, rejects
    /// and counts, whatever the batch size and however the lines split into files.
    #[test]
    fn raw_then_typed_is_what_inferring_first_gives(
        lines in dirty_json_lines(),
        splits in prop::collection::vec(any::<prop::sample::Index>(), 0..3),
        rows in 1usize..6,
    ) {
        let mut cuts: Vec<usize> = splits.iter().map(|s| s.index(lines.len() + 1)).collect();
        cuts.extend([0, lines.len()]);
        cuts.sort_unstable();
        let files: Vec<Vec<Vec<u8>>> = cuts.windows(2).map(|w| lines[w[0]..w[1]].to_vec()).collect();

        let mut inferred = Inferred::default();
        for file in &files {
            let mut one = Inferred::default();
            file.iter().for_each(|line| one.add_line(line));
            inferred.merge(&one);
        }
        let schema = inferred.schema(BigIntegers::Decimal);
        let mut expected = Vec::new();
        let mut expected_rejects = Vec::new();
        let mut expected_counts = (0, 0, 0);
        for (f, file) in files.iter().enumerate() {
            let mut decoder = Decoder::new(&schema, 16);
            decoder.start_file(&format!("f{f}"));
            for (i, line) in file.iter().enumerate() {
                decoder.line(i as u64 + 1, line);
            }
            expected.extend(decoder.flush().unwrap());
            expected_rejects.extend(decoder.take_rejects());
            let c = decoder.counts();
            expected_counts.0 += c.rows_in;
            expected_counts.1 += c.rows_out;
            expected_counts.2 += c.rows_rejected;
        }

        let (got_schema, got, rejects, counts) = decode_raw_then_convert(&files, rows);
        prop_assert_eq!(&got_schema, schema.as_ref());
        let concat = |batches: &[RecordBatch]| {
            arrow_select::concat::concat_batches(&schema, batches).unwrap()
        };
        prop_assert_eq!(concat(&got), concat(&expected));
        prop_assert_eq!(rejects, expected_rejects);
        prop_assert_eq!((counts.rows_in, counts.rows_out, counts.rows_rejected), expected_counts);
    }
}
