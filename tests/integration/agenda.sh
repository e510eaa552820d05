#!/usr/bin/env bash
# agenda.sh - `herald agenda --format json` as design.md says: one array
# sorted by start, occurrences starting in [from, to), manual communications
# absent, --audience keeps occurrences that include that audience, every
# element with exactly its members (design.md's seven, description,
# timezone and notify; sends with --sends), shifted occurrences at their
# working day, calendar-only ones without channels.
. "$(dirname "$0")/../lib.sh"
cat >"$T/plan.json" <<'JSON'
{
  "plan": { "id": "AGENDA-TEST", "version": "1", "owner": "o", "timezone": "Europe/London" },
  "channels": { "slack": { "type": "slack", "webhook": "https://hooks.example/x" },
                "hook": { "type": "webhook", "url": "https://example.org/h" } },
  "audiences": {
    "staff": { "name": "Staff", "scope": "internal", "deliver": [{ "channel": "slack" }, { "channel": "hook" }] },
    "board": { "name": "Board", "scope": "internal", "deliver": [{ "channel": "hook" }] },
    "suppliers": { "name": "Suppliers", "scope": "external" }
  },
  "communications": [
    { "id": "DAILY", "topic": "Daily \"quoted\" note", "audiences": ["staff"], "owner": "Dana",
      "channels": ["slack"],
      "schedule": { "cadence": "daily", "start": "2026-03-01T09:00" } },
    { "id": "BOARD", "topic": "Board pack", "audiences": ["board", "suppliers"], "owner": "Riley",
      "schedule": { "rrule": "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "start": "2026-01-30T08:00",
                    "duration": "PT2H" } },
    { "id": "SYD", "topic": "Sydney call", "audiences": ["suppliers"], "owner": "Sam",
      "schedule": { "at": ["2026-03-04T19:00", "2026-03-01T19:00"], "timezone": "Australia/Sydney" } },
    { "id": "BREACH", "topic": "Breach notice", "audiences": ["staff", "board"], "owner": "Dana",
      "schedule": { "trigger": "manual" } },
    { "id": "AWR", "topic": "Awareness", "description": "Read the note.", "audiences": ["staff"],
      "channels": ["hook"], "owner": "Dana", "notify": ["P1D", "PT0S"],
      "acknowledge": { "remind_after": ["P3D"] },
      "schedule": { "rrule": "FREQ=MONTHLY;BYMONTHDAY=14", "start": "2026-01-14T10:00",
                    "shift": "next-working-day" } },
    { "id": "CAL", "topic": "Calendar only", "audiences": ["board"], "owner": "Riley", "notify": [],
      "schedule": { "at": ["2026-03-10T12:00"] } }
  ]
}
JSON
agenda() { "$HERALD" agenda "$T/plan.json" --format json "$@"; }
agenda --from 2026-03-01 --to 2026-04-01 >"$T/all.json" 2>"$T/err"
check "exit 0" [ $? -eq 0 ]
# An element starting exactly at --to is out, one exactly at --from is in.
agenda --from 2026-03-02T09:00:00Z --to 2026-03-04T09:00:00Z >"$T/edge.json"
agenda --audience board --from 2026-03-01 --to 2026-04-01 >"$T/board.json"
agenda --audience suppliers --from 2026-03-01 --to 2026-04-01 >"$T/suppliers.json"
agenda --from 2026-03-05 --to 2026-03-05 >"$T/empty.json"
agenda --from 2026-03-01 --to 2026-04-01 --sends >"$T/sends.json"
"$HERALD" agenda "$T/plan.json" --from 2026-03-16 --to 2026-03-17 --sends >"$T/sends.txt"
"$PY" - "$T" <<'PY'
import json, sys
from datetime import datetime
t = sys.argv[1]
ok = fail = 0
def check(what, cond):
    global ok, fail
    if cond: ok += 1
    else:
        fail += 1
        print("FAIL:", what, file=sys.stderr)
def load(n): return json.load(open(f"{t}/{n}.json"))
allj = load("all")
keys = ["communication", "topic", "description", "start", "end", "timezone", "audiences",
        "channels", "owner", "notify"]
