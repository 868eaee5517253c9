//! Real SIGKILLs: a child process (this binary again) runs a write or a compaction and
//! stops at its Nth mutating store request; the parent kills it there with SIGKILL, for
//! every N until the run completes. After each kill:
//! - this crate reads the table as it was before the run or as the run left it (whole
//!   files, for a plain write), never half of a file or of a change;
//! - the table's directory holds nothing but data files (no temporaries), and pyarrow,
//!   DuckDB and polars read exactly the rows this crate reads, before `recover` where
//!   no committed change is pending and always after it;
//! - `vacuum` leaves nothing of the dead run in the hidden area, and changes no reader's
//!   view; a compaction run again gives every row exactly once.
//!
//! Memory cannot outlive a process, so the backends are local disk and the in-process
//! S3 server (which the child reaches over 127.0.0.1). `cargo test --test kill [filter]`.

mod support;

use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use object_store::local::LocalFileSystem;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet_storage::compact::{Compaction, Enrichment, compact_in_place};
use parquet_storage::partition::PartitionField;
use parquet_storage::{
    ObjectStoreEngine, ScanOptions, StorageEngine, StorageEngineExt, TablePath, WriteOptions,
};
use support::faulty::FaultyStore;
use tokio::io::AsyncBufReadExt;

/// Set in a child: `{scenario} {backend} {root} {pause at}`.
const CHILD: &str = "PARQUET_STORAGE_KILL_CHILD";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    /// A partitioned write of three files, one of them large (a multipart upload).
    Write,
    /// A compaction of four NDJSON.gz sources.
    Ingest,
    /// An in-place compaction of six small files into two.
    InPlace,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Write => "write",
            Scenario::Ingest => "ingest",
            Scenario::InPlace => "in_place",
        }
    }

    fn parse(name: &str) -> Scenario {
        match name {
            "write" => Scenario::Write,
            "ingest" => Scenario::Ingest,
            _ => Scenario::InPlace,
        }
    }
}

fn table() -> TablePath {
    TablePath::new("t").unwrap()
}

/// Where a run's table lives, in a form a child process can open too.
#[derive(Debug, Clone)]
enum Root {
    Local(PathBuf),
    S3 {
        endpoint: String,
        bucket: String,
        prefix: String,
    },
}

impl Root {
    fn store(&self) -> Arc<dyn ObjectStore> {
        match self {
            // As `ObjectStoreEngine::local` makes it.
            Root::Local(dir) => Arc::new(
                LocalFileSystem::new_with_prefix(dir)
                    .unwrap()
                    .with_automatic_cleanup(true),
            ),
            Root::S3 {
                endpoint,
                bucket,
                prefix,
            } => Arc::clone(
                support::s3::builder(endpoint, bucket, prefix)
                    .build()
                    .unwrap()
                    .object_store(),
            ),
        }
    }

    fn engine_over(&self, store: Arc<dyn ObjectStore>) -> ObjectStoreEngine {
        support::short_lease(ObjectStoreEngine::new(store, "kill test"))
    }

    /// The engine the parent checks with: for local disk, as a service makes it.
    fn engine(&self) -> ObjectStoreEngine {
        match self {
            Root::Local(dir) => support::short_lease(ObjectStoreEngine::local(dir).unwrap()),
            Root::S3 { .. } => self.engine_over(self.store()),
        }
    }

    fn encode(&self) -> String {
        match self {
            Root::Local(dir) => format!("local {}", dir.display()),
            Root::S3 {
                endpoint,
                bucket,
                prefix,
            } => format!("s3 {endpoint},{bucket},{prefix}"),
        }
    }

