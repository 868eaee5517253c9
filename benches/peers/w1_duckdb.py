#!/usr/bin/env python3
"""W1 partitioned write with DuckDB: battery telemetry -> hive-partitioned zstd Parquet.

Measures: given the battery table already in an in-memory DuckDB table
(the load is reported as load_seconds, not timed), one statement

    COPY (SELECT *, CAST(ts AS DATE) AS date FROM t) TO OUT
        (FORMAT parquet, PARTITION_BY (date, location_id), COMPRESSION zstd)

which writes OUT/date=YYYY-MM-DD/location_id=<uuid>/data_*.parquet.  The
session time zone is UTC, so the date is the UTC date of ts.

Prints one JSON line: tool, workload, rows, seconds, load_seconds, files,
bytes, version.
"""
import argparse
import json
import os
import shutil
import time

import duckdb


def parquet_files(root):
    """(count, total bytes) of the .parquet files under root."""
    sizes = [os.path.getsize(os.path.join(d, f))
             for d, _, names in os.walk(root) for f in names if f.endswith(".parquet")]
    return len(sizes), sum(sizes)


def quoted(s):
    """SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("input", help="battery telemetry .parquet (gen/gen_battery.py)")
    p.add_argument("--out", required=True, help="output dataset directory (replaced)")
    a = p.parse_args()
    shutil.rmtree(a.out, ignore_errors=True)

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")          # CAST(timestamptz AS DATE) uses the session zone
    t = time.perf_counter()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet({quoted(a.input)})")
    rows = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
    load_s = time.perf_counter() - t

    t = time.perf_counter()
    con.execute(f"COPY (SELECT *, CAST(ts AS DATE) AS date FROM t) TO {quoted(a.out)} "
                "(FORMAT parquet, PARTITION_BY (date, location_id), COMPRESSION zstd)")
    seconds = time.perf_counter() - t

    files, size = parquet_files(a.out)
    print(json.dumps({"tool": "duckdb", "workload": "W1", "rows": rows, "seconds": round(seconds, 4),
                      "load_seconds": round(load_s, 4), "files": files, "bytes": size,
                      "version": duckdb.__version__}))


if __name__ == "__main__":
    main()
