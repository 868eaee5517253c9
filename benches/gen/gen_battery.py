#!/usr/bin/env python3
"""Deterministic synthetic UPS battery telemetry: the W1/W2 input.

A data-center UPS fleet: location -> UPS system -> string of batteries ->
battery (12 V VRLA blocks).  Every battery reports one sample every
--interval-s seconds for --days days from --start (UTC), so

    rows = batteries * days * 86400 / interval_s

Rows are in arrival order: one sweep over all batteries per interval
(time-major, batteries interleaved), so a writer that partitions by
date/location has to route interleaved rows.  Each battery has a fixed
phase within the interval plus < 0.4 s of jitter, which makes the last
sweep of the run spill past midnight into one more date.  The file is
written in 6-hour chunks, one row group per chunk (at most 1 Mi rows).

Columns (Arrow / Parquet):

    location_id, system_id, string_id, battery_id   string  UUID v4 text
    ts                   timestamp[us, UTC]
    voltage              float64  V     3 decimals; float ~13.5 V, sags while discharging
    current              float64  A     2 decimals; < 0 while discharging, recharge tail after
    temperature          float64  degC  1 decimal; per-location level + daily cycle
    internal_resistance  float64  mOhm  3 decimals; higher for worse state of health
    soc                  float64  %     1 decimal
    soh                  float64  %     2 decimals; slow decline

Defaults: 8 locations, strings of 40 batteries, 2 strings per system, so
1,280 batteries are 32 strings in 16 systems, 2 systems per location.
Each system has a few discharge events (tests, utility blips) that drain
its state of charge, followed by a recharge.

`--out x.csv` writes the same rows as CSV instead of Parquet.  Identical
arguments give an identical file (all randomness comes from --seed).

Standard W1/W2 input (12,902,400 rows, ~108 MB, ~10 s):

    gen_battery.py --out data/battery/battery_12m.parquet \\
        --batteries 1280 --days 7 --interval-s 60
"""
import argparse
import datetime as dt
import os
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

SCHEMA = pa.schema([
    ("location_id", pa.string()),
    ("system_id", pa.string()),
    ("string_id", pa.string()),
    ("battery_id", pa.string()),
    ("ts", pa.timestamp("us", tz="UTC")),
    ("voltage", pa.float64()),
    ("current", pa.float64()),
    ("temperature", pa.float64()),
    ("internal_resistance", pa.float64()),
    ("soc", pa.float64()),
    ("soh", pa.float64()),
])

ROW_GROUP_ROWS = 1 << 20
JITTER_US = 400_000           # per-sample arrival jitter, [0, 0.4 s)

# Independent random streams, so that changing one part of the model does
# not shift the draws of another.
STREAM_IDS, STREAM_FLEET, STREAM_EVENTS, STREAM_SAMPLES = 1, 2, 3, 4


def stream(seed, *keys):
    """A numpy Generator for one named part of the model."""
    return np.random.default_rng([seed, *keys])