    fn decode(kind: &str, text: &str) -> Root {
        match kind {
            "local" => Root::Local(PathBuf::from(text)),
            _ => {
                let mut parts = text.split(',');
                let mut next = || parts.next().unwrap().to_string();
                Root::S3 {
                    endpoint: next(),
                    bucket: next(),
                    prefix: next(),
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The runs

/// Rows of partition `part` of the plain write: ids from `first`, with incompressible
/// floats so that a partition of 200,000 rows makes a file of several parts.
fn write_rows(part: &str, first: i64, rows: usize) -> RecordBatch {
    let mut state = first as u64 ^ 0x9E37_79B9_7F4A_7C15;
    let floats = |state: &mut u64| {
        (0..rows)
            .map(|_| {
                *state ^= *state << 13;
                *state ^= *state >> 7;
                *state ^= *state << 17;
                f64::from_bits(*state >> 2)
            })
            .collect::<Vec<f64>>()
    };
    let mut columns: Vec<(String, ArrayRef)> = vec![
        (
            "id".into(),
            Arc::new(Int64Array::from_iter_values(first..first + rows as i64)),
        ),
        ("part".into(), Arc::new(StringArray::from(vec![part; rows]))),
    ];
    for c in 0..4 {
        columns.push((
            format!("f{c}"),
            Arc::new(Float64Array::from(floats(&mut state))),
        ));
    }
    RecordBatch::try_from_iter(columns).unwrap()
}

/// The plain write's partitions: (name, first id, rows).
const WRITE_PARTS: [(&str, i64, usize); 3] =
    [("a", 0, 300_000), ("b", 300_000, 100), ("c", 300_100, 50)];

fn fleet_compaction(store: Arc<dyn ObjectStore>) -> Compaction {
    Compaction::ndjson(store, "src/*/*/*/*.txt.gz")
        .with_enrichment(Enrichment::path_segment("district", 0))
        .with_partition_by([PartitionField::column("district")])
}

fn in_place_options() -> WriteOptions {
    WriteOptions::default()
}

/// Runs `scenario` on `engine` (whose store may stop the process).
async fn run(scenario: Scenario, engine: &ObjectStoreEngine, store: Arc<dyn ObjectStore>) {
    match scenario {
        Scenario::Write => {
            let batches: Vec<RecordBatch> = WRITE_PARTS
                .iter()
                .map(|(part, first, rows)| write_rows(part, *first, *rows))
                .collect();
            let options = WriteOptions::default()
                .with_compression(parquet_storage::Compression::None)
                .with_partition_by([PartitionField::column("part")]);
            engine
                .write_batches(&table(), batches, options)
                .await
                .unwrap();
        }
        Scenario::Ingest => {
            fleet_compaction(store).run(engine, &table()).await.unwrap();
        }
        Scenario::InPlace => {
            compact_in_place(engine, &table(), None, in_place_options())
                .await
                .unwrap();
        }
    }
}

/// What the table holds before a run, made by the parent.
async fn set_up(scenario: Scenario, root: &Root) {
    let store = root.store();
    let engine = root.engine();
    match scenario {
        Scenario::Write => {}
        Scenario::Ingest => {
            for (file, site) in ["BRCB", "BRCB", "BRCG", "BRCG"].iter().enumerate() {
                let lines: String = (0..10)
                    .map(|i| format!("{{\"id\": {}}}\n", file * 10 + i))
                    .collect();
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                std::io::Write::write_all(&mut gz, lines.as_bytes()).unwrap();
                let path = format!("src/{site}/dev{file}/2024110415/x.txt.gz");
                store
                    .put(&path.as_str().into(), gz.finish().unwrap().into())
                    .await
                    .unwrap();
            }
        }
        Scenario::InPlace => {
            for append in 0..6i64 {
                let ids: Vec<i64> = (append * 5..append * 5 + 5).collect();
                let site = if append % 2 == 0 { "BRCB" } else { "BRCG" };
                let batch = RecordBatch::try_from_iter([
                    ("id", Arc::new(Int64Array::from(ids)) as ArrayRef),
                    (
                        "site",
                        Arc::new(StringArray::from(vec![site; 5])) as ArrayRef,
                    ),
                ])
                .unwrap();
                let options =
                    WriteOptions::default().with_partition_by([PartitionField::column("site")]);
                engine.write_batch(&table(), batch, options).await.unwrap();
            }
        }
    }
}

/// The views a reader may see after a kill: (rows, sum of ids).
fn allowed_views(scenario: Scenario) -> Vec<(u64, i64)> {
    let view = |parts: &[(i64, usize)]| {
        let rows = parts.iter().map(|(_, n)| *n as u64).sum();
        let sum = parts
            .iter()
            .map(|(first, n)| (*first..*first + *n as i64).sum::<i64>())
            .sum();
        (rows, sum)
    };
    match scenario {
        // Any set of whole files: each partition's file appears whole or not at all.
        Scenario::Write => (0..8u32)
            .map(|mask| {
                let parts: Vec<(i64, usize)> = WRITE_PARTS
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, (_, first, rows))| (*first, *rows))
                    .collect();
                view(&parts)
            })
            .collect(),
        Scenario::Ingest => vec![(0, 0), view(&[(0, 40)])],
        Scenario::InPlace => vec![view(&[(0, 30)])],
    }
}

/// What the finished run leaves: every row once.
fn final_view(scenario: Scenario) -> (u64, i64) {
    *allowed_views(scenario).iter().max().unwrap()
}

/// Rows and sum of ids that this crate reads.
async fn view(engine: &ObjectStoreEngine) -> (u64, i64) {
    let batches = match engine.read_all(&table(), ScanOptions::default()).await {
        Ok(batches) => batches,
        Err(parquet_storage::Error::TableNotFound { .. }) => return (0, 0),
        Err(e) => panic!("reading the table: {e}"),
    };
    let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
    let sum = batches
        .iter()
        .flat_map(|b| {
            b.column_by_name("id")
                .unwrap()
                .as_primitive::<Int64Type>()
                .values()
                .to_vec()
        })
        .sum();
    (rows, sum)
}

// ---------------------------------------------------------------------------------------
// The child

fn child(spec: &str) {
    let mut words = spec.splitn(4, ' ');
    let scenario = Scenario::parse(words.next().unwrap());
    let kind = words.next().unwrap();
    let root = Root::decode(kind, words.next().unwrap());
    let at: usize = words.next().unwrap().parse().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = root.store();
        let pausing: Arc<dyn ObjectStore> = Arc::new(FaultyStore::pausing(Arc::clone(&store), at));
        let engine = root.engine_over(pausing);
        run(scenario, &engine, store).await;
    });
    println!("DONE");
}

// ---------------------------------------------------------------------------------------
// The parent

/// How a child run ended.
enum Ending {
    /// It stopped at the pause and was killed there.
    Killed,
    /// It finished before reaching the pause.
    Done,
}

/// Runs `scenario` in a child that stops at mutating request `at` (0: never) and is
/// killed there, or is killed `after` a while, whatever it is doing then.
async fn run_child(scenario: Scenario, root: &Root, at: usize, after: Option<Duration>) -> Ending {
    let exe = std::env::current_exe().unwrap();
    let spec = format!("{} {} {at}", scenario.name(), root.encode());
    let mut child = tokio::process::Command::new(exe)
        .env(CHILD, spec)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let ending = tokio::time::timeout(Duration::from_secs(120), async {
        let deadline = after.map(|after| tokio::time::Instant::now() + after);
        loop {
            let line = match deadline {
                Some(deadline) => {
                    match tokio::time::timeout_at(deadline, lines.next_line()).await {
                        Ok(line) => line.unwrap(),
                        Err(_) => return Ending::Killed,
                    }
                }
                None => lines.next_line().await.unwrap(),
            };
            let Some(line) = line else { break };
            if line.starts_with("PAUSED") {
                return Ending::Killed;
            }
            if line == "DONE" {
                return Ending::Done;
            }
        }
        panic!(
            "the child of {} at {at} ended without a word",
            scenario.name()
        );
    })
    .await
    .unwrap_or_else(|_| panic!("the child of {} at {at} hung", scenario.name()));
    if let Ending::Killed = ending {
        // `kill` sends SIGKILL on Unix.
        child.kill().await.unwrap();
    } else {
        let status = child.wait().await.unwrap();
        assert!(
            status.success(),
            "the child of {} at {at} failed",
            scenario.name()
        );
    }
    ending
}

/// Every file under the table's directory on local disk, relative to it.
fn files_under(dir: &FsPath) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    found.sort();
    found
}

