#!/usr/bin/python3
"""Checks contrib/plan.schema.json against the plans and against herald.

Run with Debian's python (it has python3-jsonschema):

    /usr/bin/python3 tests/schema_test.py path/to/herald

(a) the schema is a valid Draft 2020-12 schema and every plans/**/*.json
    validates against it;
(b) every bad plan in tests/data/bad whose defect is structural (listed in
    SCHEMA_JUDGEABLE) is rejected by the schema AND by `herald check`
    (exit 1); every other bad plan that is valid JSON is accepted by the
    schema, so the list is exact and each bad plan has one defect only;
(c) `herald check` exits 0 on every plan in plans/ (with plans/demo.env).

YAML: every plans/**/*.yaml validates too (read with PyYAML, dates kept as
text as herald keeps them), and every YAML twin in tests/data/bad (NAME.yaml
beside NAME.json) gets the same exit code from `herald check` as its JSON
twin, so the schema agrees with check on it as well.  yaml-*.yaml cases are
YAML-only hazards a JSON Schema cannot see.
"""
import glob
import json
import os
import subprocess
import sys

try:
    from jsonschema import Draft202012Validator
except ImportError:
    sys.exit("schema_test.py: needs python3-jsonschema; run it with /usr/bin/python3")
try:
    import yaml
except ImportError:
    sys.exit("schema_test.py: needs python3-yaml; run it with /usr/bin/python3")


class TextDates(yaml.SafeLoader):
    """YAML 1.1 as PyYAML reads it, but dates stay strings (as in herald)."""


