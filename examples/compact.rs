//! Compacts a directory of NDJSON / NDJSON.gz files into partitioned Parquet, with a
//! progress bar.
//!
//! ```sh
//! cargo run --example compact                                  # a small generated tree
//! cargo run --release --example compact -- <input dir> [<output dir>] [<glob>]
//! ```
//!
//! The input is laid out `<site>/<device>/<hour>/<file>` (the layout of the
//! IoT generator, `benches/gen/gen_iot_ndjson.py`): `district` comes from the first path segment, `hiveperiod` is the
//! date of `heartbeat` (epoch seconds) eight hours east of UTC, and the output goes to
//! `<output dir>/fleet/hiveperiod=…/district=…/` (default: `./data/compact`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use parquet_storage::compact::{Compaction, Enrichment, Phase};
use parquet_storage::object_store::local::LocalFileSystem;
use parquet_storage::partition::PartitionField;
use parquet_storage::{ObjectStoreEngine, TablePath};

type Failure = Box<dyn std::error::Error>;

/// A small dirty tree: 2 sites × 3 devices × 3 hours × 600 lines, with a truncated
/// line and a flipped value per file and a key that appears in later hours.
fn generate(root: &Path) -> Result<(), Failure> {
    let start = 1_730_732_400i64; // 2024-11-04T15:00:00Z: the third hour crosses +8 h midnight
    for site in ["BRCB", "BRCG"] {
        for device in 0..3 {
            for hour in 0..3i64 {
                let stamp = format!("20241104{}", 15 + hour);
                let dir = root.join(site).join(format!("dev{device}")).join(&stamp);
                std::fs::create_dir_all(&dir)?;
                let mut gz = flate2::write::GzEncoder::new(
                    std::fs::File::create(dir.join(format!("{stamp}.txt.gz")))?,
                    flate2::Compression::default(),
                );
                for second in 0..600i64 {
                    let heartbeat = start + hour * 3600 + second * 6;
                    let payload = if second == 7 {
                        "\"N/A\"".to_string()
                    } else {
                        (second % 40).to_string()
                    };
                    let mut line = format!(
                        "{{\"heartbeat\": {heartbeat}, \"unitno\": \"HT{site}{device}\", \"speed\": {:.1}, \"payload_cnt\": {payload}",
                        (second % 50) as f64 * 0.7
                    );
                    if hour > 0 {
                        line.push_str(&format!(", \"tpms_kpa\": {}", 600 + second % 9));
                    }
                    line.push('}');
                    if second == 300 {
                        line.truncate(25);
                    }
                    writeln!(gz, "{line}")?;
                }
                gz.finish()?;
            }
        }
    }
    Ok(())
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let _generated;
    let input = match args.first() {
        Some(dir) => PathBuf::from(dir),
        None => {
            let dir = tempfile::tempdir()?;
            generate(dir.path())?;
            println!("generated a small tree in {}", dir.path().display());
            let path = dir.path().to_path_buf();
            _generated = dir;
            path
        }
    };
    let output = PathBuf::from(args.get(1).map_or("data/compact", String::as_str));
    let glob = args.get(2).map_or("*/*/*/*", String::as_str);
    std::fs::create_dir_all(&output)?;

    let source = Arc::new(LocalFileSystem::new_with_prefix(std::fs::canonicalize(
        &input,
    )?)?);
    let engine = ObjectStoreEngine::local(&output)?;
    let bar = ProgressBar::new(0);
    bar.set_style(ProgressStyle::with_template(
        "{prefix:>8} [{bar:40}] {pos}/{len} files  {msg}",
    )?);
    let summary = Compaction::ndjson(source, glob)
        .with_enrichment(Enrichment::path_segment("district", 0))
        .with_enrichment(Enrichment::date_of(
            "hiveperiod",
            "heartbeat",
            chrono::TimeDelta::hours(8),
        ))
        .with_enrichment(Enrichment::source_file("source_file"))
        .with_partition_by([
            PartitionField::column("hiveperiod"),
            PartitionField::column("district"),
        ])
        .with_sort_by(["unitno", "heartbeat"])
        .on_progress({
            let bar = bar.clone();
            move |p| {
                bar.set_length(p.files_total as u64);
                bar.set_position(p.files_done as u64);
                bar.set_prefix(match p.phase {
                    Phase::Infer => "infer",
                    Phase::Compact => "compact",
                    Phase::Write => "write",
                    _ => "done",
                });
                bar.set_message(format!(
                    "{} rows, {:.0} rows/s, {:.1} MB in",
                    p.rows,
                    p.rows_per_second(),
                    p.bytes_in as f64 / 1e6
                ));
            }
        })
        .run(&engine, &TablePath::new("fleet")?)
        .await?;
    bar.finish();

    println!(
        "{} files ({} failed, {} empty): {} rows in, {} out, {} rejected in {:.2} s",
        summary.files,
        summary.files_failed,
        summary.files_empty,
        summary.rows_in,
        summary.rows_out,
        summary.rows_rejected,
        summary.duration.as_secs_f64()
    );
    println!(
        "{} MB in, {} MB of JSON, {} MB of Parquet in {} files under {}",
        summary.bytes_in / 1_000_000,
        summary.bytes_json / 1_000_000,
        summary.bytes_out / 1_000_000,
        summary.output.len(),
        output.join("fleet").display()
    );
    for (column, n) in &summary.values_rejected {
        println!("  {n} values of {column} rejected");
    }
    if let Some(path) = &summary.rejects_path {
        println!("rejects: {}", output.join(path).display());
    }
    Ok(())
}
