// expand_icaljs.mjs ICS FROM TO - expands a feed as ical.js (Thunderbird's
// parser) reads it: one line per occurrence whose start is in [FROM, TO)
// (Unix seconds), "start end summary", sorted.
import fs from "node:fs";
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const ICAL = require("ical.js").default ?? require("ical.js");

const [path, lo, hi] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const root = new ICAL.Component(ICAL.parse(fs.readFileSync(path, "utf8")));
for (const vtz of root.getAllSubcomponents("vtimezone"))
	ICAL.TimezoneService.register(vtz);
const events = root.getAllSubcomponents("vevent").map((c) => new ICAL.Event(c));
const masters = new Map();
const out = [];
for (const ev of events)
	if (!ev.isRecurrenceException())
		masters.set(ev.uid, ev);
for (const ev of events)
	if (ev.isRecurrenceException())
		masters.get(ev.uid).relateException(ev);
for (const ev of masters.values()) {
	if (!ev.isRecurring()) {
		const s = ev.startDate.toUnixTime();
		if (s >= lo && s < hi)
			out.push([s, ev.endDate.toUnixTime(), ev.summary]);
		continue;
	}
	const it = ev.iterator();
	for (let t = it.next(), n = 0; t && n < 100000; t = it.next(), n++) {
		const d = ev.getOccurrenceDetails(t);
		const s = d.startDate.toUnixTime();
		if (t.toUnixTime() > hi + 86400 * 2)
			break;
		if (s >= lo && s < hi)
			out.push([s, d.endDate.toUnixTime(), d.item.summary]);
	}
}
out.sort((a, b) => a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0));
for (const [s, e, t] of out)
	console.log(`${s} ${e} ${t}`);
