#!/usr/bin/env python3
# Copyright the stackwire authors. Licensed under Apache-2.0.
"""mkstate.py - build a real Pulumi DIY (file://) backend from a small JSON spec.

usage: mkstate.py [--seed N] [SPEC.json | -] OUTDIR

The spec is read from SPEC.json, or from stdin when it is '-' or omitted. OUTDIR receives `.pulumi/` (the DIY
backend) and, unless disabled, one project folder per project with `Pulumi.yaml` and `Pulumi.<stack>.yaml`.
A JSON summary (paths, backend URL, salts) is printed on stdout. See README.md for the spec format.

Secrets are encrypted exactly like the CLI's passphrase secrets manager (PBKDF2-HMAC-SHA256, 1,000,000 rounds,
AES-256-GCM); the key is derived once per (passphrase, salt). With --seed, salts, nonces, ids and times are fixed,
so the output is byte-for-byte reproducible.
"""

import argparse
import base64
import copy
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def _load_standin():
    loader = importlib.machinery.SourceFileLoader("pulumi_standin", os.path.join(HERE, "pulumi"))
    spec = importlib.util.spec_from_loader("pulumi_standin", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


P = _load_standin()
S = P.S
SIG_KEY, SECRET_SIG = P.SIG_KEY, P.SECRET_SIG
DEFAULT_VERSION = P.VERSION

DEFAULTS = {
    "project": "proj",
    "stack": "dev",
    "passphrase": None,
    "outputs": {},
    "config": {},
    "extra_resources": 0,
    "secret_every": 50,
    "filler_kinds": ["aws", "kubernetes"],
    "compression": "none",
    "layout": "project",
    "minified": True,
    "never_deployed": False,
    "checkpoint_version": None,
    "features": [],
    "time": None,
    "version": DEFAULT_VERSION,
    "salt": None,
    "project_dir": "<project>",
    "stack_config": True,
    "backend_url_in_project": False,
    "checkpoint_file": None,
    "tags": None,
}


class SpecError(Exception):
    pass


class Ctx:
    def __init__(self, seed):
        self.seed = seed
        self.rng = random.Random(seed) if seed is not None else random.SystemRandom()
        self.keys = {}

    def bytes(self, n):
        return bytes(self.rng.getrandbits(8) for _ in range(n))

    def hex(self, n):
        return "".join("%x" % self.rng.getrandbits(4) for _ in range(n))

    def uuid(self):
        h = self.hex(32)
        h = h[:12] + "4" + h[13:16] + "89ab"[self.rng.getrandbits(2)] + h[17:]
        return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:32])

    def crypter(self, passphrase, salt):
        k = (passphrase, salt)
        if k not in self.keys:
            self.keys[k] = P.SymmetricCrypter(P.derive_key(passphrase, salt))
        return self.keys[k]


class Secrets:
    """Encrypts secret values for one stack: passphrase (AES-GCM) or the b64 test provider."""

    def __init__(self, ctx, passphrase, salt_b64):
        self.ctx = ctx
        self.passphrase = passphrase
        self.count = 0
        if passphrase is None:
            self.provider = S([("type", "b64"), ("state", P.Raw())])
            self.salt_state = None
            self.crypter = None
            return
        salt = base64.b64decode(salt_b64) if salt_b64 else ctx.bytes(8)
        if len(salt) != 8:
            raise SpecError("salt must be 8 bytes (base64)")
        self.crypter = ctx.crypter(passphrase, salt)
        check = self.crypter.encrypt("pulumi", ctx.bytes(12))
        self.salt_state = "v1:%s:%s" % (base64.b64encode(salt).decode(), check)
        self.provider = S([("type", "passphrase"), ("state", P.Raw([("salt", self.salt_state)]))])

    def state_secret(self, value):
        """A state secret: ciphertext of the JSON text (Go json.Marshal) of the value."""
        self.count += 1
        text = P.go_json(value, escape_html=True)
        if self.crypter is None:
            ct = base64.b64encode(text.encode("utf-8")).decode()
        else:
            ct = self.crypter.encrypt(text, self.ctx.bytes(12))
        return {SIG_KEY: SECRET_SIG, "ciphertext": ct}

    def config_secret(self, text):
        if self.crypter is None:
            raise SpecError("config secrets need a passphrase (the b64 provider has no stack-config form)")
        return self.crypter.encrypt(text, self.ctx.bytes(12))


