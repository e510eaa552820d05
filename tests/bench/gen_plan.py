#!/usr/bin/python3
"""gen_plan.py N SEED > plan.json - a large plan for bench_agenda.sh.

N communications (mixed cadences, RRULEs with BYSETPOS and BYDAY ordinals,
the rule shapes once refused (YEARLY BYWEEKNO, BYYEARDAY with BYMONTH,
YEARLY BYMONTHDAY, BYSETPOS in WEEKLY, negative BYMONTHDAY in DAILY),
`at` lists, `except`, `until`, manual ones) over several zones, some with
their own `timezone`.  Deterministic for a given seed.
"""
import json
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
rnd = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
ZONES = ["Europe/London", "America/New_York", "Australia/Sydney",
         "Australia/Lord_Howe", "Europe/Berlin", "Asia/Kolkata",
         "Asia/Tokyo", "America/Los_Angeles"]
CADENCES = ["daily"] + ["weekly", "fortnightly", "monthly", "quarterly",
                        "semiannually", "annually"] * 4
RULES = [
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1,-1",
    "FREQ=MONTHLY;BYDAY=2TU",
    "FREQ=MONTHLY;BYDAY=-1FR",
    "FREQ=MONTHLY;INTERVAL=3;BYDAY=1MO",
    "FREQ=WEEKLY;BYDAY=MO,WE,FR",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;COUNT=40",
    "FREQ=YEARLY;BYMONTH=3,9;BYDAY=1MO",
    "FREQ=YEARLY;BYMONTH=3,10;BYDAY=-1SU",
    "FREQ=MONTHLY;BYMONTHDAY=-1",
    "FREQ=MONTHLY;BYMONTHDAY=1,15",
    "FREQ=MONTHLY;BYMONTHDAY=15;UNTIL=20261115T235959Z",
    "FREQ=DAILY;INTERVAL=7",
    "FREQ=MONTHLY;BYDAY=WE;BYSETPOS=2",
    # Shapes herald refused before issue 12 (libical mis-expanded them).
    "FREQ=YEARLY;BYWEEKNO=10,30;BYDAY=MO",
    "FREQ=YEARLY;BYYEARDAY=100,200;BYMONTH=4,7",
    "FREQ=YEARLY;BYMONTHDAY=1,15",
    "FREQ=WEEKLY;BYDAY=MO,FR;BYSETPOS=-1",
    "FREQ=DAILY;BYMONTHDAY=1,-2",
]


def local(y, m, d, h, mi):
    return f"{y:04d}-{m:02d}-{d:02d}T{h:02d}:{mi:02d}"


def rand_local(years=(2024, 2026)):
    return local(rnd.randint(*years), rnd.randint(1, 12), rnd.randint(1, 28),
                 rnd.choice([0, 1, 2, 3, 8, 9, 10, 13, 16]), rnd.choice([0, 15, 30, 45]))


comms = []
for i in range(n):
    k = rnd.random()
    if k < 0.04:
        sched = {"trigger": "manual"}
    elif k < 0.40:
        sched = {"cadence": rnd.choice(CADENCES), "start": rand_local()}
    elif k < 0.85:
        sched = {"rrule": rnd.choice(RULES), "start": rand_local((2025, 2026))}
    else:
        sched = {"at": sorted(set(rand_local((2026, 2026)) for _ in range(rnd.randint(2, 8))))}
    if "start" in sched or "at" in sched:
        if rnd.random() < 0.5:
            sched["timezone"] = rnd.choice(ZONES)
        if rnd.random() < 0.3:
            sched["duration"] = rnd.choice(["PT15M", "PT1H", "PT2H30M", "P1D"])
        if "start" in sched and rnd.random() < 0.1:
            sched["until"] = rand_local((2026, 2027))
            if sched["until"] < sched["start"]:
                del sched["until"]
        if "start" in sched and rnd.random() < 0.1:
            sched["except"] = [sched["start"]]
    comms.append({
        "id": f"C{i:05d}",
        "topic": f"Communication {i} of the bench plan",
        "audiences": rnd.sample(["staff", "board", "suppliers", "it"], rnd.randint(1, 2)),
        "owner": rnd.choice(["Dana Reyes", "Riley Chen", "Sam Okafor"]),
        "schedule": sched,
    })

plan = {
    "plan": {"id": "BENCH", "title": "Bench plan", "version": "1",
             "owner": "Bench <bench@example.org>", "timezone": "Europe/London"},
    "channels": {"slack": {"type": "slack", "webhook": "https://hooks.example/x"},
                 "hook": {"type": "webhook", "url": "https://example.org/hook"}},
    "audiences": {
        "staff": {"name": "Staff", "scope": "internal", "deliver": [{"channel": "slack"}]},
        "board": {"name": "Board", "scope": "internal", "deliver": [{"channel": "hook"}]},
        "suppliers": {"name": "Suppliers", "scope": "external"},
        "it": {"name": "IT", "scope": "internal",
               "deliver": [{"channel": "slack"}, {"channel": "hook"}]},
    },
    "communications": comms,
}
json.dump(plan, sys.stdout, indent=1)
