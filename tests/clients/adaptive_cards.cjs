// adaptive_cards.cjs LOG PREFIX - every Teams card in an http_receiver.py
// log (requests whose path starts with PREFIX) parsed and validated by
// Microsoft's own Adaptive Cards library (npm adaptivecards), as a Teams
// client renders it: prints one line per problem (parse events and
// validation events) and exits 1 if there is any, 2 if no card was seen.
"use strict";
const fs = require("fs");
// The package's main entry is an ES module build that Node cannot load;
// its dist bundle is the same library as one UMD file.
const AC = require("adaptivecards/dist/adaptivecards.js");

const [log, prefix] = process.argv.slice(2);
let cards = 0, problems = 0;
for (const line of fs.readFileSync(log, "utf8").split("\n")) {
	if (!line)
		continue;
	const r = JSON.parse(line);
	if (!r.path.startsWith(prefix))
		continue;
	const msg = JSON.parse(r.body);
	for (const att of msg.attachments || []) {
		const card = new AC.AdaptiveCard();
		const ctx = new AC.SerializationContext();
		card.parse(att.content, ctx);
		const events = [];
		for (let i = 0; i < ctx.eventCount; i++)
			events.push(ctx.getEventAt(i));
		events.push(...card.validateProperties().validationEvents);
		for (const e of events) {
			console.log(`${r.path}: ${AC.ValidationEvent[e.event]}: ${e.message}`);
			problems++;
		}
		cards++;
	}
}
console.log(`${cards} cards, ${problems} problems`);
process.exit(problems ? 1 : cards ? 0 : 2);