check("elements have exactly their members in order", all(list(e) == keys for e in allj))
check("--sends adds sends last", all(list(e) == keys + ["sends"] for e in load("sends")))
starts = [datetime.fromisoformat(e["start"]) for e in allj]
check("sorted by start", starts == sorted(starts))
check("manual communication absent", all(e["communication"] != "BREACH" for e in allj))
ids = [e["communication"] for e in allj]
check("31 daily in March", ids.count("DAILY") == 31)
check("board pack: last weekday of March only", [e["start"] for e in allj if e["communication"] == "BOARD"] == ["2026-03-31T08:00:00+01:00"])
check("end = start + duration", [e["end"] for e in allj if e["communication"] == "BOARD"] == ["2026-03-31T10:00:00+01:00"])
check("DST: 09:00 GMT then 09:00 BST", [e["start"] for e in allj if e["communication"] == "DAILY"][0] == "2026-03-01T09:00:00+00:00" and
      [e["start"] for e in allj if e["communication"] == "DAILY"][-1] == "2026-03-31T09:00:00+01:00")
syd = [e for e in allj if e["communication"] == "SYD"]
check("own zone: times with Sydney's offset, at list sorted",
      [e["start"] for e in syd] == ["2026-03-01T19:00:00+11:00", "2026-03-04T19:00:00+11:00"])
check("SYD starts sort among London ones by instant",
      ids.index("SYD") < ids.index("DAILY"))
d = next(e for e in allj if e["communication"] == "DAILY")
check("channels limited by the communication's list", d["channels"] == ["slack"])
check("feed-only communication has no channels", syd[0]["channels"] == [])
check("quotes escaped", d["topic"] == 'Daily "quoted" note')
b = next(e for e in allj if e["communication"] == "BOARD")
check("audiences and channels", b["audiences"] == ["board", "suppliers"] and b["channels"] == ["hook"])
edge = load("edge")
check("half-open [from, to)", [e["start"] for e in edge if e["communication"] == "DAILY"] ==
      ["2026-03-02T09:00:00+00:00", "2026-03-03T09:00:00+00:00"])
board = load("board")
check("--audience board", {e["communication"] for e in board} == {"BOARD", "CAL"})
a = [e for e in allj if e["communication"] == "AWR"]
check("shift: Saturday 14 March is Monday 16 March", [e["start"] for e in a] == ["2026-03-16T10:00:00+00:00"])
check("description, timezone, notify", a[0]["description"] == "Read the note." and
      a[0]["timezone"] == "Europe/London" and a[0]["notify"] == ["P1D", "PT0S"] and
      d["description"] is None and d["notify"] == ["PT0S"])
cal = next(e for e in allj if e["communication"] == "CAL")
check("calendar-only: no channels, no notify", cal["channels"] == [] and cal["notify"] == [])
sa = next(e for e in load("sends") if e["communication"] == "AWR")
# Reminders follow the last notice only, as the outbox makes them (one
# acknowledgement link serves both messages).
check("sends: two messages, the reminder after the last", sa["sends"] == [
    {"at": "2026-03-15T10:00:00+00:00", "kind": "message", "offset": "P1D"},
    {"at": "2026-03-16T10:00:00+00:00", "kind": "message", "offset": "PT0S"},
    {"at": "2026-03-19T10:00:00+00:00", "kind": "reminder", "offset": "P3D"}])
sc = next(e for e in load("sends") if e["communication"] == "CAL")
check("sends: a calendar-only item sends nothing", sc["sends"] == [])
txt = open(f"{t}/sends.txt").read()
check("text --sends: the moved occurrence and its sends", "(moved to a working day)" in txt and
      "sends Sun 2026-03-15 10:00  message 1 day before the start" in txt and
      "reminder 3 days after the message, if not acknowledged" in txt)
sup = load("suppliers")
check("--audience suppliers", {e["communication"] for e in sup} == {"BOARD", "SYD"})
check("empty window is []", load("empty") == [] and open(f"{t}/empty.json").read() == "[]\n")
print(f"{ok} {fail}", file=open(f"{t}/py-count", "w"))
PY
read -r pok pfail <"$T/py-count"
_passed=$((_passed + pok)) _failed=$((_failed + pfail))
"$HERALD" agenda "$T/plan.json" --format json --audience nobody --from 2026-03-01 >/dev/null 2>&1
check "unknown audience is a usage error (2)" [ $? -eq 2 ]
"$HERALD" agenda "$T/plan.json" --format yaml >/dev/null 2>&1
check "bad --format is a usage error (2)" [ $? -eq 2 ]
"$HERALD" agenda "$T/plan.json" --from 2026-04-01 --to 2026-03-01 >/dev/null 2>&1
check "--to before --from is a usage error (2)" [ $? -eq 2 ]
finish
