#!/usr/bin/python3
"""expand_py.py ICS FROM TO - expands a feed as python-icalendar +
recurring-ical-events read it, printing one line per occurrence whose start
is in [FROM, TO) (Unix seconds): "start end summary", sorted."""
import sys
import datetime as dt

import icalendar
import recurring_ical_events

path, lo, hi = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "rb") as f:
    cal = icalendar.Calendar.from_ical(f.read())
utc = dt.timezone.utc
a = dt.datetime.fromtimestamp(lo - 86400 * 3, utc)
b = dt.datetime.fromtimestamp(hi + 86400 * 3, utc)
out = []
for ev in recurring_ical_events.of(cal).between(a, b):
    s, e = ev["DTSTART"].dt, ev["DTEND"].dt
    s, e = int(s.timestamp()), int(e.timestamp())
    if lo <= s < hi:
        out.append((s, e, str(ev["SUMMARY"])))
for s, e, t in sorted(out):
    print(s, e, t)
