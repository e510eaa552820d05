#!/usr/bin/env bash
# ics_clients.sh - the feeds as calendar clients read them.  Every feed of
# the realistic plan, of a DST-heavy plan, of a plan of the zones that trip
# calendars (changes at midnight, 30 minutes, two hours, Ramadan, negative
# DST, +12:45; with the RRULE shapes once refused) and of the calendar
# features' plan is expanded by four parsers:
#   - python-icalendar + recurring-ical-events (Debian),
#   - python3-vobject (Debian; Radicale's parser, VTIMEZONEs via tzical),
#   - ical.js (Thunderbird's parser, the feed's VTIMEZONEs registered),
#   - node-ical (npm; its own expandRecurringEvent),
# and each occurrence (start and end instants, or dates for all-day
# events, and the summary) must equal `herald agenda --format json`, over
# 13 months and over 5 years.  No feed may write a local time in a gap or
# an overlap.
. "$(dirname "$0")/../lib.sh"

for m in ical.js node-ical; do
	npm_deps "$m" ||
		{ echo "ics_clients: npm ci --prefix tests failed ($m missing)" >&2; exit 1; }
done
$PY -c 'import vobject, icalendar, recurring_ical_events' ||
	{ echo "ics_clients: python3-vobject, python3-icalendar or python3-recurring-ical-events missing (contrib/install-deps test)" >&2; exit 1; }
export HERALD_NOW=2026-11-22T10:00:00Z
C=$TESTS_DIR/clients

compare() { # plan, audience ("" = all), zone of FROM/TO, from, to
	local plan=$1 aud=$2 zone=$3 from=$4 to=$5 name x
	name=$(basename "$plan" .json)-${aud:-all}-${from}-${to}
	local args=(--from "$from" --to "$to")
	[ -n "$aud" ] && args+=(--audience "$aud")
	"$HERALD" ics "$plan" "${args[@]}" -o "$T/$name.ics" || { fail "$name: ics"; return; }
	"$HERALD" agenda "$plan" "${args[@]}" --format json >"$T/$name.json" ||
		{ fail "$name: agenda"; return; }
	$PY "$C/agenda_lines.py" "$T/$name.json" | LC_ALL=C sort >"$T/$name.agenda"
	local lo hi
	read -r lo hi < <($PY -c 'import sys, datetime as d, zoneinfo as z
t = z.ZoneInfo(sys.argv[1])
print(*(int(d.datetime.fromisoformat(a).replace(tzinfo=t).timestamp()) for a in sys.argv[2:]))' "$zone" "$from" "$to")
	local n; n=$(wc -l <"$T/$name.agenda")
	check "$name: agenda has occurrences" [ "$n" -gt 0 ]
	check "$name: no local time on a DST edge" $PY "$C/edge_times.py" "$T/$name.ics"
	for x in py vobject icaljs nodeical; do
		case $x in
		py) $PY "$C/expand_py.py" "$T/$name.ics" "$lo" "$hi" "$zone" ;;
		vobject) $PY "$C/expand_vobject.py" "$T/$name.ics" "$lo" "$hi" "$zone" ;;
		icaljs) node "$C/expand_icaljs.mjs" "$T/$name.ics" "$lo" "$hi" "$zone" ;;
		nodeical) TZ=UTC node "$C/expand_nodeical.mjs" "$T/$name.ics" "$lo" "$hi" "$zone" ;;
		esac >"$T/$name.$x.raw" 2>"$T/$name.$x.err" ||
			{ fail "$name: $x failed: $(tail -1 "$T/$name.$x.err")"; continue; }
		LC_ALL=C sort "$T/$name.$x.raw" >"$T/$name.$x"
		if diff -u "$T/$name.agenda" "$T/$name.$x" >"$T/$name.$x.diff"; then ok; else
			fail "$name: $x differs from agenda"; head -12 "$T/$name.$x.diff" >&2; fi
	done
	echo "$name: $n occurrences, four clients agree" >&2
}

# 13 months: every feed; 5 years: the whole plan's feed and a public one.
Y13="2026-01-01 2027-02-01" Y5="2026-01-01 2031-01-01"
for a in "" all-staff incident-team leadership board customers suppliers suppliers-us public; do
	compare "$ROOT/plans/acme-isms.json" "$a" Europe/London $Y13
