#!/usr/bin/python3
"""agenda_lines.py JSON - herald agenda --format json as "start end topic"
lines (Unix seconds), sorted like the expanders' output."""
import datetime as dt
import json
import sys

items = json.load(open(sys.argv[1], encoding="utf-8"))
rows = []
for it in items:
    s = int(dt.datetime.fromisoformat(it["start"]).timestamp())
    e = int(dt.datetime.fromisoformat(it["end"]).timestamp())
    rows.append((s, e, it["topic"]))
for s, e, t in sorted(rows):
    print(s, e, t)
