#!/usr/bin/env python3
"""Writes emulator/src/protocol/validation/generated.rs: the input constraints (required, length, pattern, range,
enum) of every IAM and STS operation the emulator serves, from botocore's service models — the same models the
AWS CLI and boto3 validate against, and the constraints AWS itself reports in "N validation errors detected".

Run with the Python that has botocore (scripts/test.sh's venv):
    ~/.cache/kubectl-irsa/venv/bin/python scripts/gen-input-constraints.py
The generated file is committed; re-run after a botocore upgrade and review the diff.

Patterns are Java regular expressions (Coral validates with java.util.regex, matching the whole value). They are
translated to the Rust regex crate's syntax keeping Java's meaning: \\w and \\d are ASCII-only in Java, and
\\uXXXX takes exactly four hex digits (so the models' "\\u10000" is U+1000 followed by '0', as in Java).
"""

import re
import sys
from pathlib import Path

import botocore
import botocore.loaders

OUT = Path(__file__).resolve().parent.parent / "emulator/src/protocol/validation/generated.rs"

SERVED = {
    ("iam", "2010-05-08"): [
        "CreateRole", "GetRole", "DeleteRole", "ListRoles", "UpdateRole", "UpdateRoleDescription",
        "UpdateAssumeRolePolicy", "TagRole", "UntagRole", "ListRoleTags", "PutRolePermissionsBoundary",
        "DeleteRolePermissionsBoundary", "AttachRolePolicy", "DetachRolePolicy", "ListAttachedRolePolicies",
        "PutRolePolicy", "GetRolePolicy", "DeleteRolePolicy", "ListRolePolicies", "CreatePolicy", "GetPolicy",
        "DeletePolicy", "ListPolicies", "GetPolicyVersion", "CreatePolicyVersion", "ListPolicyVersions",
        "DeletePolicyVersion", "SetDefaultPolicyVersion", "CreateOpenIDConnectProvider",
        "GetOpenIDConnectProvider", "ListOpenIDConnectProviders", "DeleteOpenIDConnectProvider",
        "AddClientIDToOpenIDConnectProvider", "RemoveClientIDFromOpenIDConnectProvider",
        "UpdateOpenIDConnectProviderThumbprint", "TagOpenIDConnectProvider", "UntagOpenIDConnectProvider",
        "ListOpenIDConnectProviderTags",
    ],
    ("sts", "2011-06-15"): ["AssumeRole", "AssumeRoleWithWebIdentity", "GetSessionToken", "GetCallerIdentity"],
}


def rust_regex(java: str) -> str:
    """Java regex source to Rust regex source with the same meaning, anchored as Java's matches() is."""
    out, i, in_class = [], 0, False
    while i < len(java):
        c = java[i]
        if c == "\\" and i + 1 < len(java):
            n = java[i + 1]
            if n == "u":
                out.append("\\x{%s}" % java[i + 2 : i + 6])
                i += 6
                continue
            if n == "w":
                out.append("a-zA-Z0-9_" if in_class else "[a-zA-Z0-9_]")
            elif n == "d":
                out.append("0-9" if in_class else "[0-9]")
            else:
                out.append(java[i : i + 2])
            i += 2
            continue
        if c == "[" and not in_class:
            in_class = True
        elif c == "]" and in_class:
            in_class = False
        out.append(c)
        i += 1
    return "^(?:" + "".join(out) + ")$"


def rust_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def const_name(shape: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", shape).upper()


class Emitter:
    def __init__(self, prefix, shapes):
        self.prefix, self.shapes, self.done, self.lines = prefix, shapes, set(), []

    def shape(self, name: str) -> str:
        const = f"{self.prefix}_{const_name(name)}"
        if name in self.done:
            return const
        self.done.add(name)
        d = self.shapes[name]
        kind = d["type"]
        if kind == "string":
            pattern = d.get("pattern")
            body = (
                "Shape::String(StringRules { "
                f"min: {d.get('min', 0)}, max: {opt(d.get('max'))}, "
                f"pattern: {opt_pattern(pattern)}, "
                f"values: &[{', '.join(rust_str(v) for v in d.get('enum', []))}] }})"
            )
        elif kind in ("integer", "long"):
            body = f"Shape::Integer {{ min: {opt(d.get('min'))}, max: {opt(d.get('max'))} }}"
        elif kind == "boolean":
            body = "Shape::Boolean"
        elif kind == "list":
            member = self.shape(d["member"]["shape"])
            body = f"Shape::List {{ min: {d.get('min', 0)}, max: {opt(d.get('max'))}, member: &{member} }}"
        elif kind == "structure":
            body = f"Shape::Structure(&[{self.members(d)}])".replace("\n    ", "\n")
        else:
            body = "Shape::Unchecked"
        self.lines.append(f"const {const}: Shape = {body};")
        return const

    def members(self, d) -> str:
        required = set(d.get("required", []))
        out = []
        for member, ref in d.get("members", {}).items():
            target = self.shape(ref["shape"])
            sensitive = "true" if self.shapes[ref["shape"]].get("sensitive") else "false"
            out.append(
                f"Member {{ name: {rust_str(member)}, required: {'true' if member in required else 'false'}, "
                f"sensitive: {sensitive}, shape: &{target} }}"
            )
        return "".join(f"\n        {m}," for m in out) + ("\n    " if out else "")


def opt(v):
    return "None" if v is None else f"Some({v})"


def opt_pattern(p):
    return "None" if p is None else f"Some(Pattern {{ java: {rust_str(p)}, rust: {rust_str(rust_regex(p))} }})"


def main():
    loader = botocore.loaders.Loader()
    lines = [
        "// @generated by scripts/gen-input-constraints.py from botocore " + botocore.__version__
        + "'s IAM and STS service models. Do not edit.",
        "#![allow(clippy::all)]",
        "",
        "use super::{Member, Operation, Pattern, Shape, StringRules};",
        "",
    ]
    tables = []
    for (service, version), operations in SERVED.items():
        model = loader.load_service_model(service, "service-2", version)
        emitter = Emitter(service.upper(), model["shapes"])
        entries = []
        for name in operations:
            op = model["operations"][name]
            members = emitter.members(model["shapes"][op["input"]["shape"]]) if "input" in op else ""
            entries.append(f"    Operation {{ name: {rust_str(name)}, members: &[{members}] }},")
        lines += emitter.lines + [""]
        tables.append((service.upper(), entries))
    for service, entries in tables:
        lines.append(f"pub const {service}: &[Operation] = &[")
        lines += entries
        lines += ["];", ""]
    OUT.write_text("\n".join(lines))
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