def is_marker(v):
    return isinstance(v, dict) and len(v) == 1 and "$secret" in v


def strip_markers(v):
    if is_marker(v):
        return strip_markers(v["$secret"])
    if isinstance(v, dict):
        return {k: strip_markers(x) for k, x in v.items()}
    if isinstance(v, list):
        return [strip_markers(x) for x in v]
    return v


def encode_outputs(v, secrets):
    if is_marker(v):
        return secrets.state_secret(strip_markers(v["$secret"]))
    if isinstance(v, dict):
        return {k: encode_outputs(x, secrets) for k, x in v.items()}
    if isinstance(v, list):
        return [encode_outputs(x, secrets) for x in v]
    return v


def encode_config(v, secrets):
    if is_marker(v):
        inner = v["$secret"]
        text = inner if isinstance(inner, str) else P.go_json(strip_markers(inner), escape_html=True)
        return {"secure": secrets.config_secret(text)}
    if isinstance(v, dict):
        return {k: encode_config(x, secrets) for k, x in v.items()}
    if isinstance(v, list):
        return [encode_config(x, secrets) for x in v]
    return v


# ---------------------------------------------------------------------------------------------------------------
# Filler resources
# ---------------------------------------------------------------------------------------------------------------

AWS_VERSION = "6.66.2"
K8S_VERSION = "4.18.1"
RANDOM_VERSION = "4.16.8"
REGION = "us-west-2"
ACCOUNT = "123456789012"
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo",
         "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango", "uniform", "victor"]


