// ajv_schema.mjs SCHEMA PLAN... - compiles the plan schema with ajv in
// JSON Schema 2020-12 mode (strict, Unicode regular expressions, as
// editors and CI linters use it), validates every PLAN against it, and
// checks that the email pattern still refuses what it should.
import fs from "node:fs";
import Ajv2020 from "ajv/dist/2020.js";

const [schemaPath, ...plans] = process.argv.slice(2);
const ajv = new Ajv2020({ strict: true, allErrors: true });
let validate;
try {
  validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, "utf8")));
} catch (e) {
  console.error(`ajv cannot compile ${schemaPath}: ${e.message}`);
  process.exit(1);
}
let failed = 0;
for (const p of plans) {
  if (!validate(JSON.parse(fs.readFileSync(p, "utf8")))) {
    console.error(`${p}: ${ajv.errorsText(validate.errors)}`);
    failed++;
  }
}
// The members' email pattern: a quote or a space is not an address.
const plan = JSON.parse(fs.readFileSync(plans[0], "utf8"));
const aud = Object.values(plan.audiences)[0];
for (const [email, want] of [["dana@acme.example", true], ['da"na@acme.example', false],
                             ["da na@acme.example", false]]) {
  aud.members = [{ name: "Dana", email }];
  if (validate(plan) !== want) {
    console.error(`email ${email}: expected ${want ? "valid" : "invalid"}`);
    failed++;
  }
}
console.log(`ajv 2020-12: schema compiled, ${plans.length} plans checked, ${failed} problems`);
process.exit(failed ? 1 : 0);