def uuid4_strings(rng, n):
    """n random version-4 UUIDs as canonical 36-character strings."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40          # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80          # RFC 4122 variant
    out = []
    for row in raw:
        h = row.tobytes().hex()
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


class Fleet:
    """Topology and per-battery constants."""

    def __init__(self, a):
        nb = a.batteries
        self.n = nb
        self.n_strings = -(-nb // a.string_size)
        self.n_systems = -(-self.n_strings // a.strings_per_system)
        self.n_locations = min(a.locations, self.n_systems)

        battery = np.arange(nb)
        self.string_of = battery // a.string_size
        self.system_of = self.string_of // a.strings_per_system
        # systems are spread over the locations in contiguous blocks
        location_of_system = np.arange(self.n_systems) * self.n_locations // self.n_systems
        self.location_of = location_of_system[self.system_of]

        ids = stream(a.seed, STREAM_IDS)
        self.location_ids = pa.array(uuid4_strings(ids, self.n_locations))
        self.system_ids = pa.array(uuid4_strings(ids, self.n_systems))
        self.string_ids = pa.array(uuid4_strings(ids, self.n_strings))
        self.battery_ids = pa.array(uuid4_strings(ids, nb))

        r = stream(a.seed, STREAM_FLEET)
        self.soh0 = np.round(r.uniform(72.0, 100.0, nb), 2)       # state of health at start
        wear = 100.0 - self.soh0
        self.ir0 = 3.2 + 0.06 * wear + r.normal(0.0, 0.08, nb)     # mOhm
        self.v_offset = r.normal(0.0, 0.025, nb) - 0.002 * wear    # V
        room = r.uniform(20.0, 26.0, self.n_locations)             # degC per location
        self.t_offset = room[self.location_of] + r.normal(0.0, 0.6, nb)
        # fixed arrival phase inside the interval, evenly spread over the batteries
        interval_us = a.interval_s * 1_000_000
        self.phase_us = (battery * (interval_us // max(nb, 1))) % interval_us


def system_profiles(a, n_systems, n_steps):
    """Per system and step: discharging flag, state of charge (%), recharge current (A).

    Each system gets 1 + Poisson(1.5 per week) discharge events of 2-30
    minutes at random times.  While discharging the state of charge drains
    by 1.5 %/min (floor 5 %); afterwards it recovers by 0.75 %/min, drawing
    a recharge current that shrinks as the battery fills up.
    """
    r = stream(a.seed, STREAM_EVENTS)
    discharging = np.zeros((n_systems, n_steps), dtype=bool)
    for s in range(n_systems):
        for _ in range(1 + r.poisson(1.5 * a.days / 7)):
            first = int(r.integers(0, n_steps))
            steps = max(1, int(r.integers(120, 1800)) // a.interval_s)
            discharging[s, first:first + steps] = True

    minutes = a.interval_s / 60.0
    drain, gain = 1.5 * minutes, 0.75 * minutes
    soc = np.empty((n_systems, n_steps))
    level = np.full(n_systems, 100.0)
    for k in range(n_steps):
        d = discharging[:, k]
        level = np.where(d, np.maximum(level - drain, 5.0), np.minimum(level + gain, 100.0))
        soc[:, k] = level
    recharge = np.where(~discharging & (soc < 100.0), 2.0 + 0.12 * (100.0 - soc), 0.0)
    return discharging, soc, recharge


def chunk_batch(a, fleet, profiles, steps, t0_us, rng):
    """Record batch for the sweeps `steps` (all batteries per step, in order)."""
    discharging, soc_sys, recharge = profiles
    n_steps, nb = len(steps), fleet.n
    step = np.repeat(steps, nb)                       # time-major ...
    bat = np.tile(np.arange(nb), n_steps)             # ... batteries interleaved
    n = len(step)
    sysm = fleet.system_of[bat]

    interval_us = a.interval_s * 1_000_000
    ts = t0_us + step * interval_us + fleet.phase_us[bat] + rng.integers(0, JITTER_US, n)
    hour_of_day = (step * a.interval_s % 86400) / 3600.0
    elapsed_days = step * a.interval_s / 86400.0

    d = discharging[sysm, step]
    soc = soc_sys[sysm, step]
    rc = recharge[sysm, step]
    depth = (100.0 - soc) / 100.0
    wear = 100.0 - fleet.soh0[bat]

    float_v = 13.5 + 0.12 * (rc > 0)                  # float charge, a bit higher while recharging
    voltage = np.where(d, 12.25 - 1.1 * depth, float_v) + fleet.v_offset[bat] \
        + rng.normal(0.0, 0.008, n)
    current = np.where(d, -38.0 * (1.0 + wear / 200.0), 0.25 + rc) + rng.normal(0.0, 0.04, n)
    daily = 1.8 * np.sin(2.0 * np.pi * (hour_of_day - 9.0) / 24.0)
    temperature = fleet.t_offset[bat] + daily + 2.5 * d + rng.normal(0.0, 0.12, n)
    resistance = fleet.ir0[bat] - 0.004 * (temperature - 25.0) + rng.normal(0.0, 0.015, n)
    soc_b = np.clip(soc + rng.normal(0.0, 0.3, n) - 2.0 * depth * wear / 30.0, 0.0, 100.0)
    soh = fleet.soh0[bat] - 0.004 * elapsed_days

    return pa.record_batch([
        fleet.location_ids.take(pa.array(fleet.location_of[bat])),
        fleet.system_ids.take(pa.array(sysm)),
        fleet.string_ids.take(pa.array(fleet.string_of[bat])),
        fleet.battery_ids.take(pa.array(bat)),
        pa.array(ts, type=pa.int64()).cast(SCHEMA.field("ts").type),
        pa.array(np.round(voltage, 3)),
        pa.array(np.round(current, 2)),
        pa.array(np.round(temperature, 1)),
        pa.array(np.round(resistance, 3)),
        pa.array(np.round(soc_b, 1)),
        pa.array(np.round(soh, 2)),
    ], schema=SCHEMA)


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="Deterministic synthetic UPS battery telemetry -> Parquet or CSV.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", required=True, help="output file, .parquet or .csv")
    p.add_argument("--batteries", type=int, default=1280, help="number of batteries")
    p.add_argument("--days", type=int, default=7, help="number of days")
    p.add_argument("--interval-s", type=int, default=60, help="sample interval per battery (s)")
    p.add_argument("--start", default="2024-11-01", help="first day (UTC, YYYY-MM-DD)")
    p.add_argument("--locations", type=int, default=8, help="number of data-center locations")
    p.add_argument("--string-size", type=int, default=40, help="batteries per string")
    p.add_argument("--strings-per-system", type=int, default=2, help="strings per UPS system")
    p.add_argument("--compression", default="zstd", help="Parquet compression of the output file")
    p.add_argument("--seed", type=int, default=42)
    a = p.parse_args(argv)
    if a.interval_s <= 0 or 86400 % a.interval_s:
        p.error("--interval-s must divide 86400")
    if min(a.batteries, a.days, a.locations, a.string_size, a.strings_per_system) < 1:
        p.error("--batteries, --days, --locations, --string-size, --strings-per-system must be >= 1")
    if not a.out.endswith((".parquet", ".csv")):
        p.error("--out must end with .parquet or .csv")
    return a


def main(argv=None):
    a = parse_args(argv)
    started = time.perf_counter()
    fleet = Fleet(a)
    steps_per_day = 86400 // a.interval_s
    n_steps = steps_per_day * a.days
    profiles = system_profiles(a, fleet.n_systems, n_steps)
    day0 = dt.datetime.fromisoformat(a.start).replace(tzinfo=dt.timezone.utc)
    t0_us = int(day0.timestamp()) * 1_000_000

    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    as_parquet = a.out.endswith(".parquet")
    writer = (pq.ParquetWriter(a.out, SCHEMA, compression=a.compression) if as_parquet
              else pacsv.CSVWriter(a.out, SCHEMA))
    rows = 0
    chunk = max(1, steps_per_day // 4)                # 6 hours of sweeps per row group
    with writer:
        for i, first in enumerate(range(0, n_steps, chunk)):
            steps = np.arange(first, min(first + chunk, n_steps))
            batch = chunk_batch(a, fleet, profiles, steps, t0_us, stream(a.seed, STREAM_SAMPLES, i))
            if as_parquet:
                writer.write_batch(batch, row_group_size=ROW_GROUP_ROWS)
            else:
                writer.write_batch(batch)
            rows += batch.num_rows

    print(f"wrote {rows} rows ({fleet.n} batteries, {fleet.n_strings} strings, "
          f"{fleet.n_systems} systems, {fleet.n_locations} locations, {a.days} days @ "
          f"{a.interval_s}s) to {a.out} [{os.path.getsize(a.out)} bytes, "
          f"{time.perf_counter() - started:.1f}s]", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