done
for a in "" everyone edge; do
	compare "$TESTS_DIR/data/dst-heavy.json" "$a" Europe/London $Y13
done
for a in "" everyone ops; do
	compare "$TESTS_DIR/data/dst-zones.json" "$a" Europe/Dublin $Y13
done
for a in "" board staff; do
	compare "$TESTS_DIR/data/golden-calendar.json" "$a" Europe/London $Y13
done
compare "$ROOT/plans/acme-isms.json" "" Europe/London $Y5
compare "$ROOT/plans/acme-isms.json" public Europe/London $Y5
compare "$TESTS_DIR/data/dst-heavy.json" "" Europe/London $Y5
compare "$TESTS_DIR/data/dst-heavy.json" everyone Europe/London $Y5
compare "$TESTS_DIR/data/dst-zones.json" "" Europe/Dublin $Y5
compare "$TESTS_DIR/data/dst-zones.json" everyone Europe/Dublin $Y5

# What the feeds are made of (docs/calendars.md).
f=$T/dst-heavy-all-2026-01-01-2027-02-01.ics
z=$T/dst-zones-all-2026-01-01-2027-02-01.ics
check "edge instances written in Etc/GMT" grep -q '^DTSTART;TZID=Etc/GMT:20260329T' "$f"
check "VTIMEZONE with the bare IANA name" grep -q '^TZID:Australia/Lord_Howe' "$f"
check "VTIMEZONE with the zone's rule from 1970, as Google writes it" \
	bash -c "tr -d '\\r' <'$f' | grep -A5 '^TZID:Europe/London' | grep -q '^TZOFFSETFROM:+0000'; tr -d '\\r' <'$f' | grep -q '^RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU'"
check "Santiago's rule: the Sunday after the first Saturday" \
	grep -q '^RRULE:FREQ=YEARLY;BYMONTH=9;BYDAY=SU;BYMONTHDAY=2,3,4,5,6,7,8' "$z"
check "Dublin's summer is DAYLIGHT (negative DST in the tz source)" $PY - "$z" <<'PY'
import sys
t = open(sys.argv[1], encoding="utf-8", newline="").read().replace("\r\n ", "")
z = t[t.index("TZID:Europe/Dublin"):]
z = z[:z.index("END:VTIMEZONE")]
d = z[z.index("BEGIN:DAYLIGHT"):z.index("END:DAYLIGHT")]
assert "TZOFFSETTO:+0100" in d and "TZNAME:IST" in d, d
PY
check "Casablanca has no rule: its events are in UTC" \
	bash -c "! grep -q 'TZID=Africa/Casablanca' '$z' && grep -q 'CAS-SUN-0230/all/20260215T023000' '$z'"
check "a series with no edge is one RRULE" grep -q '^UID:SCL-MON-0900/all@DST-ZONES' "$z"
check "lifted rule shapes are written as instances" \
	bash -c "grep -q '^UID:LIFT-WEEKNO/all/20260302T090000@DST-ZONES' '$z' && ! grep -q '^UID:LIFT-WEEKNO/all@' '$z'"
check "no libical TZID prefix" bash -c "! grep -q freeassociation '$f'"
check "CRLF line ends only" $PY -c 'import sys; d=open(sys.argv[1],"rb").read(); sys.exit(0 if d.count(b"\n")==d.count(b"\r\n") else 1)' "$f"
check "lines at most 75 octets" $PY -c 'import sys; sys.exit(0 if all(len(l)<=75 for l in open(sys.argv[1],"rb").read().split(b"\r\n")) else 1)' "$f"
# Byte-identical output for identical input.
"$HERALD" ics "$ROOT/plans/acme-isms.json" -o "$T/x1.ics"
"$HERALD" ics "$ROOT/plans/acme-isms.json" -o "$T/x2.ics"
check "identical runs give identical bytes" cmp -s "$T/x1.ics" "$T/x2.ics"
check "unknown audience is a usage error" bash -c "'$HERALD' ics '$ROOT/plans/acme-isms.json' --audience nobody >/dev/null 2>&1; [ \$? -eq 2 ]"
finish