class Filler:
    def __init__(self, ctx, project, stack, stack_urn, t, secrets):
        self.ctx = ctx
        self.project = project
        self.stack = stack
        self.stack_urn = stack_urn
        self.time = t
        self.secrets = secrets
        self.providers = {}
        self.provider_resources = []

    def urn(self, typ, name):
        return "urn:pulumi:%s::%s::%s::%s" % (self.stack, self.project, typ, name)

    def provider(self, pkg, version, inputs):
        if pkg not in self.providers:
            name = "default_" + version.replace(".", "_")
            urn = self.urn("pulumi:providers:" + pkg, name)
            pid = self.ctx.uuid()
            self.providers[pkg] = "%s::%s" % (urn, pid)
            ins = dict(inputs, __internal={}, version=version)
            self.provider_resources.append(S([
                ("urn", urn), ("custom", True), ("id", pid), ("type", "pulumi:providers:" + pkg),
                ("inputs", ins), ("outputs", copy.deepcopy(ins)), ("created", self.time), ("modified", self.time)]))
        return self.providers[pkg]

    def word(self):
        return self.ctx.rng.choice(WORDS)

    def resource(self, i, kind, secret):
        if kind == "aws":
            return self.random_password(i) if secret else self.bucket(i)
        return self.k8s_secret(i) if secret else self.configmap(i)

    def _common(self, urn, typ, rid, inputs, outputs, provider, deps=None):
        r = S([("urn", urn), ("custom", True), ("id", rid), ("type", typ), ("inputs", inputs),
               ("outputs", outputs), ("parent", self.stack_urn)])
        if deps:
            r["dependencies"] = deps
        r["provider"] = provider
        r["propertyDependencies"] = {k: [] for k in sorted(inputs) if not k.startswith("__")}
        r["created"] = self.time
        r["modified"] = self.time
        return r

    def bucket(self, i):
        prov = self.provider("aws", AWS_VERSION, {"region": REGION, "skipCredentialsValidation": "false",
                                                   "skipMetadataApiCheck": "true"})
        name = "bucket-%05d" % i
        phys = "%s-%s" % (name, self.ctx.hex(7))
        tags = {"Environment": self.stack, "ManagedBy": "pulumi", "Project": self.project,
                "Team": self.word(), "CostCenter": "cc-%04d" % self.ctx.rng.randrange(10000)}
        policy = json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Sid": "AllowReadFrom%s" % self.word().title(), "Effect": "Allow",
                           "Principal": {"AWS": "arn:aws:iam::%s:role/%s-reader" % (ACCOUNT, self.word())},
                           "Action": ["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"],
                           "Resource": ["arn:aws:s3:::%s" % phys, "arn:aws:s3:::%s/*" % phys]},
                          {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*",
                           "Action": "s3:*", "Resource": ["arn:aws:s3:::%s" % phys, "arn:aws:s3:::%s/*" % phys],
                           "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}, separators=(",", ":"))
        inputs = {"__defaults": ["bucket"], "bucket": phys, "forceDestroy": False, "policy": policy, "tags": tags,
                  "versioning": {"__defaults": [], "enabled": True, "mfaDelete": False}}
        outputs = {
            "accelerationStatus": "", "acl": None, "arn": "arn:aws:s3:::" + phys, "bucket": phys,
            "bucketDomainName": phys + ".s3.amazonaws.com", "bucketPrefix": "",
            "bucketRegionalDomainName": "%s.s3.%s.amazonaws.com" % (phys, REGION), "corsRules": [],
            "forceDestroy": False,
            "grants": [{"id": self.ctx.hex(64), "permissions": ["FULL_CONTROL"], "type": "CanonicalUser",
                        "uri": ""}],
            "hostedZoneId": "Z3BJ6K6RIION7M", "id": phys, "lifecycleRules": [], "loggings": [],
            "objectLockConfiguration": None, "objectLockEnabled": False, "policy": policy, "region": REGION,
            "replicationConfiguration": None, "requestPayer": "BucketOwner",
            "serverSideEncryptionConfiguration": {"rule": {"applyServerSideEncryptionByDefault": {
                "kmsMasterKeyId": "", "sseAlgorithm": "AES256"}, "bucketKeyEnabled": False}},
            "tags": tags, "tagsAll": dict(tags), "versioning": {"enabled": True, "mfaDelete": False},
            "website": None, "websiteDomain": None, "websiteEndpoint": None,
        }
        return self._common(self.urn("aws:s3/bucket:Bucket", name), "aws:s3/bucket:Bucket", phys, inputs,
                            outputs, prov)

    def random_password(self, i):
        prov = self.provider("random", RANDOM_VERSION, {})
        name = "password-%05d" % i
        pw = "".join(self.ctx.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#%*")
                     for _ in range(24))
        inputs = {"__defaults": ["lower", "minLower", "minNumeric", "minSpecial", "minUpper", "number", "numeric",
                                 "upper"], "length": 24, "lower": True, "minLower": 0, "minNumeric": 0,
                  "minSpecial": 0, "minUpper": 0, "number": True, "numeric": True, "special": True, "upper": True}
        outputs = dict(inputs)
        del outputs["__defaults"]
        outputs["bcryptHash"] = "$2a$10$" + self.ctx.hex(53)
        outputs["id"] = "none"
        outputs["result"] = self.secrets.state_secret(pw)
        r = self._common(self.urn("random:index/randomPassword:RandomPassword", name),
                         "random:index/randomPassword:RandomPassword", "none", inputs, outputs, prov)
        r["additionalSecretOutputs"] = ["result"]
        return r

    def _k8s_meta(self, name, ns, extra_labels=None):
        labels = {"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": self.project,
                  "app.kubernetes.io/instance": self.stack, "tier": self.word()}
        if extra_labels:
            labels.update(extra_labels)
        return {"annotations": {"pulumi.com/autonamed": "true"}, "labels": labels, "name": name, "namespace": ns}

    def _k8s_live(self, meta, kind, body):
        live_meta = dict(meta)
        live_meta.update({
            "creationTimestamp": self.time[:19] + "Z",
            "managedFields": [{"apiVersion": "v1", "fieldsType": "FieldsV1", "fieldsV1": {
                "f:data": {"." + k: {} for k in sorted(body.get("data", {}))},
                "f:metadata": {"f:annotations": {".": {}, "f:pulumi.com/autonamed": {}},
                               "f:labels": {".": {}}}},
                "manager": "pulumi-kubernetes-" + self.ctx.hex(8), "operation": "Apply",
                "time": self.time[:19] + "Z"}],
            "resourceVersion": str(self.ctx.rng.randrange(100000, 9999999)),
            "uid": self.ctx.uuid(),
        })
        return live_meta

    def configmap(self, i):
        prov = self.provider("kubernetes", K8S_VERSION, {})
        base = "config-%05d" % i
        name = "%s-%s" % (base, self.ctx.hex(8))
        ns = "apps"
        data = {
            "APP_ENV": self.stack, "LOG_LEVEL": self.ctx.rng.choice(["debug", "info", "warn"]),
            "FEATURE_FLAGS": ",".join(self.word() for _ in range(8)),
            "settings.yaml": "\n".join("%s: %s" % (self.word(), self.ctx.hex(24)) for _ in range(12)) + "\n",
        }
        meta = self._k8s_meta(name, ns)
        inputs = {"apiVersion": "v1", "data": data, "kind": "ConfigMap", "metadata": meta}
        outputs = {"__fieldManager": "pulumi-kubernetes-" + self.ctx.hex(8), "__initialApiVersion": "v1",
                   "__inputs": copy.deepcopy(inputs), "apiVersion": "v1", "data": dict(data), "kind": "ConfigMap",
                   "metadata": self._k8s_live(meta, "ConfigMap", {"data": data})}
        return self._common(self.urn("kubernetes:core/v1:ConfigMap", base), "kubernetes:core/v1:ConfigMap",
                            "%s/%s" % (ns, name), inputs, outputs, prov)

    def k8s_secret(self, i):
        prov = self.provider("kubernetes", K8S_VERSION, {})
        base = "secret-%05d" % i
        name = "%s-%s" % (base, self.ctx.hex(8))
        ns = "apps"
        data = {"password": base64.b64encode(self.ctx.hex(32).encode()).decode(),
                "username": base64.b64encode(b"svc-" + self.word().encode()).decode()}
        meta = self._k8s_meta(name, ns)
        inputs = {"apiVersion": "v1", "data": self.secrets.state_secret(data), "kind": "Secret",
                  "metadata": meta, "type": "Opaque"}
        # One ciphertext per secret-bearing resource: `data` in the outputs; inputs reuse the same value.
        outputs = {"__fieldManager": "pulumi-kubernetes-" + self.ctx.hex(8), "__initialApiVersion": "v1",
                   "__inputs": {"apiVersion": "v1", "kind": "Secret", "metadata": copy.deepcopy(meta),
                                "type": "Opaque"},
                   "apiVersion": "v1", "data": inputs["data"], "kind": "Secret",
                   "metadata": self._k8s_live(meta, "Secret", {"data": data}), "type": "Opaque"}
        return self._common(self.urn("kubernetes:core/v1:Secret", base), "kubernetes:core/v1:Secret",
                            "%s/%s" % (ns, name), inputs, outputs, prov)


# ---------------------------------------------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------------------------------------------

def manifest_time(spec, ctx):
    if spec.get("time"):
        return spec["time"]
    if ctx.seed is not None:
        return "2026-08-21T10:15:42.123456789Z"
    return P._now_rfc3339()


def build_deployment(spec, ctx, secrets):
    project, stack = spec["project"], spec["stack"]
    t = manifest_time(spec, ctx)
    stack_urn = "urn:pulumi:%s::%s::pulumi:pulumi:Stack::%s-%s" % (stack, project, project, stack)
    root = S([("urn", stack_urn), ("custom", False), ("type", "pulumi:pulumi:Stack")])
    outputs = encode_outputs(spec.get("outputs") or {}, secrets)
    if outputs:
        root["outputs"] = outputs
    root["created"] = t
    root["modified"] = t
    filler = Filler(ctx, project, stack, stack_urn, t, secrets)
    n = int(spec.get("extra_resources") or 0)
    every = int(spec.get("secret_every") or 0)
    kinds = spec.get("filler_kinds") or ["aws", "kubernetes"]
    fill = []
    for i in range(n):
        secret = every > 0 and (i % every) == every - 1
        # secret-bearing fillers alternate too: random passwords (aws mix) and Kubernetes Secrets
        kind = kinds[(i // every) % len(kinds)] if secret else kinds[i % len(kinds)]
        fill.append(filler.resource(i, kind, secret))
    version = spec.get("version") or DEFAULT_VERSION
    manifest = {"time": t, "magic": hashlib.sha256(version.encode()).hexdigest(), "version": version}
    plugins = []
    for pkg, ver in (("aws", AWS_VERSION), ("kubernetes", K8S_VERSION), ("random", RANDOM_VERSION)):
        if pkg in filler.providers:
            plugins.append({"name": pkg, "path": "", "type": "resource", "version": ver})
    if plugins:
        manifest["plugins"] = plugins
    resources = [root] + filler.provider_resources + fill
    latest = {"manifest": manifest, "secrets_providers": secrets.provider, "resources": resources,
              "metadata": {}}
    return latest


def write_bytes(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".mkstate-tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def compress(data, kind):
    if kind in (None, "none"):
        return data, ""
    if kind == "gzip":
        import gzip
        return gzip.compress(data, mtime=0), ".gz"
    if kind == "zstd":
        import zstandard
        return zstandard.ZstdCompressor().compress(data), ".zst"
    raise SpecError("compression must be none, gzip or zstd")


def build_stack(spec, outdir, ctx, written_projects):
    project, stack = spec["project"], spec["stack"]
    P.validate_project_name(project)
    P.validate_stack_name(stack)
    layout = spec.get("layout") or "project"
    if layout not in ("project", "legacy"):
        raise SpecError("layout must be project or legacy")
    secrets = Secrets(ctx, spec.get("passphrase"), spec.get("salt"))
    stacks_dir = os.path.join(outdir, ".pulumi", "stacks")
    if layout == "project":
        base = os.path.join(stacks_dir, project, stack)
        chk_stack = "organization/%s/%s" % (project, stack)
        write_bytes(os.path.join(outdir, ".pulumi", "meta.yaml"), b"version: 1\n")
    else:
        base = os.path.join(stacks_dir, stack)
        chk_stack = stack
    minified = spec.get("minified", True)
    nres = 0
    if spec.get("checkpoint_file"):
        with open(spec["checkpoint_file"], "rb") as f:
            data = f.read()
    else:
        features = list(spec.get("features") or [])
        if spec.get("never_deployed"):
            version = spec.get("checkpoint_version")
            version = 0 if version is None else version
            doc = S([("version", version), ("checkpoint", S([("stack", chk_stack)]))])
        else:
            latest = build_deployment(spec, ctx, secrets)
            nres = len(latest["resources"])
            version = spec.get("checkpoint_version") or (4 if features else 3)
            doc = S([("version", version)])
            if features:
                doc["features"] = features
            doc["checkpoint"] = S([("stack", chk_stack), ("latest", P.go_deployment(latest))])
        text = P.go_json(doc) if minified else P.go_json(doc, indent=4, newline=True)
        data = text.encode("utf-8")
    data, ext = compress(data, spec.get("compression"))
    chk_path = base + ".json" + ext
    write_bytes(chk_path, data)
    if spec.get("tags"):
        write_bytes(base + ".pulumi-tags", json.dumps({"version": 1, "tags": spec["tags"]}).encode())
    # project folder
    pdir = spec.get("project_dir", "<project>")
    project_dir = config_path = None
    if pdir:
        pdir = pdir.replace("<project>", project)
        project_dir = os.path.abspath(os.path.join(outdir, pdir))
        os.makedirs(project_dir, exist_ok=True)
        import yaml
        proj_doc = {"name": project, "runtime": "yaml"}
        bu = spec.get("backend_url_in_project")
        if bu:
            proj_doc["backend"] = {"url": bu if isinstance(bu, str) else "file://" + os.path.abspath(outdir)}
        if project_dir not in written_projects:
            write_bytes(os.path.join(project_dir, "Pulumi.yaml"),
                        yaml.safe_dump(proj_doc, sort_keys=False, allow_unicode=True).encode())
            written_projects.add(project_dir)
        if spec.get("stack_config", True):
            sc = {}
            if secrets.salt_state:
                sc["encryptionsalt"] = secrets.salt_state
            cfg = spec.get("config") or {}
            if cfg:
                sc["config"] = {k: encode_config(v, secrets) for k, v in cfg.items()}
            config_path = os.path.join(project_dir, "Pulumi.%s.yaml" % stack)
            write_bytes(config_path, yaml.safe_dump(sc, sort_keys=False, allow_unicode=True,
                                                    default_flow_style=False).encode() if sc else b"")
    elif spec.get("config"):
        raise SpecError("config needs a project folder (project_dir)")
    return {
        "project": project, "stack": stack, "fqn": "organization/%s/%s" % (project, stack) if layout == "project"
        else stack, "layout": layout, "checkpoint": chk_path, "project_dir": project_dir,
        "config_file": config_path, "passphrase": spec.get("passphrase"), "encryptionsalt": secrets.salt_state,
        "secrets_provider": "b64" if secrets.crypter is None else "passphrase", "resources": nres,
        "secrets": secrets.count, "bytes": len(data),
    }


def expand(spec):
    if not isinstance(spec, dict):
        raise SpecError("the spec must be a JSON object")
    base = dict(DEFAULTS)
    base.update({k: v for k, v in spec.items() if k != "stacks"})
    stacks = spec.get("stacks")
    if not stacks:
        return [base]
    out = []
    for s in stacks:
        if not isinstance(s, dict):
            raise SpecError("each entry of stacks must be an object")
        d = dict(base)
        d.update(s)
        out.append(d)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description="Build a Pulumi DIY backend from a JSON spec.")
    ap.add_argument("--seed", type=int, default=None, help="fix salts, nonces, ids and times (reproducible)")
    ap.add_argument("spec", nargs="?", default="-", help="spec file, or - for stdin")
    ap.add_argument("outdir", nargs="?", help="output directory")
    a = ap.parse_args(argv)
    if a.outdir is None:
        # one positional: it is OUTDIR and the spec comes from stdin
        a.outdir, a.spec = a.spec, "-"
    try:
        raw = sys.stdin.read() if a.spec == "-" else open(a.spec).read()
        spec = json.loads(raw)
        ctx = Ctx(a.seed)
        outdir = os.path.abspath(a.outdir)
        os.makedirs(outdir, exist_ok=True)
        written = set()
        results = [build_stack(s, outdir, ctx, written) for s in expand(spec)]
    except (SpecError, P.CLIError, ValueError, OSError) as e:
        sys.stderr.write("mkstate: %s\n" % (getattr(e, "msg", None) or e))
        return 1
    summary = {"backend_dir": outdir, "backend_url": "file://" + outdir, "stacks": results}
    sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
