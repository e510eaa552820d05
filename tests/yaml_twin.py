#!/usr/bin/python3
"""Writes the YAML twin of a JSON plan: the same tree, in the block style a
person would write (bare scalars where YAML reads them as the same value,
double quotes elsewhere).  Used to make tests/data/bad/*.yaml:

    /usr/bin/python3 tests/yaml_twin.py tests/data/bad/NAME.json > tests/data/bad/NAME.yaml
"""
import json
import re
import sys

# Bare scalars some YAML reader takes for something other than a string.
TYPED = re.compile(r"""^(|~|null|Null|NULL|true|True|TRUE|false|False|FALSE
    |y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF
    |[-+]?[0-9][0-9_]*(\.[0-9_]*)?([eE][-+]?[0-9]+)?|[-+]?\.[0-9_]+([eE][-+]?[0-9]+)?
    |0o[0-7]+|[-+]?0x[0-9a-fA-F_]+|[-+]?0b[01_]+|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?
    |[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$""", re.X)
PLAIN = re.compile(r"^[A-Za-z0-9(][^\n]*$")


def scalar(v, flow):
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return json.dumps(v)
    s = v
    bad = (not PLAIN.match(s) or TYPED.match(s) or ": " in s or " #" in s or s.endswith(":")
           or s != s.strip() or (flow and any(c in s for c in ",[]{}")))
    return json.dumps(s, ensure_ascii=False) if bad else s


def key(k):
    return k if re.match(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$", k) and not TYPED.match(k) \
        else json.dumps(k, ensure_ascii=False)


def emit(v, indent, out):
    pad = "  " * indent
    if isinstance(v, dict):
        for k, x in v.items():
            if isinstance(x, dict) and x:
                out.append(f"{pad}{key(k)}:")
                emit(x, indent + 1, out)
            elif isinstance(x, list) and x and any(isinstance(e, (dict, list)) for e in x):
                out.append(f"{pad}{key(k)}:")
                emit(x, indent + 1, out)
            else:
                out.append(f"{pad}{key(k)}: {inline(x)}")
    elif isinstance(v, list):
        for x in v:
            if isinstance(x, dict) and x:
                sub = []
                emit(x, indent + 1, sub)
                sub[0] = pad + "- " + sub[0][len(pad) + 2:]
                out.extend(sub)
            else:
                out.append(f"{pad}- {inline(x)}")


def inline(x):
    if isinstance(x, dict):
        return "{" + ", ".join(f"{key(k)}: {inline(v)}" for k, v in x.items()) + "}"
    if isinstance(x, list):
        return "[" + ", ".join(inline(v) for v in x) + "]"
    return scalar(x, True)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    out = [f"# YAML twin of {sys.argv[1].rsplit('/', 1)[-1]} (tests/yaml_twin.py)"]
    if not isinstance(doc, dict):
        out.append(inline(doc))
    else:
        emit(doc, 0, out)
    print("\n".join(out))


if __name__ == "__main__":
    main()
