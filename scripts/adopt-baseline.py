#!/usr/bin/env python3
"""scripts/adopt-baseline.py: the straightforward way to do what `stackwire adopt` does, for the
side-by-side in scripts/bench-adopt. Loads a `kubectl get -o json` dump and a `pulumi stack export`
with json.load and joins them with dicts, using the same matching rules:

  1. state resources: `kubernetes:<group>/<version>:<Kind>` types, custom, not pending delete, not
     `external`; namespace/name from outputs.metadata, else from the id; `*Patch` types patch;
  2. an object matches by metadata.uid when the state has it, else by (kind, namespace, name) with
     the same group, or any two built-in groups (extensions/v1beta1 -> apps/v1);
  3. unmatched objects: controller ownerReference -> excluded, Helm/Argo CD/Flux markers -> managed
     elsewhere, the rest candidates; unmatched state resources -> missing.

usage: adopt-baseline.py DUMP.json STATE.json    (prints the class counts as JSON)
"""

import json
import sys

BUILTIN = {
    "", "apps", "batch", "autoscaling", "policy", "extensions", "networking.k8s.io",
    "rbac.authorization.k8s.io", "storage.k8s.io", "apiextensions.k8s.io",
    "admissionregistration.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "discovery.k8s.io",
    "events.k8s.io", "node.k8s.io", "certificates.k8s.io", "apiregistration.k8s.io",
    "flowcontrol.apiserver.k8s.io", "resource.k8s.io", "metrics.k8s.io",
}


def parse_token(t):
    if not t.startswith("kubernetes:"):
        return None
    parts = t.split(":")
    if len(parts) != 3 or "/" not in parts[1]:
        return None
    group, version = parts[1].rsplit("/", 1)
    group = "" if group == "core" else group
    kind, patch = parts[2], False
    if kind.endswith("Patch") and group in BUILTIN and len(kind) > 5:
        kind, patch = kind[:-5], True
    return group, version, kind, patch


def main():
    dump_path, state_path = sys.argv[1], sys.argv[2]
    with open(dump_path) as f:
        dump = json.load(f)
    with open(state_path) as f:
        state = json.load(f)
    deployment = state.get("deployment") or (state.get("checkpoint") or {}).get("latest") or {}

    resources = []
    by_uid, by_key = {}, {}
    for r in deployment.get("resources", []):
        if not r.get("custom") or r.get("delete"):
            continue
        tok = parse_token(r.get("type", ""))
        if tok is None or tok[0] == "helm.sh":
            continue
        group, _, kind, patch = tok
        meta = (r.get("outputs") or {}).get("metadata") or {}
        rid = r.get("id", "")
        ns, _, name = rid.rpartition("/")
        ns = meta.get("namespace", ns or None)
        name = meta.get("name", name)
        res = {"group": group, "kind": kind, "patch": patch, "external": bool(r.get("external")),
               "matched": False}
        resources.append(res)
        if meta.get("uid"):
            by_uid.setdefault(meta["uid"], []).append(res)
        by_key.setdefault((kind, ns, name), []).append(res)

    items = dump["items"] if "items" in dump else [dump]
    counts = {"managed": 0, "partially-managed": 0, "managed-elsewhere": 0, "excluded": 0,
              "candidate": 0, "missing": 0}
    for obj in items:
        meta = obj.get("metadata") or {}
        group = obj.get("apiVersion", "").rpartition("/")[0]
        kind = obj.get("kind")
        hits = [r for r in by_uid.get(meta.get("uid"), []) if not r["external"]]
        if not hits:
            hits = [r for r in by_key.get((kind, meta.get("namespace"), meta.get("name")), [])
                    if not r["external"]
                    and (r["group"] == group or (r["group"] in BUILTIN and group in BUILTIN))]
        if hits:
            for r in hits:
                r["matched"] = True
            full = [r for r in hits if not r["patch"]]
            counts["managed" if full else "partially-managed"] += 1
            continue
        labels = meta.get("labels") or {}
        annotations = meta.get("annotations") or {}
        if any(o.get("controller") for o in meta.get("ownerReferences") or []):
            counts["excluded"] += 1
        elif (labels.get("app.kubernetes.io/managed-by") == "Helm"
              or "meta.helm.sh/release-name" in annotations
              or "argocd.argoproj.io/tracking-id" in annotations
              or "kustomize.toolkit.fluxcd.io/name" in labels):
            counts["managed-elsewhere"] += 1
        else:
            counts["candidate"] += 1
    counts["missing"] = sum(1 for r in resources if not r["matched"] and not r["external"])
    counts["objects"] = len(items)
    json.dump(counts, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