fn copy_dir(from: &FsPath, to: &FsPath) {
    std::fs::create_dir_all(to).unwrap();
    for file in files_under(from) {
        let target = to.join(&file);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(from.join(&file), target).unwrap();
    }
}

/// A table directory to show the other readers, and what this crate read from it.
struct Snapshot {
    dir: PathBuf,
    expected: (u64, i64),
    what: String,
}

/// A fresh root for one kill of `scenario`: a directory, or a prefix on the S3 server.
fn fresh_root(
    scenario: Scenario,
    s3: Option<&support::s3::TestS3>,
    scratch: &FsPath,
    tag: &str,
) -> Root {
    match s3 {
        None => {
            let dir = scratch.join(format!("{}-{tag}", scenario.name()));
            std::fs::create_dir_all(&dir).unwrap();
            Root::Local(dir)
        }
        Some(server) => Root::S3 {
            endpoint: server.endpoint.clone(),
            bucket: server.bucket.clone(),
            prefix: format!("k{:x}", uuid::Uuid::now_v7().as_u128() & 0xffff_ffff),
        },
    }
}

/// Checks the table a killed run of `scenario` left at `root` (see the module's doc).
async fn check_after_kill(
    scenario: Scenario,
    root: &Root,
    label: &str,
    tag: &str,
    scratch: &FsPath,
    snapshots: &mut Vec<Snapshot>,
) {
    let engine = root.engine();
    let allowed = allowed_views(scenario);
    let seen = view(&engine).await;
    assert!(allowed.contains(&seen), "{label}: a reader sees {seen:?}");
    // Other readers know nothing of committed changes not yet published, so they
    // agree with this crate before `recover` only when there is none.
    let nothing_pending = !support::hidden_listing_of(&root.store(), &table())
        .await
        .iter()
        .any(|p| p.contains("/_txn/"));
    if let (Root::Local(dir), true) = (root, nothing_pending) {
        let copy = scratch
            .join("snapshots")
            .join(format!("{}-{tag}-killed", scenario.name()));
        copy_dir(&dir.join("t"), &copy);
        snapshots.push(Snapshot {
            dir: copy,
            expected: seen,
            what: format!("{label}, before recover"),
        });
    }
    engine.recover(&table()).await.unwrap();
    assert_eq!(
        view(&engine).await,
        seen,
        "{label}: recover changed the view"
    );
    if let Root::Local(dir) = root {
        // Nothing but data files, rejects and the JSON records of finished changes and
        // of the lease in the table's tree: no change is left half-done.
        let listed: Vec<String> = engine
            .list_files(&table())
            .await
            .map(|files| files.into_iter().map(|f| f.path).collect())
            .unwrap_or_default();
        for file in files_under(&dir.join("t")) {
            let in_root = format!("t/{file}");
            assert!(
                listed.contains(&in_root)
                    || file.starts_with("_rejects/")
                    || ((file.starts_with("_manifest/") || file.starts_with("_lease/"))
                        && file.ends_with(".json")),
                "{label}: {in_root} is in the table's tree but not a data file of it"
            );
        }
        let copy = scratch
            .join("snapshots")
            .join(format!("{}-{tag}-recovered", scenario.name()));
        copy_dir(&dir.join("t"), &copy);
        snapshots.push(Snapshot {
            dir: copy,
            expected: seen,
            what: format!("{label}, after recover"),
        });
    }
    // The dead run's lease runs out; then nothing of it is left.
    tokio::time::sleep(Duration::from_millis(450)).await;
    engine.vacuum(Duration::ZERO).await.unwrap();
    assert_eq!(
        view(&engine).await,
        seen,
        "{label}: vacuum changed the view"
    );
    let left: Vec<String> = support::hidden_listing_of(&root.store(), &table())
        .await
        .into_iter()
        .filter(|p| !p.contains("/_manifest/") && !p.contains("/_lease/"))
        .collect();
    assert!(left.is_empty(), "{label}: vacuum left {left:?}");
    let staged = support::staged_uploads(&root.store()).await;
    assert!(
        staged.is_empty(),
        "{label}: vacuum left staged uploads {staged:?}"
    );
    if let Root::Local(dir) = root {
        // Nor the `name#n` files of uploads in flight, which object_store lists not.
        let temporaries: Vec<String> = files_under(dir)
            .into_iter()
            .filter(|f| f.contains('#'))
            .collect();
        assert!(temporaries.is_empty(), "{label}: left {temporaries:?}");
    }
    // A compaction run again completes the change, every row once.
    if scenario != Scenario::Write {
        run(scenario, &engine, root.store()).await;
        assert_eq!(
            view(&engine).await,
            final_view(scenario),
            "{label}: run again"
        );
    }
}

