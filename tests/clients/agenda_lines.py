#!/usr/bin/python3
"""agenda_lines.py JSON [ICS] - herald agenda --format json as "start end
topic" lines (Unix seconds; local dates YYYY-MM-DD for all-day items), as
the expanders print them.  With ICS,
only the communications that feed publishes as an RRULE series (for
comparing far beyond the feed's window, where only series reach)."""
import datetime as dt
import json
import sys

items = json.load(open(sys.argv[1], encoding="utf-8"))
keep = None
if len(sys.argv) > 2:
    keep, uid = set(), None
    for line in open(sys.argv[2], encoding="utf-8", newline="").read().split("\r\n"):
        if line.startswith("UID:"):
            uid = line[4:]
        elif line.startswith("RRULE:") and uid:
            keep.add(uid.split("/")[0])
rows = []
for it in items:
    if keep is not None and it["communication"] not in keep:
        continue
    s, e = dt.datetime.fromisoformat(it["start"]), dt.datetime.fromisoformat(it["end"])
    if it.get("all_day"):
        rows.append((s.date().isoformat(), e.date().isoformat(), it["topic"]))
    else:
        rows.append((int(s.timestamp()), int(e.timestamp()), it["topic"]))
for s, e, t in rows:
    print(s, e, t)
