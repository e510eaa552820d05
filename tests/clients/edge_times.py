#!/usr/bin/python3
"""edge_times.py ICS... - fails if a feed writes a local time that a
daylight-saving change makes ambiguous or nonexistent: DTSTART, DTEND,
EXDATE or RECURRENCE-ID with a TZID, at a wall time in a gap or an overlap
of that zone (python's zoneinfo: the two folds disagree).  Such values are
what Java clients refuse ("Unparseable date") and node-ical misreads."""
import datetime as dt
import re
import sys
import zoneinfo

PROP = re.compile(r"^(DTSTART|DTEND|EXDATE|RECURRENCE-ID);TZID=([^:;]+):(.*)$")
bad = 0
for path in sys.argv[1:]:
    text = open(path, encoding="utf-8", newline="").read().replace("\r\n ", "")
    for line in text.split("\r\n"):
        m = PROP.match(line)
        if not m or m.group(2) == "Etc/GMT":
            continue
        z = zoneinfo.ZoneInfo(m.group(2))
        for v in m.group(3).split(","):
            t = dt.datetime.strptime(v, "%Y%m%dT%H%M%S")
            a, b = t.replace(tzinfo=z, fold=0), t.replace(tzinfo=z, fold=1)
            if a.utcoffset() != b.utcoffset():
                print(f"{path}: {m.group(1)} {v} in {m.group(2)} is on a DST edge", file=sys.stderr)
                bad += 1
sys.exit(1 if bad else 0)
