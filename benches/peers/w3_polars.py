#!/usr/bin/env python3
"""W3 NDJSON.gz -> Parquet compaction with polars, partitioned by hiveperiod/district.

Input: the tree of gen/gen_iot_ndjson.py.  Output
OUT/hiveperiod=YYYY-MM-DD/district=<jobsite>/*.parquet (zstd) with all JSON
keys plus dstrct_code (jobsite, from the path), hiveperiod (UTC date of
heartbeat + 8 h) and source_file (path relative to ROOT).  Measured:
everything, from listing the files to the last byte written.

--mode shim (default): the smallest change that copes with the dirt: per
    file, Python's gzip, drop the lines that do not end in "}" (truncated
    objects), pl.read_ndjson(infer_schema_length=None) on the rest, then
    pl.concat(how="diagonal_relaxed") (union of the keys; Int64 + String
    -> String) and one partitioned write_parquet.
--mode native: the plain pipeline, pl.scan_ndjson(glob, ignore_errors=True,
    include_file_paths=...) -> write_parquet(partition_by=...).  It raises
    on the first truncated line (exit 1); on a tree without them it takes
    the schema from the first file and nulls type-flipped values.

Afterwards (not timed) the output is read back.  Prints one JSON line:
tool, workload, rows, seconds, files, bytes, columns, input_lines,
input_valid_rows, input_bytes_gz, input_bytes_json, ratio_vs_gz,
flip_field_types, flip_field_nulls, drift_values_kept,
expected_drift_values, partitions, version (+ lines_dropped for the shim);
on failure tool, workload, rows, seconds, error, version and exit 1.
"""
import argparse
import glob
import gzip
import io
import json
import os
import shutil
import sys
import time

import polars as pl

FLIP_FIELDS = ["payload_cnt", "fault_code_active"]
DRIFT_FIELD = "tpms_press_fl_kpa"
JOBSITE = r"([^/]+)/[^/]+/[0-9]{10}/[^/]+$"        # <jobsite>/<deviceid>/<hour>/<file>


def parquet_files(root):
    """(count, total bytes) of the .parquet files under root."""
    sizes = [os.path.getsize(os.path.join(d, f))
             for d, _, names in os.walk(root) for f in names if f.endswith(".parquet")]
    return len(sizes), sum(sizes)


def load_manifest(root):
    path = os.path.join(root, "manifest.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


def enrich(lf):
    """Add dstrct_code, hiveperiod and the partition column district."""
    return lf.with_columns(
        dstrct_code=pl.col("source_file").str.extract(JOBSITE, 1),
        hiveperiod=pl.from_epoch(pl.col("heartbeat") + 8 * 3600, time_unit="s").dt.date(),
    ).with_columns(district=pl.col("dstrct_code"))


def write(df, out):
    df.write_parquet(out, partition_by=["hiveperiod", "district"], compression="zstd")


def native(root, out):
    lf = pl.scan_ndjson(os.path.join(root, "*", "*", "*", "*.txt.gz"), ignore_errors=True,
                        include_file_paths="source_file")
    lf = lf.with_columns(pl.col("source_file").str.strip_prefix(root + "/"))
    write(enrich(lf).collect(), out)
    return {}


def shim(root, out):
    frames, dropped = [], 0
    for path in sorted(glob.glob(os.path.join(root, "*", "*", "*", "*.txt.gz"))):
        with open(path, "rb") as fh:
            lines = gzip.decompress(fh.read()).split(b"\n")
        whole = [ln for ln in lines if ln.endswith(b"}")]
        dropped += sum(1 for ln in lines if ln) - len(whole)
        df = pl.read_ndjson(io.BytesIO(b"\n".join(whole)), infer_schema_length=None)
        frames.append(df.with_columns(source_file=pl.lit(os.path.relpath(path, root))))
    write(enrich(pl.concat(frames, how="diagonal_relaxed").lazy()).collect(), out)
    return {"lines_dropped": dropped}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("root", help="input tree (gen/gen_iot_ndjson.py --out)")
    p.add_argument("--out", required=True, help="output dataset directory (replaced)")
    p.add_argument("--mode", choices=["shim", "native"], default="shim")
    a = p.parse_args()
    shutil.rmtree(a.out, ignore_errors=True)
    root = os.path.abspath(a.root).rstrip("/")
    tool = "polars" if a.mode == "shim" else "polars-native"

    t = time.perf_counter()
    try:
        extra = (shim if a.mode == "shim" else native)(root, a.out)
    except Exception as e:          # polars raises ComputeError and others on the dirt
        print(json.dumps({"tool": tool, "workload": "W3", "rows": 0,
                          "seconds": round(time.perf_counter() - t, 4),
                          "error": f"{type(e).__name__}: {str(e)[:400]}", "version": pl.__version__}))
        return 1
    seconds = time.perf_counter() - t

    # not timed: what came out
    files, size = parquet_files(a.out)
    out = pl.scan_parquet(a.out, hive_partitioning=True, missing_columns="insert")
    schema = out.collect_schema()
    count = lambda expr: out.select(expr).collect().item()
    partitions = out.group_by("hiveperiod", "district").len().sort("hiveperiod", "district").collect().rows()
    manifest = load_manifest(root)
    in_gz = manifest.get("bytes_gz")
    result = {
        "tool": tool, "workload": "W3", "rows": count(pl.len()), "seconds": round(seconds, 4),
        "files": files, "bytes": size, "columns": len(schema),
        "input_lines": manifest.get("total_lines"), "input_valid_rows": manifest.get("valid_rows"),
        "input_bytes_gz": in_gz, "input_bytes_json": manifest.get("bytes_json"),
        "ratio_vs_gz": round(size / in_gz, 3) if in_gz else None,
        "flip_field_types": {f: str(schema.get(f)) for f in FLIP_FIELDS},
        "flip_field_nulls": {f: count(pl.col(f).null_count()) for f in FLIP_FIELDS if f in schema},
        "drift_values_kept": count(pl.col(DRIFT_FIELD).count()) if DRIFT_FIELD in schema else 0,
        "expected_drift_values": manifest.get("schema_drift", {}).get("valid_rows_with_new_fields"),
        "partitions": [[str(h), d, n] for h, d, n in partitions],
        "version": pl.__version__,
        **extra,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