TextDates.yaml_implicit_resolvers = {
    k: [r for r in v if r[0] != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA = os.path.join(ROOT, "contrib", "plan.schema.json")
PLANS = os.path.join(ROOT, "plans")
BAD = os.path.join(ROOT, "tests", "data", "bad")

# Bad plans a JSON Schema can judge on its own: unknown or missing keys,
# wrong types, enums and patterns.  The others need herald's semantics
# (time zones, calendar dates, RRULE meaning, references, env:, files,
# templates, duplicate ids or keys) or are not JSON at all.
SCHEMA_JUDGEABLE = {
    "missing-plan-id", "missing-plan-version", "missing-plan-owner",
    "missing-plan-timezone", "missing-comm-id", "missing-comm-topic",
    "missing-comm-audiences", "missing-comm-owner", "missing-comm-schedule",
    "missing-channel-type", "missing-deliver-channel", "missing-schedule-start",
    "unknown-key-top", "unknown-key-plan", "unknown-key-channel",
    "unknown-key-audience", "unknown-key-member", "unknown-key-deliver",
    "unknown-key-communication", "unknown-key-schedule",
    "unknown-key-acknowledge", "manual-with-duration",
    "bad-id-plan", "bad-id-communication", "bad-id-channel",
    "bad-cadence", "schedule-two-kinds", "schedule-empty", "bad-manual-trigger",
    "rrule-bad-syntax", "rrule-no-freq", "rrule-hourly", "rrule-minutely",
    "rrule-secondly",
    "local-month-13", "local-with-offset", "local-until-date-only",
    "local-except-space", "except-not-list", "bad-next-review-date",
    "bad-duration", "bad-notify-offset", "bad-remind-after", "bad-new-members",
    "email-to-invalid", "member-email-invalid",
    "bad-scope", "bad-feed", "bad-channel-type",
    "type-audiences-string", "type-version-number", "type-owner-number",
    "type-acknowledge-string", "type-starttls-string", "type-comms-object",
    "type-notify-string", "toplevel-array", "toplevel-string", "five-errors",
    "manual-with-shift", "shift-unknown", "comm-url-not-http", "all-day-with-time",
    "base-url-scheme", "base-url-query", "drill-bad-address", "drill-empty",
    "drill-unknown-key", "drill-channel-without-type",
}

# Harmless values for the env: variables of the bad plans (as run_bad_plans.sh).
TEST_ENV = {
    "TEST_SLACK_WEBHOOK": "http://127.0.0.1:9/test/slack",
    "TEST_SMTP_USER": "test-user",
    "TEST_SMTP_PASS": "test-password-not-a-secret",
    "TEST_HOOK_URL": "http://127.0.0.1:9/test/hook",
    "TEST_HOOK_AUTH": "test-token-not-a-secret",
    "TEST_HOOK_SECRET": "whsec_dGVzdC1zZWNyZXQtbm90LWEtc2VjcmV0",
}

passed = 0
failed = 0


def ok(what):
    global passed
    passed += 1


def fail(what, why):
    global failed
    failed += 1
    print(f"FAIL {what}: {why}")


def load_env_file(path):
    env = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, _, value = line.partition("=")
            env[key.strip()] = value
    return env


def herald_check(herald, plan, extra_env):
    env = dict(os.environ)
    env.pop("HERALD_TEST_MISSING_VAR_XYZ", None)
    env.update(extra_env)
    try:
        p = subprocess.run([herald, "check", plan], env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=10)
    except subprocess.TimeoutExpired:
        return None, "timed out after 10 s"
    except OSError as e:
        return None, f"cannot run {herald}: {e}"
    return p.returncode, p.stderr.decode("utf-8", "replace")


def short(text):
    return " ".join(text.strip().splitlines()[:3])[:300]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: /usr/bin/python3 tests/schema_test.py path/to/herald")
    herald = os.path.abspath(sys.argv[1])

    # (a) the schema and the good plans
    with open(SCHEMA, encoding="utf-8") as f:
        schema = json.load(f)
    try:
        Draft202012Validator.check_schema(schema)
        ok("schema")
    except Exception as e:  # SchemaError
        fail("contrib/plan.schema.json", f"not a valid Draft 2020-12 schema: {e}")
        print(f"{passed} passed, {failed} failed")
        return 1
    if schema.get("$id") != "https://herald.example/plan.schema.json":
        fail("contrib/plan.schema.json", "wrong $id")
    else:
        ok("$id")
    validator = Draft202012Validator(schema)

    good = sorted(glob.glob(os.path.join(PLANS, "**", "*.json"), recursive=True) +
                  glob.glob(os.path.join(PLANS, "**", "*.yaml"), recursive=True))
    if not good:
        fail("plans/", "no plans found")
    for plan in good:
        rel = os.path.relpath(plan, ROOT)
        with open(plan, encoding="utf-8") as f:
            doc = yaml.load(f, Loader=TextDates) if plan.endswith(".yaml") else json.load(f)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        if errors:
            e = errors[0]
            where = "/".join(str(p) for p in e.absolute_path) or "(root)"
            fail(f"schema {rel}", f"{len(errors)} error(s), first at {where}: {e.message[:200]}")
        else:
            ok(rel)

    # (b) bad plans: schema and herald agree on the structural ones
    bad = sorted(glob.glob(os.path.join(BAD, "*.json")))
    names = {os.path.basename(p)[:-5] for p in bad}
    for name in sorted(SCHEMA_JUDGEABLE - names):
        fail(f"bad/{name}", "listed in SCHEMA_JUDGEABLE but tests/data/bad/NAME.json is missing")
    for plan in bad:
        name = os.path.basename(plan)[:-5]
        try:
            with open(plan, "rb") as f:
                doc = json.loads(f.read().decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            if name in SCHEMA_JUDGEABLE:
                fail(f"bad/{name}", "listed as schema-judgeable but is not valid JSON")
            continue  # syntax errors are run_bad_plans.sh's business
        rejected = not validator.is_valid(doc)
        if name in SCHEMA_JUDGEABLE:
            if not rejected:
                fail(f"schema bad/{name}", "schema accepts a structurally invalid plan")
            else:
                ok(f"schema bad/{name}")
            rc, err = herald_check(herald, plan, TEST_ENV)
            if rc != 1:
                fail(f"herald bad/{name}", f"schema rejects it but herald check gave "
                     f"{'exit ' + str(rc) if rc is not None else err}: {short(err) if rc is not None else ''}")
            else:
                ok(f"herald bad/{name}")
        else:
            if rejected:
                e = next(iter(validator.iter_errors(doc)))
                fail(f"schema bad/{name}", "not in SCHEMA_JUDGEABLE but the schema rejects it "
                     f"(a second, structural defect?): {e.message[:200]}")
            else:
                ok(f"schema bad/{name}")

    # YAML twins: the same verdict as their JSON twin (which the schema judged)
    for plan in sorted(glob.glob(os.path.join(BAD, "*.yaml"))):
        name = os.path.basename(plan)[:-5]
        twin = os.path.join(BAD, name + ".json")
        if name.startswith("yaml-"):
            continue
        if not os.path.exists(twin):
            fail(f"bad/{name}.yaml", "a YAML twin without NAME.json (YAML-only cases are yaml-*)")
            continue
        rc_y, err_y = herald_check(herald, plan, TEST_ENV)
        rc_j, err_j = herald_check(herald, twin, TEST_ENV)
        if rc_y != rc_j or rc_y is None:
            fail(f"herald bad/{name}.yaml", f"exit {rc_y}, its JSON twin {rc_j}: {short(err_y)}")
        else:
            ok(f"herald bad/{name}.yaml")

    # (c) herald accepts every plan in plans/
    demo_env = load_env_file(os.path.join(PLANS, "demo.env"))
    for plan in good:
        rel = os.path.relpath(plan, ROOT)
        rc, err = herald_check(herald, plan, demo_env)
        if rc != 0:
            fail(f"herald {rel}", f"herald check gave {'exit ' + str(rc) if rc is not None else err}: "
                 f"{short(err) if rc is not None else ''}")
        else:
            ok(f"herald {rel}")

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
