#!/usr/bin/env python3
"""Deterministic, deliberately dirty mining-fleet IoT NDJSON.gz tree: the W3 input.

Layout (hour folders and file names are UTC hours):

    DIR/<jobsite>/<deviceid>/<YYYYMMDDHH>/<YYYYMMDDHH>.txt.gz
    DIR/manifest.json        parameters and the exact counts of injected dirt

Each file is gzip'd (level 6) newline-delimited JSON with --rows-per-hour
objects evenly spaced over the hour (3600 = one per second).  Every object
has `heartbeat` (epoch seconds), `unitno` (e.g. HT1001), `fw_version` and
sensor keys of mixed types: floats with fixed decimals, ints, bools, short
strings, some nulls.  --fields is the number of distinct keys in the whole
tree (default 179).  The sensors of a haul truck follow its haul cycle
(loading, hauling, dumping, returning): speed, engine load, payload,
suspension pressures and so on; the remaining keys are generic subsystem
channels named <subsystem>_<signal>_<NNN>.  The field catalog (names,
kinds, decimals, null shares) is a fixed function of --fields and --seed.

Injected dirt, all of it counted in manifest.json and printed:

* schema drift: four `tpms_press_*_kpa` keys exist only after a per-device
  firmware update (fw_version 4.2.1 -> 4.3.0) at the start of a later hour;
  70 % of the devices update (none when --hours is 1), the rest never do.
  Before the update the keys are absent;
* key order varies: each firmware writes its own key order (4.3.0 moves
  the gps block to the end and puts the tpms keys after payload_t), and
  25 % of the devices use a logger that writes keys alphabetically;
* type flips: the int keys `payload_cnt` and `fault_code_active` are now
  and then strings, either the number quoted ("12") or "N/A":
  round(--flip-rate * lines) flips per key, half of each kind;
* malformed lines: round(--malformed-rate * lines) lines are truncated
  JSON objects (cut at 20-90 % of their length); flips never land on them.

The device and line counts above are exact quotas drawn without
replacement, so the manifest's counts follow from the arguments.

Determinism: each file comes from random streams seeded by (seed, jobsite,
device, hour) and the dirt positions are fixed before any file is written;
gzip runs with mtime=0, so the tree is byte-identical for identical
arguments whatever --jobs is.

Standard W3 input (2 x 20 x 6 x 3600 = 864,000 lines, 240 files, ~3.2 GB
of JSON, ~300 MB gzip; a few minutes on 2 cores):

    gen_iot_ndjson.py --out data/iot/fleet --devices 20 --hours 6 \\
        --rows-per-hour 3600 --fields 179
"""
import argparse
import dataclasses
import datetime as dt
import gzip
import json
import multiprocessing as mp
import os
import sys
import time

import numpy as np
import polars as pl
import pyarrow as pa

FW_OLD, FW_NEW = "4.2.1", "4.3.0"
DRIFT_FIELDS = ["tpms_press_fl_kpa", "tpms_press_fr_kpa", "tpms_press_rl_kpa", "tpms_press_rr_kpa"]
FLIP_FIELDS = ["payload_cnt", "fault_code_active"]
FIXED_KEYS = 3                       # heartbeat, unitno, fw_version
UPDATED_SHARE, ALPHABETICAL_SHARE = 0.7, 0.25
CORNERS = ("fl", "fr", "rl", "rr")
SUSPENSION = {f"susp_press_{c}_kpa" for c in CORNERS}


@dataclasses.dataclass(frozen=True)
class Field:
    """One sensor key: kind f(loat, `spec` = decimals), i(nt), b(ool) or s(tring, `spec` = vocabulary)."""
    name: str
    kind: str
    spec: object = None
    null_share: float = 0.0


F, I, B, S = "f", "i", "b", "s"

