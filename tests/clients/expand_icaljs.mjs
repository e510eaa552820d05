// expand_icaljs.mjs ICS FROM TO ZONE - expands a feed as ical.js
// (Thunderbird's parser) reads it, registering the feed's VTIMEZONEs.
// Output as expand_py.py's.
import fs from "node:fs";
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const ICAL = require("ical.js").default ?? require("ical.js");

const [path, lo, hi, zone] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), process.argv[5]];
const localDate = (secs) => new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(secs * 1000));
const [dlo, dhi] = [localDate(lo), localDate(hi)];
const day = (t) => `${String(t.year).padStart(4, "0")}-${String(t.month).padStart(2, "0")}-${String(t.day).padStart(2, "0")}`;
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
const emit = (s, e, summary) => {
	if (s.isDate) {
		if (day(s) >= dlo && day(s) < dhi)
			out.push(`${day(s)} ${day(e)} ${summary}`);
		return;
	}
	const [a, b] = [s.toUnixTime(), e.toUnixTime()];
	if (a >= lo && a < hi)
		out.push(`${a} ${b} ${summary}`);
};
for (const ev of masters.values()) {
	if (!ev.isRecurring()) {
		emit(ev.startDate, ev.endDate, ev.summary);
		continue;
	}
	const it = ev.iterator();
	for (let t = it.next(), n = 0; t && n < 100000; t = it.next(), n++) {
		const d = ev.getOccurrenceDetails(t);
		if (t.toUnixTime() > hi + 86400 * 2)
			break;
		emit(d.startDate, d.endDate, d.item.summary);
	}
}
for (const l of out)
	console.log(l);
