#!/usr/bin/env bash
# ics_clients.sh - the feeds as clients read them: every feed of the
# realistic plan and of a DST-heavy plan is expanded by python-icalendar +
# recurring-ical-events (Debian) and by ical.js (Thunderbird's parser), and
# each occurrence (start and end instants, summary) must equal `herald
# agenda --format json`, DST gaps and overlaps included.
. "$(dirname "$0")/../lib.sh"

npm_deps ical.js ||
	{ echo "ics_clients: npm ci --prefix tests failed (ical.js missing)" >&2; exit 1; }
export HERALD_NOW=2026-11-22T10:00:00Z
FROM=2026-01-01 TO=2027-07-01

compare() { # plan, audience ("" = all), zone of FROM/TO
	local plan=$1 aud=$2 zone=$3 name
	name=$(basename "$plan" .json)-${aud:-all}
	local args=(--from "$FROM" --to "$TO")
	[ -n "$aud" ] && args+=(--audience "$aud")
	"$HERALD" ics "$plan" "${args[@]}" -o "$T/$name.ics" || { fail "$name: ics"; return; }
	"$HERALD" agenda "$plan" "${args[@]}" --format json >"$T/$name.json" ||
		{ fail "$name: agenda"; return; }
	$PY "$TESTS_DIR/clients/agenda_lines.py" "$T/$name.json" >"$T/$name.agenda"
	local lo hi
	read -r lo hi < <($PY -c 'import sys, datetime as d, zoneinfo as z
t = z.ZoneInfo(sys.argv[1])
print(*(int(d.datetime.fromisoformat(a).replace(tzinfo=t).timestamp()) for a in sys.argv[2:]))' "$zone" "$FROM" "$TO")
	$PY "$TESTS_DIR/clients/expand_py.py" "$T/$name.ics" "$lo" "$hi" >"$T/$name.py" 2>"$T/$name.pyerr" ||
		{ fail "$name: python expansion failed: $(tail -1 "$T/$name.pyerr")"; return; }
	node "$TESTS_DIR/clients/expand_icaljs.mjs" "$T/$name.ics" "$lo" "$hi" >"$T/$name.js" 2>"$T/$name.jserr" ||
		{ fail "$name: ical.js expansion failed: $(tail -1 "$T/$name.jserr")"; return; }
	local n; n=$(wc -l <"$T/$name.agenda")
	check "$name: agenda has occurrences" [ "$n" -gt 0 ]
	if diff -u "$T/$name.agenda" "$T/$name.py" >"$T/$name.d1"; then ok; else
		fail "$name: python-icalendar differs from agenda"; head -20 "$T/$name.d1" >&2; fi
	if diff -u "$T/$name.agenda" "$T/$name.js" >"$T/$name.d2"; then ok; else
		fail "$name: ical.js differs from agenda"; head -20 "$T/$name.d2" >&2; fi
	echo "$name: $n occurrences, both clients agree" >&2
}

for a in "" all-staff incident-team leadership board customers suppliers suppliers-us public; do
	compare "$ROOT/plans/acme-isms.json" "$a" Europe/London
done
for a in "" everyone edge; do
	compare "$TESTS_DIR/data/dst-heavy.json" "$a" Europe/London
done

# Far beyond the feed's window only the RRULE series reach: clients must
# still put every instance at the right instant (the VTIMEZONE has to go
# that far, and DST-edge instances there must be written in UTC too).
far() { # plan, name
	local plan=$1 name=$2 lo hi
	"$HERALD" agenda "$plan" --from 2031-01-01 --to 2032-01-01 --format json >"$T/$name.far.json"
	$PY "$TESTS_DIR/clients/agenda_lines.py" "$T/$name.far.json" "$T/$name.ics" >"$T/$name.far.agenda"
	read -r lo hi < <($PY -c 'import datetime as d, zoneinfo as z
t = z.ZoneInfo("Europe/London")
print(*(int(d.datetime(y, 1, 1, tzinfo=t).timestamp()) for y in (2031, 2032)))')
	$PY "$TESTS_DIR/clients/expand_py.py" "$T/$name.ics" "$lo" "$hi" >"$T/$name.far.py" 2>/dev/null
	node "$TESTS_DIR/clients/expand_icaljs.mjs" "$T/$name.ics" "$lo" "$hi" >"$T/$name.far.js" 2>/dev/null
	check "$name: series reach 2031" [ "$(wc -l <"$T/$name.far.agenda")" -gt 0 ]
	check "$name: python-icalendar agrees in 2031" diff -q "$T/$name.far.agenda" "$T/$name.far.py"
	check "$name: ical.js agrees in 2031" diff -q "$T/$name.far.agenda" "$T/$name.far.js"
}
far "$ROOT/plans/acme-isms.json" acme-isms-all
far "$TESTS_DIR/data/dst-heavy.json" dst-heavy-all

# The DST plan really has edges written in UTC, and EXDATEs like DTSTART.
f="$T/dst-heavy-all.ics"
check "edge instances written in Etc/GMT" grep -q '^DTSTART;TZID=Etc/GMT:20260329T' "$f"
check "EXDATE has DTSTART's form" grep -q '^EXDATE;TZID=Europe/London:20261025T013000' "$f"
check "VTIMEZONE with the bare IANA name" grep -q '^TZID:Australia/Lord_Howe' "$f"
check "no libical TZID prefix" bash -c "! grep -q freeassociation '$f'"
check "CRLF line ends only" $PY -c 'import sys; d=open(sys.argv[1],"rb").read(); sys.exit(0 if d.count(b"\n")==d.count(b"\r\n") else 1)' "$f"
check "lines at most 75 octets" $PY -c 'import sys; sys.exit(0 if all(len(l)<=75 for l in open(sys.argv[1],"rb").read().split(b"\r\n")) else 1)' "$f"
# Byte-identical output for identical input.
"$HERALD" ics "$ROOT/plans/acme-isms.json" -o "$T/x1.ics"
"$HERALD" ics "$ROOT/plans/acme-isms.json" -o "$T/x2.ics"
check "identical runs give identical bytes" cmp -s "$T/x1.ics" "$T/x2.ics"
check "unknown audience is a usage error" bash -c "'$HERALD' ics '$ROOT/plans/acme-isms.json' --audience nobody >/dev/null 2>&1; [ \$? -eq 2 ]"
finish