# Named haul-truck sensors, in the order the old firmware writes them.
TRUCK_FIELDS = [
    Field("gps_lat", F, 6, 0.004), Field("gps_lon", F, 6, 0.004), Field("gps_alt_m", F, 1, 0.004),
    Field("gps_speed_kmh", F, 1, 0.004), Field("gps_heading_deg", I, None, 0.004),
    Field("gps_sats", I), Field("eng_rpm", I), Field("eng_load_pct", I),
    Field("eng_coolant_temp_c", F, 1), Field("eng_oil_press_kpa", F, 1),
    Field("eng_oil_temp_c", F, 1), Field("eng_hours", F, 1), Field("fuel_level_pct", F, 1),
    Field("fuel_rate_lph", F, 2), Field("trans_gear", S, ("N", "F1", "F2", "F3", "F4", "F5", "F6", "R")),
    Field("trans_oil_temp_c", F, 1), Field("payload_t", F, 1),
    Field("payload_state", S, ("LOADING", "HAULING", "DUMPING", "RETURNING")),
    Field("payload_cnt", I), Field("fault_code_active", I), Field("fault_count", I),
    Field("body_up", B), Field("park_brake", B), Field("ignition", B),
    Field("operator_id", S, ("OP1042", "OP2210", "OP3377", "OP0815"), 0.3),
    Field("elec_batt_volt", F, 2), Field("elec_alt_curr_a", F, 1),
    Field("hyd_oil_temp_c", F, 1), Field("hyd_press_kpa", F, 0),
    *[Field(f"brk_temp_{c}_c", F, 1) for c in CORNERS],
    *[Field(f"susp_press_{c}_kpa", F, 0) for c in CORNERS],
    Field("ambient_temp_c", F, 1, 0.01), Field("cab_temp_c", F, 1, 0.01),
    Field("auto_lube_state", S, ("IDLE", "PUMPING", "FAULT")),
]

# Slowly varying sensors: (device level low, high, random-walk amplitude, noise sd).
LEVELS = {
    "gps_alt_m": (560, 680, 6, 0.3), "eng_coolant_temp_c": (84, 94, 3, 0.2),
    "eng_oil_press_kpa": (340, 460, 15, 2), "eng_oil_temp_c": (88, 104, 3, 0.2),
    "trans_oil_temp_c": (72, 95, 3, 0.2), "elec_batt_volt": (27.4, 28.4, 0.2, 0.02),
    "elec_alt_curr_a": (18, 60, 6, 0.8), "hyd_oil_temp_c": (48, 70, 3, 0.2),
    "hyd_press_kpa": (15000, 24000, 800, 40), "ambient_temp_c": (24, 38, 1, 0.1),
    "cab_temp_c": (20.5, 24, 0.5, 0.05),
    **{f"brk_temp_{c}_c": (60, 150, 15, 0.5) for c in CORNERS},
}

# Generic channels: <subsystem>_<signal>_<NNN>.
SUBSYSTEMS = ["eng", "trans", "brk", "hyd", "susp", "elec", "ecm", "vims", "aux", "body"]
SIGNALS = [("temp", F, 1), ("press", F, 1), ("volt", F, 2), ("curr", F, 1), ("lvl", F, 1),
           ("pos", F, 2), ("rate", F, 2), ("cnt", I, None), ("code", I, None), ("sw", B, None),
           ("state", S, ("OK", "WARN", "ALRM", "OFF"))]
UNFITTED_NULL, FLAKY_NULL = 0.95, 0.02     # null shares of sensors not fitted / flaky


