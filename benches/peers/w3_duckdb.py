#!/usr/bin/env python3
"""W3 NDJSON.gz -> Parquet compaction with DuckDB, partitioned by hiveperiod/district.

Input: the tree of gen/gen_iot_ndjson.py, ROOT/<jobsite>/<deviceid>/<hour>/<hour>.txt.gz.
Measures one statement, from listing the files to the last byte written:

    COPY (SELECT * EXCLUDE (filename),
                 <jobsite from the path> AS dstrct_code, dstrct_code AS district,
                 DATE '1970-01-01' + (heartbeat + 8 h) // 86400 AS hiveperiod,
                 <path relative to ROOT> AS source_file
          FROM read_json_auto('ROOT/*/*/*/*.txt.gz', union_by_name = true,
                              filename = true, ignore_errors = true)
          WHERE heartbeat IS NOT NULL)
    TO OUT (FORMAT parquet, PARTITION_BY (hiveperiod, district), COMPRESSION zstd)

-> OUT/hiveperiod=YYYY-MM-DD/district=<jobsite>/data_*.parquet.

Dirt: without ignore_errors (--no-ignore-errors) the first truncated line
aborts the COPY; with it each truncated line becomes an all-NULL row,
which the WHERE drops (--keep-null-rows keeps them: hiveperiod=NULL).
Type-flipped keys come out as JSON columns.  --sample-size changes the
rows read for schema inference.

Afterwards (not timed) the output is read back.  Prints one JSON line:
tool, workload, rows, seconds, files, bytes, columns, input_lines,
input_valid_rows, input_bytes_gz, input_bytes_json, ratio_vs_gz,
flip_field_types, drift_values_kept, expected_drift_values, partitions,
version; on failure tool, workload, rows, seconds, error, version and exit 1.
"""
import argparse
import json
import os
import shutil
import sys
import time

import duckdb

FLIP_FIELDS = ["payload_cnt", "fault_code_active"]
DRIFT_FIELD = "tpms_press_fl_kpa"


def parquet_files(root):
    """(count, total bytes) of the .parquet files under root."""
    sizes = [os.path.getsize(os.path.join(d, f))
             for d, _, names in os.walk(root) for f in names if f.endswith(".parquet")]
    return len(sizes), sum(sizes)


def quoted(s):
    """SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def load_manifest(root):
    path = os.path.join(root, "manifest.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("root", help="input tree (gen/gen_iot_ndjson.py --out)")
    p.add_argument("--out", required=True, help="output dataset directory (replaced)")
    p.add_argument("--no-ignore-errors", action="store_true",
                   help="leave out ignore_errors = true (the first malformed line aborts)")
    p.add_argument("--keep-null-rows", action="store_true",
                   help="keep the all-NULL rows that ignore_errors makes of malformed lines")
    p.add_argument("--sample-size", type=int,
                   help="read_json_auto sample_size (default: DuckDB's)")
    a = p.parse_args()
    shutil.rmtree(a.out, ignore_errors=True)
    root = os.path.abspath(a.root).rstrip("/")

    options = ["union_by_name = true", "filename = true"]
    if not a.no_ignore_errors:
        options.append("ignore_errors = true")
    if a.sample_size:
        options.append(f"sample_size = {int(a.sample_size)}")
    source = f"read_json_auto({quoted(os.path.join(root, '*', '*', '*', '*.txt.gz'))}, {', '.join(options)})"
    sql = f"""
    COPY (
      SELECT * EXCLUDE (filename),
             regexp_extract(filename, '([^/]+)/[^/]+/[0-9]{{10}}/[^/]+$', 1) AS dstrct_code,
             dstrct_code AS district,
             DATE '1970-01-01' + CAST((heartbeat + 28800) // 86400 AS INTEGER) AS hiveperiod,
             substr(filename, {len(root) + 2}) AS source_file
      FROM {source}
      {"" if a.keep_null_rows else "WHERE heartbeat IS NOT NULL"}
    ) TO {quoted(a.out)} (FORMAT parquet, PARTITION_BY (hiveperiod, district), COMPRESSION zstd)
    """
    tool = ("duckdb" + ("-no-ignore-errors" if a.no_ignore_errors else "")
            + ("-keep-null-rows" if a.keep_null_rows else "")
            + (f"-sample{a.sample_size}" if a.sample_size else ""))

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    t = time.perf_counter()
    try:
        con.execute(sql)
    except duckdb.Error as e:
        print(json.dumps({"tool": tool, "workload": "W3", "rows": 0,
                          "seconds": round(time.perf_counter() - t, 4), "error": str(e)[:500],
                          "version": duckdb.__version__}))
        return 1
    seconds = time.perf_counter() - t

    # not timed: what came out
    files, size = parquet_files(a.out)
    out = (f"read_parquet({quoted(os.path.join(a.out, '**', '*.parquet'))}, "
           "hive_partitioning = true, union_by_name = true)")
    query = lambda sql: con.execute(sql).fetchall()
    rows = query(f"SELECT count(*) FROM {out}")[0][0]
    types = dict(query(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {out})"))
    drift = query(f"SELECT count({DRIFT_FIELD}) FROM {out}")[0][0] if DRIFT_FIELD in types else 0
    partitions = query(f"SELECT hiveperiod, district, count(*) FROM {out} GROUP BY ALL ORDER BY ALL")
    manifest = load_manifest(root)
    in_gz = manifest.get("bytes_gz")
    print(json.dumps({
        "tool": tool, "workload": "W3", "rows": rows, "seconds": round(seconds, 4),
        "files": files, "bytes": size, "columns": len(types),
        "input_lines": manifest.get("total_lines"), "input_valid_rows": manifest.get("valid_rows"),
        "input_bytes_gz": in_gz, "input_bytes_json": manifest.get("bytes_json"),
        "ratio_vs_gz": round(size / in_gz, 3) if in_gz else None,
        "flip_field_types": {f: types.get(f) for f in FLIP_FIELDS},
        "drift_values_kept": drift,
        "expected_drift_values": manifest.get("schema_drift", {}).get("valid_rows_with_new_fields"),
        "partitions": [[str(h), d, n] for h, d, n in partitions],
        "version": duckdb.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
