#!/usr/bin/env python3
"""W4 market aggregation with polars: 1-second OHLCV bars and the tightest quote per second.

Input: DIR/ticks.parquet and DIR/quotes.parquet (gen/gen_market.py),
loaded into DataFrames first (load_seconds, not timed).  Measured:
  bars   group_by(ts truncated to 1 s): open (first), high, low, close
         (last), volume (sum of size), trade_count.  The rows are in
         (ts, seq) order, so first/last follow seq;
  quotes per second the quote with the smallest ask - bid, ties to the
         lowest seq: filter(spread == its per-second minimum), then
         unique(second, keep="first").
Only seconds with events produce rows.  "seconds" = bars + quotes.

Prints one JSON line: tool, workload, rows, seconds, bars_seconds,
quotes_seconds, load_seconds, check (bars, sum_open, sum_close,
sum_volume, sum_trades, best, sum_best_seq: equal for every tool), version.
"""
import argparse
import json
import os
import time

import polars as pl


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dir", help="directory with ticks.parquet and quotes.parquet")
    a = p.parse_args()

    t = time.perf_counter()
    ticks = pl.read_parquet(os.path.join(a.dir, "ticks.parquet"))
    quotes = pl.read_parquet(os.path.join(a.dir, "quotes.parquet"))
    load_s = time.perf_counter() - t

    t0 = time.perf_counter()
    price = pl.col("price")
    bars = (ticks.lazy()
            .group_by(sec=pl.col("ts").dt.truncate("1s"))
            .agg(open=price.first(), high=price.max(), low=price.min(), close=price.last(),
                 volume=pl.col("size").cast(pl.Int64).sum(), trade_count=pl.len())
            .sort("sec")
            .collect())
    t1 = time.perf_counter()
    spread = pl.col("spread")
    best = (quotes.lazy()
            .with_columns(sec=pl.col("ts").dt.truncate("1s"), spread=pl.col("ask") - pl.col("bid"))
            .filter(spread == spread.min().over("sec"))
            .unique("sec", keep="first", maintain_order=True)
            .collect())
    t2 = time.perf_counter()

    check = {"bars": bars.height, "sum_open": round(bars["open"].sum(), 2),
             "sum_close": round(bars["close"].sum(), 2),
             "sum_volume": int(bars["volume"].sum()), "sum_trades": int(bars["trade_count"].sum()),
             "best": best.height, "sum_best_seq": int(best["seq"].sum())}
    print(json.dumps({"tool": "polars", "workload": "W4", "rows": ticks.height + quotes.height,
                      "seconds": round(t2 - t0, 4), "bars_seconds": round(t1 - t0, 4),
                      "quotes_seconds": round(t2 - t1, 4), "load_seconds": round(load_s, 4),
                      "check": check, "version": pl.__version__}))


if __name__ == "__main__":
    main()
