#!/usr/bin/python3
"""expand_vobject.py ICS FROM TO ZONE - expands a feed as python3-vobject
(the parser of Radicale and other CalDAV servers) reads it: its
VTIMEZONEs through dateutil's tzical, each series through the rruleset
vobject builds (RRULE, EXDATE).  Output as expand_py.py's."""
import datetime as dt
import sys
import zoneinfo

import vobject

path, lo, hi, zone = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
z = zoneinfo.ZoneInfo(zone)
dlo = dt.datetime.fromtimestamp(lo, z).date()
dhi = dt.datetime.fromtimestamp(hi, z).date()
with open(path, encoding="utf-8") as f:
    cal = vobject.readOne(f.read())


def emit(s, e, summary):
    if not isinstance(s, dt.datetime):
        if dlo <= s < dhi:
            print(s.isoformat(), e.isoformat(), summary)
        return
    if s.tzinfo is None:
        raise SystemExit("vobject read a floating time: " + summary)
    si, ei = int(s.timestamp()), int(e.timestamp())
    if lo <= si < hi:
        print(si, ei, summary)


for ev in cal.vevent_list:
    summary = ev.summary.value
    start = ev.dtstart.value
    end = ev.dtend.value
    length = end - start
    rs = ev.getrruleset(addRDate=True)
    if rs is None:
        emit(start, end, summary)
        continue
    if isinstance(start, dt.datetime):
        a = dt.datetime.fromtimestamp(lo - 3 * 86400, dt.timezone.utc)
        b = dt.datetime.fromtimestamp(hi + 3 * 86400, dt.timezone.utc)
    else:
        a = dt.datetime.combine(dlo - dt.timedelta(days=3), dt.time())
        b = dt.datetime.combine(dhi + dt.timedelta(days=3), dt.time())
    for s in rs.between(a, b, inc=True):
        if not isinstance(start, dt.datetime):
            s = s.date()
        emit(s, s + length, summary)
