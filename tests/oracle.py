#!/usr/bin/python3
"""oracle.py HERALD WORKDIR - herald's recurrence against an independent oracle.

Writes plans (design.md's JSON) whose schedules cross DST gaps and overlaps in
Europe/London, America/New_York, Australia/Lord_Howe (30-minute shift) and
Australia/Sydney, expands every schedule with python-dateutil's rrule on naive
wall time plus zoneinfo (fold=0 is RFC 5545 §3.3.5: a gap is read with the
offset before it, an overlap means the first instant), and compares the
result, occurrence by occurrence (start and end, with their offsets), with
`herald agenda --format json`.

Then a differential run of seeded random rules (shapes herald accepts must
match dateutil exactly; a refusal must carry a message). Prints
"N passed, M failed".  Needs Debian's /usr/bin/python3 (python3-dateutil).
"""
import json
import os
import random
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

HERALD = sys.argv[1]
WORK = sys.argv[2]
FROM = "2024-06-01T00:00:00Z"
TO = "2028-01-01T00:00:00Z"
FROM_I = datetime(2024, 6, 1, tzinfo=timezone.utc)
TO_I = datetime(2028, 1, 1, tzinfo=timezone.utc)

CADENCE = {
    "daily": "FREQ=DAILY", "weekly": "FREQ=WEEKLY",
    "fortnightly": "FREQ=WEEKLY;INTERVAL=2", "monthly": "FREQ=MONTHLY",
    "quarterly": "FREQ=MONTHLY;INTERVAL=3",
    "semiannually": "FREQ=MONTHLY;INTERVAL=6", "annually": "FREQ=YEARLY",
}

passed = 0
failed = 0


def fail(msg):
    global failed
    failed += 1
    print("FAIL:", msg, file=sys.stderr)


def ok():
    global passed
    passed += 1


# ---------------------------------------------------------------- oracle

def local(s):
    return datetime.fromisoformat(s)


def duration(s):
    m = re.fullmatch(r"P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?", s)
    w, d, h, mi, sec = (int(x or 0) for x in m.groups())
    return d + 7 * w, timedelta(hours=h, minutes=mi, seconds=sec)


