#!/usr/bin/env python3
"""Runs workloads W1, W2 and W3 for parquet-storage and the peer tools side by side.

Every job is a fresh process under /usr/bin/time -v; rounds are interleaved (one run of
each tool, then the next round) so a slow moment of the machine hits every tool. Prints
a Markdown table: median seconds, rows/s, median peak RSS, output size, and each tool's
speed relative to the fastest peer.

    python3 benches/run_workloads.py --data data --rounds 3
    python3 benches/run_workloads.py --data data --rounds 1 --workloads W3

The peer scripts are benches/peers/*.py (--bench-dir DIR takes DIR/peers instead). They
need the virtualenv .venv (`python3 -m venv .venv && .venv/bin/pip install -r
benches/requirements.txt`). The Rust side is release builds of benches/workloads.rs
(`workloads`, and `workloads_mimalloc` for W3), which this script makes with cargo.

The inputs come from the generators in benches/gen (deterministic: the same arguments
give the same files). `gen` writes the standard data set into DATA (default data/, which
git ignores), skipping data sets that already exist:

    python3 benches/run_workloads.py gen --data data            # all three, a few minutes
    python3 benches/run_workloads.py gen --data data --only battery,market --force

    data/battery/battery_12m.parquet  W1/W2: 1,280 batteries x 7 days x 60 s = 12,902,400 rows
    data/iot/fleet/                   W3: 2 jobsites x 20 devices x 6 hours x 3600 rows, 179 keys
    data/market/AAPL-2024-11/         W4: 9.3M quotes + 2M trades, AAPL, November 2024

benches/gen/README.md describes the data sets and the generators' options.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys


HERE = os.path.dirname(os.path.abspath(__file__))

# The standard data set: (name, path under DATA, generator under BENCH_DIR/gen, its arguments).
STANDARD_DATA = [
    ("battery", os.path.join("battery", "battery_12m.parquet"), "gen_battery.py",
     ["--batteries", "1280", "--days", "7", "--interval-s", "60"]),
    ("iot", os.path.join("iot", "fleet"), "gen_iot_ndjson.py",
     ["--devices", "20", "--hours", "6", "--rows-per-hour", "3600", "--fields", "179"]),
    ("market", os.path.join("market", "AAPL-2024-11"), "gen_market.py",
     ["--quotes", "9300000", "--ticks", "2000000", "--symbol", "AAPL", "--month", "2024-11"]),
]


def workloads_binary(name="workloads", profile=None, checkout=None):
    """The bench program `name`: `workloads` (system allocator) or `workloads_mimalloc`,
    built with the bench profile or `profile` (Cargo.toml's `workloads`: LTO), from this
    checkout or from `checkout` (another checkout of the crate, built in its own tree)."""
    manifest = ["--manifest-path", os.path.join(checkout, "Cargo.toml")] if checkout else []
    out = subprocess.run(
        ["cargo", "bench", "--bench", name, "--no-run", "--message-format=json"] + manifest
        + (["--profile", profile] if profile else []),
        check=True, capture_output=True, text=True,
    ).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable") and msg["target"]["name"] == name:
            return msg["executable"]
    sys.exit(f"could not find the {name} binary")


def run(cmd, env=None):
    env = {**os.environ, **(env or {})}
    proc = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        return {"error": proc.stderr[-500:], "cmd": cmd}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", proc.stderr)
    result["peak_rss_mb"] = int(rss.group(1)) / 1024 if rss else None
    if wall:
        parts = [float(p) for p in wall.group(1).split(":")]
        result["process_seconds"] = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    return result


def add_common_args(ap):
    ap.add_argument("--bench-dir", default=HERE,
                    help="directory holding peers/ and gen/ (default: this script's directory)")
    ap.add_argument("--data", default="data")
    ap.add_argument("--python", default=".venv/bin/python")


def bench_dir(a):
    return a.bench_dir


def gen(argv):
    """`gen`: write the standard data set into DATA with the generators of BENCH_DIR/gen."""
    ap = argparse.ArgumentParser(prog="run_workloads.py gen",
                                 description="Generate the standard benchmark data set into DATA.")
    add_common_args(ap)
    ap.add_argument("--only", default=",".join(name for name, *_ in STANDARD_DATA),
                    help="comma-separated subset of battery,iot,market")
    ap.add_argument("--force", action="store_true", help="regenerate data sets that already exist")
    a = ap.parse_args(argv)
    wanted = set(a.only.split(","))
    unknown = wanted - {name for name, *_ in STANDARD_DATA}
    if unknown:
        ap.error(f"unknown data sets: {', '.join(sorted(unknown))}")
    for name, rel, script, args in STANDARD_DATA:
        path = os.path.join(a.data, rel)
        if name not in wanted:
            continue
        if os.path.exists(path) and not a.force:
            print(f"exists, skipped: {path}", file=sys.stderr)
            continue
        cmd = [a.python, os.path.join(bench_dir(a), "gen", script), "--out", path] + args
        print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
        subprocess.run(cmd, check=True)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["gen"]:
        return gen(argv[1:])
    ap = argparse.ArgumentParser(description="Run W1, W2 and W3 for parquet-storage and the peers; "
                                             "`run_workloads.py gen` generates the inputs.")
    add_common_args(ap)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workloads", default="W1,W2,W3", help="comma-separated subset")
    ap.add_argument("--out", help="where outputs go (default: DATA/out)")
    ap.add_argument("--baseline", help="another checkout of the crate (an earlier commit, "
                    "say): its programs run beside this one's, in the same rounds, as "
                    "'parquet-storage (baseline)' rows")
    a = ap.parse_args(argv)
    wanted = set(a.workloads.split(","))
    peers = os.path.join(bench_dir(a), "peers")
    battery = os.path.join(a.data, STANDARD_DATA[0][1])
    out = a.out or os.path.join(a.data, "out")
    ours = workloads_binary()
    # The compaction workload runs on the mimalloc build (see benches/workloads.rs).
    ours_w3 = workloads_binary("workloads_mimalloc") if "W3" in wanted else None
    ours_w3_lto = workloads_binary("workloads_mimalloc", "workloads") if "W3" in wanted else None
    w2_args = ["--date", "2024-11-03", "--prefix", "a"]
    jobs = [("W1", tool, [a.python, os.path.join(peers, f"w1_{tool}.py"), battery, "--out", os.path.join(out, f"w1_{tool}")])
            for tool in ("pyarrow", "duckdb", "polars")]
    jobs.append(("W1", "parquet-storage", [ours, "w1", battery, os.path.join(out, "w1_rust")]))
    # The write in a task on the runtime, beside a 1 ms ticker that measures how late
    # the runtime runs it (benches/workloads.rs, `Ticker`).
    jobs.append(("W1", "parquet-storage --ticker", [ours, "w1", battery, os.path.join(out, "w1_rust_ticker"), "--ticker"]))
    w2_input = os.path.join(out, "w1_pyarrow")
    jobs += [("W2", tool, [a.python, os.path.join(peers, f"w2_{tool}.py"), w2_input] + w2_args)
             for tool in ("pyarrow", "duckdb", "polars")]
    jobs.append(("W2", "parquet-storage", [ours, "w2", w2_input] + w2_args))
    fleet = os.path.join(a.data, STANDARD_DATA[1][1])
    w3 = os.path.join(peers, "w3_duckdb.py")
    jobs += [
        ("W3", "duckdb", [a.python, w3, fleet, "--out", os.path.join(out, "w3_duckdb")]),
        ("W3", "duckdb-s100", [a.python, w3, fleet, "--out", os.path.join(out, "w3_duckdb_s100"), "--sample-size", "100"]),
        ("W3", "polars", [a.python, os.path.join(peers, "w3_polars.py"), fleet, "--out", os.path.join(out, "w3_polars")]),
        ("W3", "parquet-storage", [ours_w3, "w3", fleet, "--out", os.path.join(out, "w3_rust")]),
        # Reading each source once, rows spilled to local disk until the schema is known.
        ("W3", "parquet-storage --spill-dir", [ours_w3, "w3", fleet, "--out", os.path.join(out, "w3_rust_spill"),
                                               "--spill-dir", out]),
        # Not a tool: gzip inflate + JSON parse on all cores, the floor the issue names
        # (its "files" column counts input files).
        ("W3", "floor: inflate+parse", [ours_w3, "w3-floor", fleet]),
        # The same two runs with mimalloc told not to ask for transparent huge pages
        # (docs/compaction.md, "Memory"): on hosts where THP faults compact memory
        # synchronously, that zeroing and compaction is a large share of a run's system time.
        ("W3", "parquet-storage, MIMALLOC_ALLOW_THP=0", [ours_w3, "w3", fleet, "--out", os.path.join(out, "w3_rust_nothp")],
         {"MIMALLOC_ALLOW_THP": "0"}),
        ("W3", "parquet-storage --spill-dir, MIMALLOC_ALLOW_THP=0",
         [ours_w3, "w3", fleet, "--out", os.path.join(out, "w3_rust_spill_nothp"), "--spill-dir", out],
         {"MIMALLOC_ALLOW_THP": "0"}),
        # The best of those, built as a service would ship it: Cargo.toml's `workloads`
        # profile (LTO, one codegen unit). Every other row is the plain bench profile.
        ("W3", "parquet-storage --spill-dir, MIMALLOC_ALLOW_THP=0, LTO build",
         [ours_w3_lto, "w3", fleet, "--out", os.path.join(out, "w3_rust_spill_nothp_lto"), "--spill-dir", out],
         {"MIMALLOC_ALLOW_THP": "0"}),
        # Not W3's setting (W3 infers the schema, as DuckDB does): a service that knows
        # its schema, decoding in one pass straight into it (a registry schema made from
        # the schema the default run above inferred), LTO build, THP off.
        ("W3", "parquet-storage, registry schema, MIMALLOC_ALLOW_THP=0, LTO build",
         [ours_w3_lto, "w3", fleet, "--out", os.path.join(out, "w3_rust_registry"),
          "--registry-schema", os.path.join(out, "w3_rust")],
         {"MIMALLOC_ALLOW_THP": "0"}),
        # Not a tool either: our write alone (the rows of our output above, loaded into
        # memory first, then partitioned, sorted, encoded and written as W3 writes them).
        ("W3", "part: write only", [ours_w3, "w3-write", os.path.join(out, "w3_rust"),
                                    "--out", os.path.join(out, "w3_rust_write")]),
    ]
    if a.baseline:
        base = workloads_binary(checkout=a.baseline)
        base_w3 = workloads_binary("workloads_mimalloc", checkout=a.baseline) if "W3" in wanted else None
        jobs += [
            ("W1", "parquet-storage (baseline)", [base, "w1", battery, os.path.join(out, "w1_base")]),
            ("W1", "parquet-storage --ticker (baseline)", [base, "w1", battery, os.path.join(out, "w1_base_ticker"), "--ticker"]),
            ("W2", "parquet-storage (baseline)", [base, "w2", w2_input] + w2_args),
            ("W3", "parquet-storage (baseline)", [base_w3, "w3", fleet, "--out", os.path.join(out, "w3_base")]),
            ("W3", "parquet-storage --spill-dir, MIMALLOC_ALLOW_THP=0 (baseline)",
             [base_w3, "w3", fleet, "--out", os.path.join(out, "w3_base_spill_nothp"), "--spill-dir", out],
             {"MIMALLOC_ALLOW_THP": "0"}),
        ]
    jobs = [j for j in jobs if j[0] in wanted]

    results = {}
    for round_ in range(a.rounds):
        for workload, tool, cmd, *env in jobs:
            r = run(cmd, *env)
            results.setdefault((workload, tool), []).append(r)
            print(f"round {round_ + 1} {workload} {tool}: {r.get('seconds', r.get('error'))}", file=sys.stderr)

    if wanted & {"W1", "W2"}:
        print(f"| workload | tool | rows | median s (first run) | warm s | process s | rows/s | peak RSS MB | files | output MB | speed vs fastest peer |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
    for workload in sorted(wanted & {"W1", "W2"}):
        rows = []
        for (w, tool), rs in results.items():
            ok = [r for r in rs if "error" not in r]
            if w != workload or not ok:
                continue
            med = lambda k: statistics.median([r[k] for r in ok if r.get(k) is not None]) if any(r.get(k) is not None for r in ok) else None
            rows.append((tool, ok[0].get("rows"), med("seconds"), med("warm_seconds"), med("process_seconds"),
                         med("peak_rss_mb"), ok[0].get("files"), ok[0].get("bytes")))
        peer_best = min(r[2] for r in rows if not r[0].startswith("parquet-storage"))
        for tool, n, s, warm, proc, rss, files, size in rows:
            fmt = lambda x, f="{:.3f}": f.format(x) if x is not None else ""
            print(f"| {workload} | {tool} | {n} | {fmt(s)} | {fmt(warm, '{:.4f}')} | {fmt(proc, '{:.2f}')} | "
                  f"{fmt(n / s if n and s else None, '{:,.0f}')} | {fmt(rss, '{:.0f}')} | {files or ''} | "
                  f"{fmt(size / 1e6 if size else None, '{:.1f}')} | {peer_best / s:.2f}× |")


    if "W1" in wanted:
        print_ticker(results)
    if "W3" in wanted:
        print_w3(results)


def print_ticker(results):
    """How late a 1 ms ticker on the writing runtime woke during W1, per round."""
    rows = [(tool, [r["ticker"] for r in rs if r.get("ticker")]) for (w, tool), rs in results.items()
            if w == "W1" and "--ticker" in tool]
    if not rows:
        return
    print()
    print("| build | write s | ticks | worst delay ms | p99 delay ms | median delay ms |")
    print("|---|---|---|---|---|---|")
    for tool, tickers in rows:
        secs = " / ".join(f"{r['seconds']:.2f}" for r in results[("W1", tool)] if "seconds" in r)
        col = lambda k: " / ".join(f"{t[k]:.1f}" if isinstance(t[k], float) else str(t[k]) for t in tickers)
        print(f"| {tool} | {secs} | {col('ticks')} | {col('max_delay_ms')} | {col('p99_delay_ms')} | {col('median_delay_ms')} |")


def print_w3(results):
    """W3: rows/s, peak RSS, output, and speed relative to DuckDB default and sample_size=100."""
    med = lambda rs, k: statistics.median([r[k] for r in rs if r.get(k) is not None]) if any(r.get(k) is not None for r in rs) else None
    rows = {}
    for (w, tool), rs in results.items():
        ok = [r for r in rs if "error" not in r]
        if w == "W3" and ok:
            rows[tool] = (ok[0], med(ok, "seconds"), med(ok, "peak_rss_mb"), med(ok, "process_seconds"),
                          " / ".join(f"{r['seconds']:.2f}" for r in ok))
    base = {k: rows[k][1] for k in ("duckdb", "duckdb-s100") if k in rows}
    print()
    print("| tool | rows | median s | rounds s | process s | rows/s | peak RSS MB | files | output MB | flip-field types | drift values | vs DuckDB default | vs DuckDB sample_size=100 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for tool, (r, s, rss, proc, rounds) in rows.items():
        ratio = lambda k: f"{base[k] / s:.2f}×" if k in base and s else ""
        print(f"| {tool} | {r.get('rows')} | {s:.2f} | {rounds} | {proc or 0:.1f} | {r['rows'] / s:,.0f} | {rss or 0:.0f} | {r.get('files')} | "
              f"{(r.get('bytes') or 0) / 1e6:.1f} | {r.get('flip_field_types')} | {r.get('drift_values_kept')} | {ratio('duckdb')} | {ratio('duckdb-s100')} |")


if __name__ == "__main__":
    main()