/// Kills `scenario` at every mutating request on `backend`, then at moments spread
/// over a run (inside requests, too), checking after each kill; says how many.
async fn kill_at_every_step(
    scenario: Scenario,
    backend: &str,
    s3: Option<&support::s3::TestS3>,
    scratch: &FsPath,
    snapshots: &mut Vec<Snapshot>,
) -> usize {
    let mut kills = 0;
    let mut whole_run = Duration::ZERO;
    for at in 1.. {
        let label = format!("{backend} {} killed at request {at}", scenario.name());
        let tag = format!("{backend}-{at}");
        let root = fresh_root(scenario, s3, scratch, &tag);
        set_up(scenario, &root).await;
        let started = std::time::Instant::now();
        if let Ending::Done = run_child(scenario, &root, at, None).await {
            whole_run = started.elapsed();
            assert_eq!(
                view(&root.engine()).await,
                final_view(scenario),
                "{label}: done"
            );
            break;
        }
        kills += 1;
        check_after_kill(scenario, &root, &label, &tag, scratch, snapshots).await;
    }
    for tenth in [2u32, 4, 6, 8] {
        let after = whole_run * tenth / 10;
        let label = format!("{backend} {} killed after {after:?}", scenario.name());
        let tag = format!("{backend}-t{tenth}");
        let root = fresh_root(scenario, s3, scratch, &tag);
        set_up(scenario, &root).await;
        if let Ending::Killed = run_child(scenario, &root, 0, Some(after)).await {
            kills += 1;
            check_after_kill(scenario, &root, &label, &tag, scratch, snapshots).await;
        }
    }
    kills
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD) {
        child(&spec);
        return;
    }
    // `cargo test --test kill -- [filter]`; other flags of the test harness are ignored.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let mut snapshots = Vec::new();
    let mut results: BTreeMap<String, usize> = BTreeMap::new();
    runtime.block_on(async {
        let server = support::s3::TestS3::start().await;
        for backend in ["local", "s3"] {
            for scenario in [Scenario::Write, Scenario::Ingest, Scenario::InPlace] {
                let name = format!("{backend}::{}_killed_at_every_step", scenario.name());
                if filter.as_deref().is_some_and(|f| !name.contains(f)) {
                    continue;
                }
                let s3 = (backend == "s3").then_some(&server);
                let kills =
                    kill_at_every_step(scenario, backend, s3, scratch.path(), &mut snapshots).await;
                println!("test {name} ... ok ({kills} kills)");
                results.insert(name, kills);
            }
        }
    });
    if snapshots.is_empty() {
        println!("\ntest result: ok. {} passed", results.len());
        return;
    }
    match support::readers_python() {
        None => {}
        Some(python) => {
            let dirs: Vec<PathBuf> = snapshots.iter().map(|s| s.dir.clone()).collect();
            let read = support::read_with_other_readers(&python, &dirs);
            for (snapshot, readers) in snapshots.iter().zip(read) {
                for (reader, got) in readers {
                    assert_eq!(
                        got,
                        Ok(snapshot.expected),
                        "{}: {reader} reads otherwise than this crate",
                        snapshot.what
                    );
                }
            }
            println!(
                "test other_readers_read_what_this_crate_reads ... ok ({} tables, pyarrow, duckdb, polars)",
                snapshots.len()
            );
        }
    }
    println!("\ntest result: ok. {} passed", results.len() + 1);
}