def field_catalog(n_fields, seed):
    """(body fields, drift fields) such that the tree has exactly n_fields distinct keys.

    The flip keys always come first; then as many named truck sensors as fit,
    then generic channels.  A generic channel is unfitted (95 % nulls) with
    probability 0.04 and flaky (2 % nulls) with probability 0.16, drawn from
    the catalog stream of --seed.
    """
    if n_fields < 10:
        raise SystemExit("--fields must be >= 10")
    n_body = n_fields - FIXED_KEYS - len(DRIFT_FIELDS)
    flip = [f for f in TRUCK_FIELDS if f.name in FLIP_FIELDS]
    named = [f for f in TRUCK_FIELDS if f.name not in FLIP_FIELDS]
    body = flip + named[:n_body - len(flip)]
    draws = np.random.default_rng([seed, 999])
    i = 0
    while len(body) < n_body:
        sig, kind, spec = SIGNALS[(7 * i + i // len(SUBSYSTEMS)) % len(SIGNALS)]
        u = draws.random()
        null = UNFITTED_NULL if u < 0.04 else FLAKY_NULL if u < 0.20 else 0.0
        body.append(Field(f"{SUBSYSTEMS[i % len(SUBSYSTEMS)]}_{sig}_{i:03d}", kind, spec, null))
        i += 1
    drift = [Field(name, F, 0) for name in DRIFT_FIELDS]
    return body, drift


@dataclasses.dataclass
class Device:
    """One truck: identity, firmware/logger behaviour and per-device sensor constants."""
    site: str
    site_index: int
    index: int
    device_id: str
    unitno: str
    update_hour: object            # hour index of the firmware update, or None
    alphabetical: bool
    cycle_s: int                   # haul cycle length (s)
    cycle_phase: int
    base_lat: float
    base_lon: float
    payload_t: float               # payload when loaded (t)
    levels: dict                   # field name -> device constant (level, counter start, code)


def make_device(seed, site, j, d, update_hour, alphabetical, fields, drift):
    r = np.random.default_rng([seed, 1, j, d])
    device_id = r.bytes(6).hex()
    cycle_s = int(r.integers(1200, 2100))
    levels = {}
    for f in fields:
        if f.name in LEVELS:
            lo, hi = LEVELS[f.name][:2]
            levels[f.name] = float(r.uniform(lo, hi))
        elif f.name in SUSPENSION:
            levels[f.name] = float(r.normal(0.0, 150.0))        # per-corner offset
        elif f.kind == F:
            levels[f.name] = float(r.uniform(10, 400))
        elif "cnt" in f.name:
            levels[f.name] = int(r.integers(0, 10000))
        elif "code" in f.name:
            levels[f.name] = int(r.integers(1, 255))
    for f in drift:
        levels[f.name] = 690.0 + float(r.normal(0.0, 15.0))    # tyre pressure (kPa)
    return Device(site, j, d, device_id, f"HT{(j + 1) * 1000 + d + 1}", update_hour, alphabetical,
                  cycle_s, int(r.integers(0, cycle_s)), -22.68 - 0.05 * j + float(r.normal(0, 0.01)),
                  117.77 + float(r.normal(0, 0.01)), 218.0 + float(r.normal(0, 6.0)), levels)


def rare_steps(rng, n, p, states):
    """Integer state in [0, states) that moves on with probability p per row."""
    return (np.cumsum(rng.random(n) < p) + rng.integers(0, states)) % states


def drifting(rng, n, level, amp, noise):
    """level + a random walk scaled to `amp` over the file + sensor noise."""
    walk = np.cumsum(rng.normal(0.0, 1.0, n)) * (amp / np.sqrt(max(n, 1)))
    return level + walk + rng.normal(0.0, noise, n)


def sensor_values(dev, hour, hb, rng, fields, with_drift, drift):
    """{key: numpy array} for one hour file of one device, plus {key: null mask}."""
    n = len(hb)
    t = hb - hb[0]
    lv = dev.levels
    # haul cycle: 0 loading, 1 hauling (loaded), 2 dumping, 3 returning (empty)
    pos = ((hb + dev.cycle_phase) % dev.cycle_s) / dev.cycle_s
    state = np.searchsorted([0.12, 0.55, 0.62], pos, side="right")
    loaded = (state == 1) | (state == 2)
    speed = np.clip(np.choose(state, [2, 32, 2, 48]) + rng.normal(0, 2.5, n), 0, None)
    track = np.cumsum(speed) / 3600.0 / 111.0 * 40          # distance driven, as an angle on the loop

    model = {
        "gps_lat": lambda: dev.base_lat + 0.02 * np.sin(track),
        "gps_lon": lambda: dev.base_lon + 0.02 * np.cos(track),
        "gps_speed_kmh": lambda: speed,
        "gps_heading_deg": lambda: np.round(np.degrees(track + np.pi / 2) % 360),
        "gps_sats": lambda: 7 + rare_steps(rng, n, 0.003, 7),
        "eng_rpm": lambda: np.round(np.where(speed > 3, 1500 + 12 * speed, 750) + rng.normal(0, 25, n)),
        "eng_load_pct": lambda: np.clip(np.round(np.choose(state, [20, 85, 20, 40])
                                                 + rng.normal(0, 4, n)), 0, 100),
        "eng_hours": lambda: 12000 + 500 * dev.index + hour + t / 3600.0,
        "fuel_level_pct": lambda: 80 - 4 * hour - 4 * t / 3600.0 + rng.normal(0, 0.2, n),
        "fuel_rate_lph": lambda: np.choose(state, [35, 150, 35, 70]) + rng.normal(0, 3, n),
        "trans_gear": lambda: np.where(speed < 1, 0, np.minimum(1 + speed // 9, 6)).astype(np.int64),
        "payload_t": lambda: np.where(loaded, dev.payload_t, 0.4) + rng.normal(0, 0.6, n),
        "payload_state": lambda: state,
        "payload_cnt": lambda: 4000 + 40 * dev.index + 2 * hour + (hb // dev.cycle_s) % 3,
        "fault_code_active": lambda: np.where(rare_steps(rng, n, 0.0008, 9) == 0,
                                              rng.choice([12, 147, 168, 190], n), 0),
        "fault_count": lambda: 3 + hour + np.cumsum(rng.random(n) < 0.0005),
        "body_up": lambda: state == 2,
        "park_brake": lambda: speed < 1.0,
        "ignition": lambda: np.ones(n, dtype=bool),
    }

    def generic(f):
        if f.name in model:
            return model[f.name]()
        if f.name in SUSPENSION:
            return np.where(loaded, 8200, 3100) + lv[f.name] + rng.normal(0, 60, n)
        if f.name in LEVELS:
            _, _, amp, noise = LEVELS[f.name]
            return drifting(rng, n, lv[f.name], amp, noise)
        if f.kind == F:
            return drifting(rng, n, lv[f.name], 0.05 * lv[f.name], 0.002 * lv[f.name])
        if "cnt" in f.name:
            return lv[f.name] + np.cumsum(rng.random(n) < 0.01)
        if "code" in f.name:
            return np.where(rare_steps(rng, n, 0.001, 6) == 0, lv[f.name], 0)
        if f.kind == I:
            return np.round(drifting(rng, n, 1000.0, 30, 0.5))
        if f.kind == B:
            return rare_steps(rng, n, 0.001, 2).astype(bool)
        return rare_steps(rng, n, 0.002, len(f.spec))       # index into the vocabulary

    values, nulls = {}, {}
    for f in fields + (drift if with_drift else []):
        if f.name in DRIFT_FIELDS:
            v = lv[f.name] + rng.normal(0, 2, n)
        else:
            v = generic(f)
        if f.kind == F:
            v = np.round(np.asarray(v, dtype=np.float64), f.spec)
        elif f.kind == I:
            v = np.asarray(v).astype(np.int64)
        elif f.kind == S:
            v = np.asarray(f.spec)[np.asarray(v)]
        values[f.name] = v
        if f.null_share:
            nulls[f.name] = rng.random(n) < f.null_share
    return values, nulls


def key_order(names, dev, new_fw):
    """The order in which this device's logger writes the keys."""
    if dev.alphabetical:
        return sorted(names), "alphabetical"
    if not new_fw:
        return names, "fw-" + FW_OLD
    rest = [k for k in names if not k.startswith("gps_") and k not in DRIFT_FIELDS]
    at = rest.index("payload_t") + 1 if "payload_t" in rest else len(rest)
    gps = [k for k in names if k.startswith("gps_")]
    return rest[:at] + [k for k in DRIFT_FIELDS if k in names] + rest[at:] + gps, "fw-" + FW_NEW


def write_hour_file(job):
    """Generate, dirty and write one hour file; returns its statistics."""
    (out, dev, hour, hour_start, rows, seed, fields, drift, truncate, flips) = job
    rng = np.random.default_rng([seed, 2, dev.site_index, dev.index, hour])
    hb = hour_start + (np.arange(rows) * 3600) // rows
    new_fw = dev.update_hour is not None and hour >= dev.update_hour
    values, nulls = sensor_values(dev, hour, hb, rng, fields, new_fw, drift)
    columns = {"heartbeat": hb.astype(np.int64), "unitno": np.full(rows, dev.unitno),
               "fw_version": np.full(rows, FW_NEW if new_fw else FW_OLD), **values}
    order, order_name = key_order(list(columns), dev, new_fw)
    table = pa.table({k: pa.array(columns[k], mask=nulls.get(k)) for k in order})
    lines = pl.from_arrow(table).write_ndjson().splitlines()

    # truncated objects
    for i in truncate:
        lines[i] = lines[i][:int(len(lines[i]) * rng.uniform(0.2, 0.9))]
    # type flips: the int value becomes a quoted number or "N/A"
    flip_counts = {}
    for name in FLIP_FIELDS:
        numeric = na = 0
        for i, as_number in flips.get(name, ()):
            old = f'"{name}":{int(columns[name][i])}'
            new = f'"{name}":"{int(columns[name][i])}"' if as_number else f'"{name}":"N/A"'
            lines[i] = lines[i].replace(old, new, 1)
            numeric += as_number
            na += not as_number
        flip_counts[name] = {"numeric_string": numeric, "na_string": na}

    data = ("\n".join(lines) + "\n").encode()
    stamp = dt.datetime.fromtimestamp(hour_start, dt.timezone.utc).strftime("%Y%m%d%H")
    folder = os.path.join(out, dev.site, dev.device_id, stamp)
    os.makedirs(folder, exist_ok=True)
    packed = gzip.compress(data, compresslevel=6, mtime=0)
    with open(os.path.join(folder, stamp + ".txt.gz"), "wb") as fh:
        fh.write(packed)
    return {"lines": rows, "malformed": len(truncate), "flips": flip_counts, "new_fw": new_fw,
            "order": order_name, "bytes_json": len(data), "bytes_gz": len(packed),
            "heartbeats": (int(hb[0]), int(hb[-1]))}


def quota(share, n):
    """round(share * n), halves up."""
    return int(share * n + 0.5)


def place_line_dirt(rng, n_files, rows, malformed_rate, flip_rate):
    """Exact dirt positions over all lines: per file, truncated line indices and
    {flip field: [(line, as_number)]}."""
    total = n_files * rows
    bad = rng.choice(total, size=min(total, quota(malformed_rate, total)), replace=False)
    valid = np.setdiff1d(np.arange(total), bad)
    truncate = [[] for _ in range(n_files)]
    for g in np.sort(bad):
        truncate[g // rows].append(int(g % rows))
    flips = [{} for _ in range(n_files)]
    for name in FLIP_FIELDS:
        lines = rng.choice(valid, size=min(len(valid), quota(flip_rate, total)), replace=False)
        as_number = np.arange(len(lines)) < len(lines) - len(lines) // 2   # half of each kind
        rng.shuffle(as_number)
        for g, num in sorted(zip(lines.tolist(), as_number.tolist())):
            flips[g // rows].setdefault(name, []).append((g % rows, bool(num)))
    return truncate, flips


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Deterministic dirty mining-fleet IoT tree: "
                    "DIR/<jobsite>/<deviceid>/<YYYYMMDDHH>/<YYYYMMDDHH>.txt.gz",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", required=True, help="output directory (created)")
    p.add_argument("--devices", type=int, default=20, help="devices per jobsite")
    p.add_argument("--hours", type=int, default=6, help="hours per device")
    p.add_argument("--rows-per-hour", type=int, default=3600, help="rows per hour file (<= 3600)")
    p.add_argument("--fields", type=int, default=179, help="distinct JSON keys in the tree")
    p.add_argument("--jobsites", default="BRCB,BRCG", help="comma-separated jobsite codes")
    p.add_argument("--start", default="2024-11-04T13", help="first hour, UTC (YYYY-MM-DDTHH)")
    p.add_argument("--flip-rate", type=float, default=1e-4, help="type flips per line and flip field")
    p.add_argument("--malformed-rate", type=float, default=1e-4, help="share of truncated lines")
    p.add_argument("--seed", type=int, default=20241104)
    p.add_argument("--jobs", type=int, default=os.cpu_count(), help="worker processes")
    a = p.parse_args(argv)
    if not 1 <= a.rows_per_hour <= 3600:
        p.error("--rows-per-hour must be in 1..3600")
    if a.devices < 1 or a.hours < 1:
        p.error("--devices and --hours must be >= 1")
    started = time.perf_counter()

    sites = [s.strip() for s in a.jobsites.split(",") if s.strip()]
    fields, drift = field_catalog(a.fields, a.seed)
    t0 = int(dt.datetime.strptime(a.start, "%Y-%m-%dT%H").replace(tzinfo=dt.timezone.utc).timestamp())

    # fleet-wide quotas: which devices update their firmware (and when), which log alphabetically
    fleet = np.random.default_rng([a.seed, 0])
    n_dev = len(sites) * a.devices
    updated = set(fleet.permutation(n_dev)[:quota(UPDATED_SHARE, n_dev) if a.hours > 1 else 0].tolist())
    alphabetical = set(fleet.permutation(n_dev)[:quota(ALPHABETICAL_SHARE, n_dev)].tolist())
    devices = []
    for j, site in enumerate(sites):
        for d in range(a.devices):
            k = j * a.devices + d
            hour = int(fleet.integers(1, a.hours)) if k in updated else None
            devices.append(make_device(a.seed, site, j, d, hour, k in alphabetical, fields, drift))

    n_files = n_dev * a.hours
    truncate, flips = place_line_dirt(fleet, n_files, a.rows_per_hour, a.malformed_rate, a.flip_rate)
    jobs = [(a.out, dev, h, t0 + 3600 * h, a.rows_per_hour, a.seed, fields, drift,
             truncate[i], flips[i])
            for i, (dev, h) in enumerate((dev, h) for dev in devices for h in range(a.hours))]
    os.makedirs(a.out, exist_ok=True)
    if a.jobs > 1:
        with mp.get_context("spawn").Pool(a.jobs) as pool:
            stats = pool.map(write_hour_file, jobs, chunksize=1)
    else:
        stats = [write_hour_file(job) for job in jobs]

    lines = sum(s["lines"] for s in stats)
    malformed = sum(s["malformed"] for s in stats)
    flip_totals = {f: {kind: sum(s["flips"][f][kind] for s in stats)
                       for kind in ("numeric_string", "na_string")} for f in FLIP_FIELDS}
    orders = {}
    for s in stats:
        orders[s["order"]] = orders.get(s["order"], 0) + 1
    drifted = [s for s in stats if s["new_fw"]]
    first_hb = min(s["heartbeats"][0] for s in stats)
    last_hb = max(s["heartbeats"][1] for s in stats)
    def hiveperiod(epoch_s):
        return (dt.datetime.fromtimestamp(epoch_s, dt.timezone.utc) + dt.timedelta(hours=8)).strftime("%Y-%m-%d")
    periods = sorted({hiveperiod(x) for s in stats for x in s["heartbeats"]})
    manifest = {
        "generator": "gen_iot_ndjson.py", "seed": a.seed,
        "params": {"jobsites": sites, "devices_per_jobsite": a.devices, "hours": a.hours,
                   "rows_per_hour": a.rows_per_hour, "fields": a.fields, "start_utc": a.start,
                   "flip_rate": a.flip_rate, "malformed_rate": a.malformed_rate},
        "files": len(stats), "total_lines": lines, "malformed_lines": malformed,
        "valid_rows": lines - malformed,
        "type_flips": flip_totals,
        "type_flips_total": sum(v["numeric_string"] + v["na_string"] for v in flip_totals.values()),
        "schema_drift": {"new_fields": DRIFT_FIELDS, "firmware_old": FW_OLD, "firmware_new": FW_NEW,
                         "devices_updated": sum(dev.update_hour is not None for dev in devices),
                         "devices_total": len(devices),
                         "files_with_new_fields": len(drifted),
                         "lines_with_new_fields": sum(s["lines"] for s in drifted),
                         "valid_rows_with_new_fields": sum(s["lines"] - s["malformed"] for s in drifted)},
        "key_orders": orders,
        "distinct_keys": FIXED_KEYS + len(fields) + len(drift),
        "bytes_json": sum(s["bytes_json"] for s in stats),
        "bytes_gz": sum(s["bytes_gz"] for s in stats),
        "heartbeat_range": [first_hb, last_hb],
        "hiveperiods_utc_plus_8h": periods,
        "devices": {f"{dev.site}/{dev.device_id}": {"unitno": dev.unitno,
                                                    "fw_update_hour_index": dev.update_hour,
                                                    "alphabetical_keys": dev.alphabetical}
                    for dev in devices},
    }
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    sd = manifest["schema_drift"]
    print(f"wrote {len(stats)} files, {lines} lines ({manifest['bytes_json']} B json, "
          f"{manifest['bytes_gz']} B gz) to {a.out} in {time.perf_counter() - started:.1f}s")
    print(f"dirt: malformed(truncated) lines={malformed}; valid rows={lines - malformed}; "
          f"type flips={manifest['type_flips_total']} {json.dumps(flip_totals)}; "
          f"drift: {sd['devices_updated']}/{len(devices)} devices updated, "
          f"{sd['lines_with_new_fields']} lines carry {len(DRIFT_FIELDS)} new fields; "
          f"key orders: {json.dumps(orders)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
