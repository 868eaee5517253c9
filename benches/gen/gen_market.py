#!/usr/bin/env python3
"""Deterministic synthetic US-equity quotes and trades for one symbol-month: the W4 input.

Writes DIR/quotes.parquet, DIR/ticks.parquet (uncompressed by default; the
symbol and month are in the Parquet key-value metadata) and
DIR/manifest.json (parameters).

Events cover every NYSE trading day of --month (weekends, holidays and
13:00 early closes honoured) from 04:00 to 20:00 America/New_York:
pre-market, regular session, after-hours.  The event intensity per second
is U-shaped over the regular session, scaled by a random factor per day
and by a heavy-tailed (gamma) burst factor per second shared by quotes and
trades, so some seconds hold many events and many hold none.  Inside a
second events cluster around a few instants, and identical microsecond
timestamps occur.  Both files are sorted by (ts, seq).

    quotes.parquet  ts timestamp[us, UTC], seq int64, bid float64, ask float64,
                    bid_size int32, ask_size int32, exchange string
    ticks.parquet   ts timestamp[us, UTC], seq int64, price float64,
                    size int32, exchange string

`seq` numbers the rows of each file from 1 (as in SIP feeds) and breaks
ties between equal timestamps: open = first seq, close = last seq, the
tightest quote of a second ties to the lowest seq.

Prices follow a 1-second mid-price random walk (about 1.6 % daily
volatility in the regular session, less outside it, plus an overnight gap
per day).  Quotes are whole cents with a 1-6 cent spread in the regular
session and wider outside it; trades hit the bid, lift the ask or print
near the mid, and off-exchange (venue D) prints may carry sub-penny prices.

Standard W4 input (~10 s):

    gen_market.py --out data/market/AAPL-2024-11 --quotes 9300000 \\
        --ticks 2000000 --symbol AAPL --month 2024-11
"""
import argparse
import datetime as dt
import json
import os
import sys
import time
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

NEW_YORK = ZoneInfo("America/New_York")
TS_TYPE = pa.timestamp("us", tz="UTC")

# venue -> share of messages
QUOTE_VENUES = {"Q": 0.22, "P": 0.11, "Z": 0.09, "K": 0.08, "N": 0.08, "U": 0.07,
                "V": 0.06, "J": 0.05, "Y": 0.05, "B": 0.05, "X": 0.04, "H": 0.04,
                "A": 0.03, "M": 0.03}
TRADE_VENUES = {"D": 0.36, "Q": 0.17, "P": 0.08, "Z": 0.07, "K": 0.07, "N": 0.06,
                "U": 0.05, "V": 0.04, "J": 0.03, "Y": 0.03, "B": 0.02, "X": 0.01, "H": 0.01}

# independent random streams per part of the model
STREAM_DAYS, STREAM_PATH, STREAM_QUOTE_TIMES, STREAM_QUOTES, STREAM_TRADE_TIMES, STREAM_TRADES = range(1, 7)


# ---------------------------------------------------------------- calendar

