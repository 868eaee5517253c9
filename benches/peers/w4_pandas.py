#!/usr/bin/env python3
"""W4 market aggregation with pandas: 1-second OHLCV bars and the tightest quote per second.

Input: DIR/ticks.parquet and DIR/quotes.parquet (gen/gen_market.py),
loaded into DataFrames first (load_seconds, not timed).  Measured:
  bars   ticks grouped by ts floored to the second: open (first), high,
         low, close (last), volume (sum of size), trade_count.  The rows
         are in (ts, seq) order, so first/last follow seq;
  quotes per second the quote with the smallest ask - bid, ties to the
         lowest seq (idxmin keeps the first), all quote columns.
Only seconds with events produce rows.  "seconds" = bars + quotes.

Prints one JSON line: tool, workload, rows, seconds, bars_seconds,
quotes_seconds, load_seconds, check (bars, sum_open, sum_close,
sum_volume, sum_trades, best, sum_best_seq: equal for every tool), version.
"""
import argparse
import json
import os
import time

import pandas as pd


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dir", help="directory with ticks.parquet and quotes.parquet")
    a = p.parse_args()

    t = time.perf_counter()
    ticks = pd.read_parquet(os.path.join(a.dir, "ticks.parquet"))
    quotes = pd.read_parquet(os.path.join(a.dir, "quotes.parquet"))
    load_s = time.perf_counter() - t

    t0 = time.perf_counter()
    bars = ticks.groupby(ticks["ts"].dt.floor("s"), sort=True).agg(
        open=("price", "first"), high=("price", "max"), low=("price", "min"),
        close=("price", "last"), volume=("size", "sum"), trade_count=("price", "size"))
    t1 = time.perf_counter()
    spread = quotes["ask"] - quotes["bid"]
    best_rows = spread.groupby(quotes["ts"].dt.floor("s"), sort=True).idxmin()
    best = quotes.loc[best_rows.to_numpy()]
    t2 = time.perf_counter()

    check = {"bars": len(bars), "sum_open": round(float(bars["open"].sum()), 2),
             "sum_close": round(float(bars["close"].sum()), 2),
             "sum_volume": int(bars["volume"].sum()), "sum_trades": int(bars["trade_count"].sum()),
             "best": len(best), "sum_best_seq": int(best["seq"].sum())}
    print(json.dumps({"tool": "pandas", "workload": "W4", "rows": len(ticks) + len(quotes),
                      "seconds": round(t2 - t0, 4), "bars_seconds": round(t1 - t0, 4),
                      "quotes_seconds": round(t2 - t1, 4), "load_seconds": round(load_s, 4),
                      "check": check, "version": pd.__version__}))


if __name__ == "__main__":
    main()
