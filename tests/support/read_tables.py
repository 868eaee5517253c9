"""Reads table directories the way users of pyarrow, DuckDB and polars do, and prints
one JSON line per directory: for each reader, [rows, sum of column `id`], or the error
it raised.

    python read_tables.py DIR [DIR ...]

A directory without a single `*.parquet` file is an empty table to DuckDB's and polars'
globs (they refuse an empty glob), while pyarrow still reads the directory as a dataset,
which fails if it holds anything that is not Parquet.
"""

import glob
import json
import os
import sys

import duckdb
import polars as pl
import pyarrow.compute as pc
import pyarrow.dataset as ds


def with_pyarrow(d):
    table = ds.dataset(d, format="parquet", partitioning="hive").to_table()
    ids = table.column("id") if table.num_rows else None
    return [table.num_rows, int(pc.sum(ids).as_py() or 0) if ids is not None else 0]


def with_duckdb(d):
    ((rows, total),) = duckdb.sql(
        f"SELECT count(*), coalesce(sum(id), 0) FROM read_parquet('{d}/**/*.parquet', hive_partitioning = true)"
    ).fetchall()
    return [int(rows), int(total)]


def with_polars(d):
    frame = (
        pl.scan_parquet(f"{d}/**/*.parquet", hive_partitioning=True)
        .select(pl.len().alias("rows"), pl.col("id").sum().alias("total"))
        .collect()
    )
    return [int(frame["rows"][0]), int(frame["total"][0] or 0)]


def main():
    for d in sys.argv[1:]:
        out = {"dir": d}
        has_parquet = bool(glob.glob(os.path.join(d, "**", "*.parquet"), recursive=True))
        for name, read in (("pyarrow", with_pyarrow), ("duckdb", with_duckdb), ("polars", with_polars)):
            if not os.path.isdir(d) or (not has_parquet and name != "pyarrow"):
                out[name] = [0, 0]
                continue
            try:
                out[name] = read(d)
            except Exception as e:  # a reader that fails is what the test looks for
                out[name] = f"{type(e).__name__}: {e}"
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
