#!/usr/bin/python3
"""expand_py.py ICS FROM TO ZONE - expands a feed as python-icalendar +
recurring-ical-events read it, printing one line per occurrence whose start
is in [FROM, TO) (Unix seconds; an all-day occurrence is in when its date is
in [FROM, TO) read in ZONE): "start end summary", start and end as Unix
seconds, or YYYY-MM-DD for all-day (DATE) values."""
import sys
import datetime as dt
import zoneinfo

import icalendar
import recurring_ical_events

path, lo, hi, zone = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
z = zoneinfo.ZoneInfo(zone)
dlo = dt.datetime.fromtimestamp(lo, z).date()
dhi = dt.datetime.fromtimestamp(hi, z).date()
with open(path, "rb") as f:
    cal = icalendar.Calendar.from_ical(f.read())
utc = dt.timezone.utc
a = dt.datetime.fromtimestamp(lo - 86400 * 3, utc)
b = dt.datetime.fromtimestamp(hi + 86400 * 3, utc)
for ev in recurring_ical_events.of(cal).between(a, b):
    s, e = ev["DTSTART"].dt, ev["DTEND"].dt
    if not isinstance(s, dt.datetime):
        if dlo <= s < dhi:
            print(s.isoformat(), e.isoformat(), ev["SUMMARY"])
        continue
    s, e = int(s.timestamp()), int(e.timestamp())
    if lo <= s < hi:
        print(s, e, str(ev["SUMMARY"]))