def easter_sunday(year):
    """Gregorian Easter Sunday (Gauss's algorithm in Lichtenberg's form)."""
    k = year // 100
    m = 15 + (3 * k + 3) // 4 - (8 * k + 13) // 25
    s = 2 - (3 * k + 3) // 4
    a = year % 19
    d = (19 * a + m) % 30
    r = (d + a // 11) // 29
    full_moon = 21 + d - r
    first_sunday = 7 - (year + year // 4 + s) % 7
    march_day = full_moon + 7 - (full_moon - first_sunday) % 7
    return dt.date(year, 3, 1) + dt.timedelta(days=march_day - 1)


def weekday_in_month(year, month, weekday, nth):
    """The nth (1-based) given weekday (Mon = 0) of a month; nth = -1 is the last one."""
    if nth > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
    last = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def weekend_observed(day):
    """Saturday holidays are observed on Friday, Sunday ones on Monday."""
    shift = {5: -1, 6: 1}.get(day.weekday(), 0)
    return day + dt.timedelta(days=shift)


def nyse_holidays(year):
    """Full-day NYSE closures of a year (rules in force since 2022)."""
    days = {
        weekday_in_month(year, 1, 0, 3),                 # Martin Luther King Jr. Day
        weekday_in_month(year, 2, 0, 3),                 # Washington's Birthday
        easter_sunday(year) - dt.timedelta(days=2),      # Good Friday
        weekday_in_month(year, 5, 0, -1),                # Memorial Day
        weekend_observed(dt.date(year, 6, 19)),          # Juneteenth
        weekend_observed(dt.date(year, 7, 4)),           # Independence Day
        weekday_in_month(year, 9, 0, 1),                 # Labor Day
        weekday_in_month(year, 11, 3, 4),                # Thanksgiving
        weekend_observed(dt.date(year, 12, 25)),         # Christmas
    }
    new_year = dt.date(year, 1, 1)
    if new_year.weekday() != 5:                          # a Saturday New Year is not made up
        days.add(weekend_observed(new_year))
    return days


def nyse_early_closes(year, holidays):
    """13:00 closes: the day after Thanksgiving, and July 3 / Dec 24 on open weekdays."""
    days = {weekday_in_month(year, 11, 3, 4) + dt.timedelta(days=1)}
    for d in (dt.date(year, 7, 3), dt.date(year, 12, 24)):
        if d.weekday() < 5 and d not in holidays:
            days.add(d)
    return days


def trading_days(month):
    """[(date, close_hour)] for the NYSE trading days of YYYY-MM."""
    year, mon = (int(x) for x in month.split("-"))
    holidays = nyse_holidays(year)
    early = nyse_early_closes(year, holidays)
    out, d = [], dt.date(year, mon, 1)
    while d.month == mon:
        if d.weekday() < 5 and d not in holidays:
            out.append((d, 13 if d in early else 16))
        d += dt.timedelta(days=1)
    return out


# ---------------------------------------------------------------- session grid

def intensity(s, open_s, close_s):
    """Relative event rate per second s (epoch seconds) of one day."""
    return np.select(
        [s < open_s, s < close_s],
        [0.015 + 0.10 * np.exp(-(open_s - s) / 1800.0),                 # pre-market, rising to the open
         0.55 + 2.6 * np.exp(-(s - open_s) / 1200.0)                    # regular session: U shape
         + 1.6 * np.exp(-(close_s - s) / 1500.0)],
        0.01 + 0.20 * np.exp(-(s - close_s) / 2400.0))                  # after-hours, decaying


def session_grid(days):
    """Every session second of the month: (start_us, intensity, regular flag, day index)."""
    parts = []
    for i, (day, close_hour) in enumerate(days):
        def at(hour, minute=0):
            return int(dt.datetime(day.year, day.month, day.day, hour, minute,
                                   tzinfo=NEW_YORK).timestamp())
        open_s, close_s = at(9, 30), at(close_hour)
        s = np.arange(at(4), close_s + 4 * 3600, dtype=np.int64)
        parts.append((s * 1_000_000, intensity(s, open_s, close_s),
                      (s >= open_s) & (s < close_s), np.full(len(s), i)))
    return tuple(np.concatenate(col) for col in zip(*parts))


def clustered_times(rng, n, sec_us, rate):
    """n event timestamps (us, sorted) spread over the seconds by `rate`, and their second index.

    A second with c events has max(1, c // 6) cluster instants; each event
    falls on one of them plus an exponential delay (mean 0.4 ms), capped at
    the end of the second.
    """
    per_second = rng.multinomial(n, rate / rate.sum())
    sec = np.repeat(np.arange(len(per_second)), per_second)
    clusters = np.maximum(1, per_second // 6)
    first_cluster = np.cumsum(clusters) - clusters
    instants = rng.integers(0, 1_000_000, clusters.sum())
    pick = first_cluster[sec] + (rng.random(n) * clusters[sec]).astype(np.int64)
    offset = np.minimum(instants[pick] + rng.exponential(400.0, n).astype(np.int64), 999_999)
    ts = sec_us[sec] + offset
    order = np.argsort(ts, kind="stable")
    return ts[order], sec[order]


def venues(rng, n, shares):
    codes = np.array(list(shares))
    p = np.array(list(shares.values()))
    return codes[rng.choice(len(codes), n, p=p / p.sum())]


def lot_sizes(rng, n, outside_session):
    """Quote sizes: round lots (smaller outside the regular session), 12 % odd lots."""
    lots = 100 * rng.geometric(np.where(outside_session, 0.6, 0.35), n)
    odd = rng.integers(1, 100, n)
    return np.where(rng.random(n) < 0.12, odd, lots).astype(np.int32)


# ---------------------------------------------------------------- tables

def quotes_table(rng_t, rng, n, grid, burst, mid):
    sec_us, rate, regular, _ = grid
    ts, sec = clustered_times(rng_t, n, sec_us, rate * burst)
    reg = regular[sec]
    mid_cents = 100.0 * mid[sec] + rng.normal(0.0, 0.4, n)
    spread = np.where(reg, rng.choice([1, 2, 3, 4, 6], n, p=[0.74, 0.15, 0.06, 0.03, 0.02]),
                      1 + rng.geometric(0.18, n))
    bid = np.floor(mid_cents - spread / 2.0)
    return pa.table({
        "ts": pa.array(ts, type=pa.int64()).cast(TS_TYPE),
        "seq": pa.array(np.arange(1, n + 1, dtype=np.int64)),
        "bid": pa.array(np.round(bid / 100.0, 2)),
        "ask": pa.array(np.round((bid + spread) / 100.0, 2)),
        "bid_size": pa.array(lot_sizes(rng, n, ~reg)),
        "ask_size": pa.array(lot_sizes(rng, n, ~reg)),
        "exchange": pa.array(venues(rng, n, QUOTE_VENUES)),
    })


def trades_table(rng_t, rng, n, grid, burst, mid):
    sec_us, rate, regular, _ = grid
    ts, sec = clustered_times(rng_t, n, sec_us, rate * burst)
    mid_cents = 100.0 * mid[sec] + rng.normal(0.0, 0.4, n)
    half_spread = np.where(regular[sec], 0.5, 2.0)
    side = rng.random(n)
    cents = np.select([side < 0.44, side < 0.88],
                      [np.ceil(mid_cents + half_spread - 0.5),             # lifts the ask
                       np.floor(mid_cents - half_spread + 0.5)],           # hits the bid
                      np.round(mid_cents))                                 # inside / midpoint
    exchange = venues(rng, n, TRADE_VENUES)
    # off-exchange price improvement: sub-penny prices, 4 decimals
    subpenny = (exchange == "D") & (rng.random(n) < 0.45)
    improved = np.round((cents + rng.integers(-40, 41, n) / 100.0) / 100.0, 4)
    price = np.where(subpenny, improved, np.round(cents / 100.0, 2))
    u = rng.random(n)
    size = np.select([u < 0.52, u < 0.93],
                     [rng.integers(1, 100, n),                              # odd lots
                      100 * rng.integers(1, 6, n)],                         # 1-5 round lots
                     np.minimum(np.round(500 + 500 * rng.pareto(1.3, n)), 250_000))  # blocks
    return pa.table({
        "ts": pa.array(ts, type=pa.int64()).cast(TS_TYPE),
        "seq": pa.array(np.arange(1, n + 1, dtype=np.int64)),
        "price": pa.array(price),
        "size": pa.array(size.astype(np.int32)),
        "exchange": pa.array(exchange),
    })


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Deterministic synthetic quotes + trades (ticks) for one symbol-month -> Parquet.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", required=True, help="output directory (quotes.parquet, ticks.parquet)")
    p.add_argument("--quotes", type=int, default=9_300_000, help="number of quotes")
    p.add_argument("--ticks", type=int, default=2_000_000, help="number of trades")
    p.add_argument("--symbol", default="AAPL")
    p.add_argument("--month", default="2024-11", help="YYYY-MM")
    p.add_argument("--start-price", type=float, default=222.0)
    p.add_argument("--compression", default="none", help="Parquet compression")
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args(argv)
    started = time.perf_counter()

    days = trading_days(a.month)
    if not days:
        p.error(f"no trading days in {a.month}")
    grid = session_grid(days)
    _, rate, regular, day_index = grid

    r = np.random.default_rng([a.seed, STREAM_DAYS])
    day_factor = r.lognormal(0.0, 0.25, len(days))[day_index]
    burst = r.gamma(0.35, 1 / 0.35, len(rate)) * day_factor    # mean 1, heavy tail

    # mid-price: per-second log returns, larger in bursty seconds, a gap at each day's start
    r = np.random.default_rng([a.seed, STREAM_PATH])
    vol = np.where(regular, 0.016 / np.sqrt(23400), 0.004 / np.sqrt(3600 * 9.5))
    ret = r.normal(0.0, 1.0, len(rate)) * vol * np.sqrt(0.5 + burst / 2)
    day_start = np.r_[True, day_index[1:] != day_index[:-1]]
    ret[day_start] += r.normal(0.0, 0.008, day_start.sum())
    ret[0] = 0.0
    mid = a.start_price * np.exp(np.cumsum(ret))

    meta = {b"symbol": a.symbol.encode(), b"month": a.month.encode(),
            b"generator": b"gen_market.py", b"seed": str(a.seed).encode()}
    os.makedirs(a.out, exist_ok=True)
    quotes = quotes_table(np.random.default_rng([a.seed, STREAM_QUOTE_TIMES]),
                          np.random.default_rng([a.seed, STREAM_QUOTES]), a.quotes, grid, burst, mid)
    pq.write_table(quotes.replace_schema_metadata(meta), os.path.join(a.out, "quotes.parquet"),
                   compression=a.compression)
    del quotes
    ticks = trades_table(np.random.default_rng([a.seed, STREAM_TRADE_TIMES]),
                         np.random.default_rng([a.seed, STREAM_TRADES]), a.ticks, grid, burst, mid)
    pq.write_table(ticks.replace_schema_metadata(meta), os.path.join(a.out, "ticks.parquet"),
                   compression=a.compression)

    info = {"symbol": a.symbol, "month": a.month, "trading_days": len(days),
            "session_seconds": int(len(rate)), "quotes": a.quotes, "ticks": a.ticks, "seed": a.seed,
            "mid_first": round(float(mid[0]), 2), "mid_last": round(float(mid[-1]), 2)}
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(info, f, indent=2)
    print(json.dumps(info), f"[{time.perf_counter() - started:.1f}s]", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
