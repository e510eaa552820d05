// expand_nodeical.mjs ICS FROM TO ZONE - expands a feed as node-ical (one
// of the most used JavaScript parsers) reads it, through its own
// expandRecurringEvent (RRULE, EXDATE, RECURRENCE-ID).  Output as
// expand_py.py's.  Run with TZ=UTC: node-ical reads dates in the process's
// zone.
import fs from "node:fs";
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const ical = require("node-ical");

const [path, lo, hi, zone] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), process.argv[5]];
const localDate = (secs) => new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(secs * 1000));
const [dlo, dhi] = [localDate(lo), localDate(hi)];
const ymd = (d) => d.toISOString().slice(0, 10);
const data = ical.sync.parseICS(fs.readFileSync(path, "utf8"));
const out = [];
const emit = (s, e, full, summary) => {
	if (full) {
		const [a, b] = [ymd(s), ymd(e)];
		if (a >= dlo && a < dhi)
			out.push(`${a} ${b} ${summary}`);
		return;
	}
	const [a, b] = [Math.round(s.getTime() / 1000), Math.round(e.getTime() / 1000)];
	if (a >= lo && a < hi)
		out.push(`${a} ${b} ${summary}`);
};
for (const ev of Object.values(data)) {
	if (ev.type !== "VEVENT" || ev.recurrenceid)
		continue;
	const full = ev.datetype === "date";
	if (!ev.rrule) {
		emit(ev.start, ev.end, full, ev.summary);
		continue;
	}
	const from = new Date((lo - 3 * 86400) * 1000), to = new Date((hi + 3 * 86400) * 1000);
	for (const i of ical.expandRecurringEvent(ev, { from, to }))
		emit(i.start, i.end, i.isFullDay, typeof i.summary === "string" ? i.summary : ev.summary);
}
for (const l of out)
	console.log(l);
