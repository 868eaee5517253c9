#!/usr/bin/env python3
"""W1 partitioned write with polars: battery telemetry -> hive-partitioned zstd Parquet.

Measures: given the battery DataFrame already in memory (the load is
reported as load_seconds, not timed),

    df.with_columns(date=ts.dt.date()).write_parquet(
        OUT, partition_by=["date", "location_id"], compression="zstd")

which writes OUT/date=YYYY-MM-DD/location_id=<uuid>/*.parquet.  Unlike
pyarrow and DuckDB, polars also keeps the partition columns in the files.

Prints one JSON line: tool, workload, rows, seconds, load_seconds, files,
bytes, version.
"""
import argparse
import json
import os
import shutil
import time

import polars as pl


def parquet_files(root):
    """(count, total bytes) of the .parquet files under root."""
    sizes = [os.path.getsize(os.path.join(d, f))
             for d, _, names in os.walk(root) for f in names if f.endswith(".parquet")]
    return len(sizes), sum(sizes)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("input", help="battery telemetry .parquet (gen/gen_battery.py)")
    p.add_argument("--out", required=True, help="output dataset directory (replaced)")
    a = p.parse_args()
    shutil.rmtree(a.out, ignore_errors=True)

    t = time.perf_counter()
    df = pl.read_parquet(a.input)
    load_s = time.perf_counter() - t

    t = time.perf_counter()
    (df.with_columns(date=pl.col("ts").dt.date())      # ts is UTC, so this is the UTC date
       .write_parquet(a.out, partition_by=["date", "location_id"], compression="zstd"))
    seconds = time.perf_counter() - t

    files, size = parquet_files(a.out)
    print(json.dumps({"tool": "polars", "workload": "W1", "rows": df.height, "seconds": round(seconds, 4),
                      "load_seconds": round(load_s, 4), "files": files, "bytes": size,
                      "version": pl.__version__}))


if __name__ == "__main__":
    main()
