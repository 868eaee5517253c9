#!/usr/bin/env python3
"""W2 pruned read with pyarrow: one day x one location + a row filter -> matching rows.

Measures: open a W1 hive dataset (date=/location_id=) with pyarrow.dataset
and read, with a filter expression, every column of the rows where
date == DAY, location_id == LOC and either battery_id starts with PREFIX
(default) or voltage is within [LO, HI] (--voltage).  Dataset discovery is
part of each query.  The query runs --repeat times in one process:
"seconds" is the first run, "warm_seconds" the median of the others.

Prints one JSON line: tool, workload (W2-prefix or W2-voltage), rows,
seconds, warm_seconds, date, location_id, version.
"""
import argparse
import json
import os
import statistics
import time

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dataset", help="W1 output directory (hive date=/location_id=)")
    p.add_argument("--date", default="2024-11-03", help="day to read (YYYY-MM-DD)")
    p.add_argument("--location", help="location_id to read (default: the first one under --date)")
    p.add_argument("--prefix", default="a", help="battery_id prefix filter")
    p.add_argument("--voltage", nargs=2, type=float, metavar=("LO", "HI"),
                   help="filter on voltage between LO and HI instead of the prefix")
    p.add_argument("--repeat", type=int, default=5)
    a = p.parse_args()
    if a.location is None:
        day = os.path.join(a.dataset, f"date={a.date}")
        a.location = min(d for d in os.listdir(day) if d.startswith("location_id=")).split("=", 1)[1]
    return a


def query(a):
    dataset = ds.dataset(a.dataset, format="parquet", partitioning="hive")
    keep = (pc.field("date") == a.date) & (pc.field("location_id") == a.location)
    if a.voltage:
        keep &= (pc.field("voltage") >= a.voltage[0]) & (pc.field("voltage") <= a.voltage[1])
    else:
        keep &= pc.starts_with(pc.field("battery_id"), pattern=a.prefix)
    return dataset.to_table(filter=keep).num_rows


def main():
    a = parse_args()
    times = []
    for _ in range(a.repeat):
        t = time.perf_counter()
        rows = query(a)
        times.append(time.perf_counter() - t)
    print(json.dumps({"tool": "pyarrow", "workload": "W2-voltage" if a.voltage else "W2-prefix",
                      "rows": rows, "seconds": round(times[0], 4),
                      "warm_seconds": round(statistics.median(times[1:] or times), 4),
                      "date": a.date, "location_id": a.location, "version": pa.__version__}))


if __name__ == "__main__":
    main()