def to_instant(wall, zone):
    """RFC 5545 §3.3.5 via zoneinfo: fold=0 is the earlier offset in an
    overlap and the offset before the gap in a gap."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(timezone.utc)


def rfc3339(instant, zone):
    return instant.astimezone(zone).isoformat()


def walls(sched):
    """The wall times a schedule produces, in order (bounded by the window)."""
    if "at" in sched:
        return sorted(set(local(a) for a in sched["at"]))
    rule = sched.get("rrule") or CADENCE[sched["cadence"]]
    until = None
    m = re.search(r"(^|;)UNTIL=(\d{8}T\d{6})Z", rule)
    if m:
        # dateutil will not mix a UTC UNTIL with a naive start: apply it here.
        until = datetime.strptime(m.group(2), "%Y%m%dT%H%M%S").replace(tzinfo=timezone.utc)
        rule = re.sub(r"(^|;)UNTIL=[^;]*", "", rule).lstrip(";")
    zone = ZoneInfo(sched["tz"])
    out = []
    limit = TO_I.replace(tzinfo=None) + timedelta(days=2)
    start = local(sched["start"])
    dtstart, count = start, None
    if "FREQ=WEEKLY" in rule and "BYSETPOS" in rule:
        # RFC 5545 picks BYSETPOS from DTSTART's whole week; dateutil from
        # DTSTART on.  Expand from the week's start and drop what is
        # before DTSTART (COUNT then counts from DTSTART).
        wkst = re.search(r"WKST=(\w\w)", rule)
        wk = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"].index(wkst.group(1)) if wkst else 0
        if "BYDAY" not in rule:   # the default is DTSTART's weekday
            rule += ";BYDAY=" + ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][start.weekday()]
        dtstart = start - timedelta(days=(start.weekday() - wk) % 7)
        m = re.search(r"(^|;)COUNT=(\d+)", rule)
        if m:
            count = int(m.group(2))
            rule = re.sub(r"(^|;)COUNT=[^;]*", "", rule).lstrip(";")
    for w in rrulestr(rule, dtstart=dtstart):
        if w > limit or (count is not None and len(out) == count):
            break
        if w < start:
            continue
        if until and to_instant(w, zone) > until:
            break
        out.append(w)
    return out


def expand(comm_id, sched):
    zone = ZoneInfo(sched["tz"])
    until = local(sched["until"]) if "until" in sched else None
    skip = set(local(e) for e in sched.get("except", []))
    days, rest = duration(sched.get("duration", "PT30M"))
    occ = []
    for w in walls(sched):
        if until and w > until:
            break
        if w in skip:
            continue
        start = to_instant(w, zone)
        # Whole days are nominal (wall clock), the rest exact (RFC 5545).
        end = to_instant(w + timedelta(days=days), zone) + rest if days else start + rest
        if FROM_I <= start < TO_I:
            occ.append((start, comm_id, rfc3339(start, zone), rfc3339(end, zone)))
    # Sorted by start (two wall times can meet at one instant after a gap).
    occ.sort(key=lambda o: o[0])
    return [o[1:] for o in occ]


# ---------------------------------------------------------------- plans

def plan_json(plan_tz, comms):
    return {
        "plan": {"id": "ORACLE", "title": "oracle", "version": "1",
                 "owner": "Oracle <o@example.org>", "timezone": plan_tz},
        "channels": {},
        "audiences": {"all": {"name": "All", "scope": "internal"}},
        "communications": [
            {"id": cid, "topic": cid, "audiences": ["all"], "owner": "o",
             "schedule": {k: v for k, v in s.items() if k != "tz" and
                          not (k == "timezone" and v is None)}}
            for cid, s in comms],
    }


def run_herald(path):
    p = subprocess.run([HERALD, "agenda", path, "--from", FROM, "--to", TO,
                        "--format", "json"], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def compare(name, plan_tz, comms):
    path = os.path.join(WORK, name + ".json")
    with open(path, "w") as f:
        json.dump(plan_json(plan_tz, comms), f, indent=1)
    rc, out, err = run_herald(path)
    if rc != 0:
        fail(f"{name}: herald exit {rc}: {err.strip()}")
        return
    got = [(o["communication"], o["start"], o["end"]) for o in json.loads(out)]
    starts = [datetime.fromisoformat(s) for _, s, _ in got]
    if starts != sorted(starts):
        fail(f"{name}: agenda not sorted by start")
    for cid, s in comms:
        want = expand(cid, s)
        have = [g for g in got if g[0] == cid]
        if want == have:
            ok()
            continue
        diff = [(w, h) for w, h in zip(want, have) if w != h][:3]
        fail(f"{name}/{cid} {s.get('rrule') or s.get('cadence') or 'at'} "
             f"from {s.get('start')} in {s['tz']}: oracle {len(want)}, "
             f"herald {len(have)}; first differences {diff}")


# Per zone: a wall time inside the spring gap, one inside the autumn
# overlap, the dates of both changes (2025), and the Sunday ordinal they fall on.
ZONES = {
    "Europe/London": ("01:30", "2025-03-30", "01:30", "2025-10-26", "-1SU"),
    "America/New_York": ("02:30", "2025-03-09", "01:30", "2025-11-02", "2SU"),
    "Australia/Lord_Howe": ("02:15", "2025-10-05", "01:45", "2025-04-06", "1SU"),
    "Australia/Sydney": ("02:30", "2025-10-05", "02:30", "2025-04-06", "1SU"),
}


def day(d, delta):
    return (datetime.fromisoformat(d) + timedelta(days=delta)).date().isoformat()


def zone_cases(z):
    gt, gd, ot, od, ordinal = ZONES[z]
    g = f"{gd}T{gt}"
    o = f"{od}T{ot}"
    first_gap = day(gd, -3) + "T" + gt
    until_utc = to_instant(local(day(gd, 21) + "T" + gt), ZoneInfo(z))
    return [
        ("GAP-DAILY", {"cadence": "daily", "start": first_gap,
                       "until": day(gd, 6) + "T" + gt}),
        ("OVL-DAILY", {"cadence": "daily", "start": day(od, -3) + "T" + ot,
                       "until": day(od, 6) + "T" + ot, "duration": "PT2H"}),
        ("GAP-WEEKLY-SUN", {"rrule": "FREQ=WEEKLY;BYDAY=SU", "start": day(gd, -14) + "T" + gt}),
        ("GAP-ORDINAL", {"rrule": f"FREQ=MONTHLY;BYDAY={ordinal}", "start": day(gd, -60)[:8] + "01T" + gt}),
        ("SETPOS-LAST-SUN", {"rrule": "FREQ=MONTHLY;BYDAY=SA,SU;BYSETPOS=-1", "start": "2025-01-01T" + gt}),
        ("SETPOS-LAST-WEEKDAY", {"rrule": "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
                                 "start": "2025-01-31T" + ot, "duration": "P1D"}),
        ("MONTHLY-31", {"cadence": "monthly", "start": "2025-01-31T" + gt}),
        ("BYMONTHDAY-31", {"rrule": "FREQ=MONTHLY;BYMONTHDAY=31", "start": "2025-01-31T09:00"}),
        ("BYMONTHDAY-LAST", {"rrule": "FREQ=MONTHLY;BYMONTHDAY=-1", "start": "2025-01-31T17:00"}),
        ("COUNT", {"rrule": "FREQ=DAILY;COUNT=10", "start": day(gd, -4) + "T" + gt}),
        ("COUNT-OVL", {"rrule": "FREQ=DAILY;INTERVAL=2;COUNT=6", "start": day(od, -5) + "T" + ot}),
        ("UNTIL", {"rrule": "FREQ=WEEKLY;UNTIL=" + until_utc.strftime("%Y%m%dT%H%M%SZ"),
                   "start": day(gd, -14) + "T" + gt}),
        ("EXCEPT", {"cadence": "daily", "start": day(gd, -2) + "T" + gt,
                    "until": day(gd, 4) + "T" + gt,
                    "except": [g, day(gd, 2) + "T" + gt]}),
        ("AT", {"at": [g, o, "2026-01-15T09:00", day(gd, 365) + "T" + gt],
                "duration": "PT45M"}),
        ("AT-DAY", {"at": [day(gd, -1) + "T" + gt, day(od, -1) + "T" + ot], "duration": "P1DT1H"}),
        ("FORTNIGHTLY", {"cadence": "fortnightly", "start": day(gd, -7) + "T" + gt}),
        ("QUARTERLY", {"cadence": "quarterly", "start": "2024-11-30T" + gt}),
        ("SEMIANNUAL", {"cadence": "semiannually", "start": "2025-03-31T10:00"}),
        ("ANNUAL-GAP", {"cadence": "annually", "start": g}),
        ("ANNUAL-LEAP", {"cadence": "annually", "start": "2024-02-29T09:00"}),
        ("YEARLY-LAST-SUN", {"rrule": "FREQ=YEARLY;BYMONTH=3,4,10,11;BYDAY=-1SU",
                             "start": "2025-01-01T" + gt}),
        ("BYHOUR", {"rrule": "FREQ=DAILY;BYHOUR=0,1,2,3;BYMINUTE=15,45",
                    "start": day(min(gd, od), -1) + "T00:15",
                    "until": day(max(gd, od), 1) + "T23:00"}),
        ("INTERVAL-YEARLY", {"rrule": "FREQ=YEARLY;INTERVAL=2;BYMONTH=3,10;BYMONTHDAY=-1,1",
                             "start": "2025-03-01T" + gt}),
    ]


def fixed_cases():
    """One plan per zone (zone in force = plan's), then one plan in London
    whose communications carry their own zone."""
    n = 0
    for z in ZONES:
        comms = [(cid, dict(s, tz=z)) for cid, s in zone_cases(z)]
        compare("zone-" + z.replace("/", "-"), z, comms)
        n += len(comms)
    comms = []
    for z in ZONES:
        if z == "Europe/London":
            continue
        for cid, s in zone_cases(z):
            comms.append((z.split("/")[1].upper()[:6] + "-" + cid,
                          dict(s, tz=z, timezone=z)))
    compare("per-communication-zone", "Europe/London", comms)


# ---------------------------------------------------------------- random

def random_rule(rnd):
    freq = rnd.choice(["DAILY", "WEEKLY", "MONTHLY", "MONTHLY", "YEARLY", "YEARLY"])
    parts = ["FREQ=" + freq]
    if rnd.random() < 0.4:
        parts.append(f"INTERVAL={rnd.randint(2, 4)}")
    days = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
    has_month = False
    if freq in ("YEARLY", "DAILY", "MONTHLY") and rnd.random() < 0.5:
        has_month = True
        parts.append("BYMONTH=" + ",".join(str(m) for m in sorted(rnd.sample(range(1, 13), rnd.randint(1, 3)))))
    # YEARLY BYMONTHDAY without BYMONTH, BYWEEKNO, BYYEARDAY (with BYMONTH
    # too), BYSETPOS in DAILY and WEEKLY and with BYHOUR: the shapes herald
    # refused until its own expander (libical mis-expands them).
    weekno = freq == "YEARLY" and rnd.random() < 0.15
    if weekno:
        parts.append("BYWEEKNO=" + ",".join(str(w) for w in sorted(rnd.sample([1, 2, 20, 52, 53, -1], rnd.randint(1, 2)))))
    if freq == "YEARLY" and not weekno and rnd.random() < 0.15:
        parts.append("BYYEARDAY=" + ",".join(map(str, rnd.sample([1, 60, 100, 200, 366, -1, -100], rnd.randint(1, 3)))))
    if freq in ("MONTHLY", "YEARLY", "DAILY") and rnd.random() < 0.4:
        md = rnd.sample([1, 2, 15, 28, 29, 30, 31, -1, -2, -7], rnd.randint(1, 3))
        parts.append("BYMONTHDAY=" + ",".join(map(str, md)))
    if rnd.random() < 0.15:
        parts.append("BYHOUR=" + ",".join(map(str, sorted(rnd.sample([7, 9, 12, 15, 18], rnd.randint(1, 2))))))
    if rnd.random() < 0.6:
        chosen = rnd.sample(days, rnd.randint(1, 4))
        if freq in ("MONTHLY", "YEARLY") and not weekno and rnd.random() < 0.5 and not any(p.startswith("BYMONTHDAY") for p in parts):
            lim = 4 if freq == "MONTHLY" or has_month else 50
            chosen = [f"{rnd.choice([1, 2, 3, -1, -2, lim])}{d}" for d in chosen[:2]]
        parts.append("BYDAY=" + ",".join(chosen))
    if any(p.startswith(("BYDAY", "BYMONTHDAY", "BYHOUR", "BYWEEKNO", "BYYEARDAY")) for p in parts) and rnd.random() < 0.4:
        parts.append("BYSETPOS=" + rnd.choice(["1", "-1", "2", "1,-1", "-2"]))
    if rnd.random() < 0.3:
        parts.append(f"COUNT={rnd.randint(1, 30)}")
    if freq == "WEEKLY" and rnd.random() < 0.3:
        parts.append("WKST=" + rnd.choice(["SU", "MO", "WE"]))
    return ";".join(parts)


def random_cases(count, seed):
    rnd = random.Random(seed)
    zones = list(ZONES) + ["UTC", "Asia/Kolkata"]
    refused = []
    for i in range(count):
        z = rnd.choice(zones)
        rule = random_rule(rnd)
        start = datetime(2025, rnd.randint(1, 12), rnd.randint(1, 28),
                         rnd.choice([0, 1, 2, 3, 9, 17]), rnd.choice([0, 15, 30, 45]))
        s = {"rrule": rule, "start": start.strftime("%Y-%m-%dT%H:%M"), "tz": z}
        cid = f"R{i}"
        path = os.path.join(WORK, f"random-{i}.json")
        with open(path, "w") as f:
            json.dump(plan_json(z, [(cid, s)]), f)
        rc, out, err = run_herald(path)
        try:
            want = expand(cid, s)
        except Exception as e:  # dateutil refuses it too
            want = e
        if rc == 1 and re.search(r"communications\[0\](\([^)]*\))?\.schedule", err):
            why = err.strip().split(": ", 3)[-1]
            refused.append((rule, why))
            # "never produces" must be true, not libical giving up.
            if "never produces" in why and not isinstance(want, Exception) and want:
                fail(f"random {rule} from {s['start']} in {z}: refused as never "
                     f"producing, oracle has {len(want)} in the window")
            else:
                ok()
            continue
        if rc != 0 or isinstance(want, Exception):
            fail(f"random {rule} from {s['start']} in {z}: herald exit {rc} {err.strip()}; oracle {want!r}")
            continue
        have = [(o["communication"], o["start"], o["end"]) for o in json.loads(out)]
        if have == want:
            ok()
        else:
            diff = [(w, h) for w, h in zip(want, have) if w != h][:2]
            fail(f"random {rule} from {s['start']} in {z}: oracle {len(want)}, herald {len(have)}; {diff}")
    for rule, why in refused:
        print(f"refused (allowed): {rule}: {why}")


if __name__ == "__main__":
    fixed_cases()
    random_cases(int(os.environ.get("ORACLE_RANDOM", "150")),
                 int(os.environ.get("ORACLE_SEED", "7")))
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
