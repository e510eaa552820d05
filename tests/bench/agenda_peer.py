#!/usr/bin/python3
"""agenda_peer.py PLAN FROM TO - the Python peer of `herald agenda --format json`.

Expands every scheduled communication of PLAN with python-dateutil (rrule on
naive wall time) and zoneinfo (fold=0: RFC 5545 §3.3.5), keeps occurrences
starting in [FROM, TO) (RFC 3339 instants) and prints design.md's JSON array,
byte for byte as herald does, so the bench can compare the two outputs.
"""
import json
import re
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

CADENCE = {
    "daily": "FREQ=DAILY", "weekly": "FREQ=WEEKLY",
    "fortnightly": "FREQ=WEEKLY;INTERVAL=2", "monthly": "FREQ=MONTHLY",
    "quarterly": "FREQ=MONTHLY;INTERVAL=3",
    "semiannually": "FREQ=MONTHLY;INTERVAL=6", "annually": "FREQ=YEARLY",
}
UNTIL = re.compile(r"(^|;)UNTIL=(\d{8}T\d{6})Z")


def duration(s):
    m = re.fullmatch(r"P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?", s)
    w, d, h, mi, sec = (int(x or 0) for x in m.groups())
    return d + 7 * w, timedelta(hours=h, minutes=mi, seconds=sec)


def canonical(s):
    """herald's canonical form of a duration (format_duration)."""
    days, rest = duration(s)
    secs = int(rest.total_seconds())
    if not days and not secs:
        return "PT0S"
    out = "P" + (f"{days}D" if days else "")
    if secs:
        h, m, sec = secs // 3600, secs % 3600 // 60, secs % 60
        out += "T" + (f"{h}H" if h else "") + (f"{m}M" if m else "") + (f"{sec}S" if sec else "")
    return out


def main():
    plan = json.load(open(sys.argv[1]))
    lo = datetime.fromisoformat(sys.argv[2].replace("Z", "+00:00"))
    hi = datetime.fromisoformat(sys.argv[3].replace("Z", "+00:00"))
    plan_zone = plan["plan"]["timezone"]
    channel_order = list(plan["channels"])
    zones = {}
    occ = []
    for idx, c in enumerate(plan["communications"]):
        s = c["schedule"]
        if "trigger" in s:
            continue
        zone = zones.setdefault(s.get("timezone", plan_zone),
                                ZoneInfo(s.get("timezone", plan_zone)))
        days, rest = duration(s.get("duration", "PT30M"))
        until = datetime.fromisoformat(s["until"]) if "until" in s else None
        skip = {datetime.fromisoformat(e) for e in s.get("except", [])}
        # Wall times within a day of the window cover every zone's offset.
        wlo = lo.replace(tzinfo=None) - timedelta(days=1)
        whi = hi.replace(tzinfo=None) + timedelta(days=1)
        if "at" in s:
            walls = sorted({datetime.fromisoformat(a) for a in s["at"]})
            rule_until = None
        else:
            rule = s.get("rrule") or CADENCE[s["cadence"]]
            rule_until = None
            m = UNTIL.search(rule)
            if m:
                rule_until = datetime.strptime(m.group(2), "%Y%m%dT%H%M%S").replace(tzinfo=timezone.utc)
                rule = UNTIL.sub("", rule).lstrip(";")
            walls = rrulestr(rule, dtstart=datetime.fromisoformat(s["start"])).between(wlo, whi, inc=True)
        head = None
        for w in walls:
            if until and w > until:
                break
            if w in skip:
                continue
            start = w.replace(tzinfo=zone, fold=0).astimezone(timezone.utc)
            if rule_until and start > rule_until:
                break
            if not lo <= start < hi:
                continue
            if days:
                end = (w + timedelta(days=days)).replace(tzinfo=zone, fold=0).astimezone(timezone.utc) + rest
            else:
                end = start + rest
            if head is None:
                chans = []
                for a in c["audiences"]:
                    for d in plan["audiences"][a].get("deliver", []):
                        if d["channel"] not in chans and d["channel"] in c.get("channels", channel_order):
                            chans.append(d["channel"])
                chans.sort(key=channel_order.index)
                notify = [canonical(n) for n in c.get("notify", ["PT0S"])]
                if not notify:
                    chans = []   # calendar only: nothing goes out
                head = (json.dumps(c["id"]), json.dumps(c["topic"]),
                        json.dumps(c["audiences"], separators=(",", ":")),
                        json.dumps(chans, separators=(",", ":")), json.dumps(c["owner"]),
                        json.dumps(c.get("description")),
                        json.dumps(s.get("timezone", plan_zone)),
                        json.dumps(notify, separators=(",", ":")))
            occ.append((start, idx, w, head,
                        start.astimezone(zone).isoformat(), end.astimezone(zone).isoformat()))
    occ.sort(key=lambda o: (o[0], o[1], o[2]))
    out = sys.stdout
    out.write("[")
    for i, (_, _, _, h, st, en) in enumerate(occ):
        out.write(",\n" if i else "\n")
        out.write('{"communication":%s,"topic":%s,"description":%s,"start":"%s","end":"%s",'
                  '"timezone":%s,"audiences":%s,"channels":%s,"owner":%s,"notify":%s}'
                  % (h[0], h[1], h[5], st, en, h[6], h[2], h[3], h[4], h[7]))
    out.write("\n]\n" if occ else "]\n")


main()
