#!/usr/bin/env python3
"""W4 market aggregation with DuckDB: 1-second OHLCV bars and the tightest quote per second.

Input: DIR/ticks.parquet and DIR/quotes.parquet (gen/gen_market.py),
loaded into in-memory tables first (load_seconds, not timed).  Measured,
each query fetched as an Arrow table:
  bars   GROUP BY date_trunc('second', ts): arg_min(price, seq) AS open,
         max, min, arg_max(price, seq) AS close, sum(size), count(*);
  quotes per second arg_min(seq, (ask - bid, seq)) (ties to the lowest
         seq), then a SEMI JOIN back to quotes for the full rows.
Only seconds with events produce rows.  "seconds" = bars + quotes.

Prints one JSON line: tool, workload, rows, seconds, bars_seconds,
quotes_seconds, load_seconds, check (bars, sum_open, sum_close,
sum_volume, sum_trades, best, sum_best_seq: equal for every tool), version.
"""
import argparse
import json
import os
import time

import duckdb
import pyarrow.compute as pc

BARS = """
SELECT date_trunc('second', ts) AS sec,
       arg_min(price, seq) AS open, max(price) AS high, min(price) AS low,
       arg_max(price, seq) AS close, sum(size) AS volume, count(*) AS trade_count
FROM ticks GROUP BY sec ORDER BY sec
"""
BEST = """
SELECT date_trunc('second', q.ts) AS sec, q.*
FROM quotes q SEMI JOIN (
    SELECT arg_min(seq, (ask - bid, seq)) AS seq FROM quotes GROUP BY date_trunc('second', ts)
) b ON q.seq = b.seq
ORDER BY q.seq
"""


def quoted(s):
    """SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dir", help="directory with ticks.parquet and quotes.parquet")
    a = p.parse_args()

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    t = time.perf_counter()
    rows = 0
    for name in ("ticks", "quotes"):
        path = quoted(os.path.join(a.dir, name + ".parquet"))
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet({path})")
        rows += con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
    load_s = time.perf_counter() - t

    t0 = time.perf_counter()
    bars = con.sql(BARS).to_arrow_table()
    t1 = time.perf_counter()
    best = con.sql(BEST).to_arrow_table()
    t2 = time.perf_counter()

    total = lambda table, col: pc.sum(table[col]).as_py()
    check = {"bars": bars.num_rows, "sum_open": round(total(bars, "open"), 2),
             "sum_close": round(total(bars, "close"), 2),
             "sum_volume": int(total(bars, "volume")), "sum_trades": int(total(bars, "trade_count")),
             "best": best.num_rows, "sum_best_seq": int(total(best, "seq"))}
    print(json.dumps({"tool": "duckdb", "workload": "W4", "rows": rows,
                      "seconds": round(t2 - t0, 4), "bars_seconds": round(t1 - t0, 4),
                      "quotes_seconds": round(t2 - t1, 4), "load_seconds": round(load_s, 4),
                      "check": check, "version": duckdb.__version__}))


if __name__ == "__main__":
    main()
