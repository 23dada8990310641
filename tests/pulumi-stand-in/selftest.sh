#!/usr/bin/env bash
# Self-check for the pulumi stand-in and mkstate.py. Usage: bash tests/pulumi-stand-in/selftest.sh
# Needs python3 with cryptography, PyYAML and zstandard (pip install cryptography pyyaml zstandard).
# Doubles as usage documentation: every feature the test suite relies on is exercised here.
set -u

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PULUMI="$HERE/pulumi"
MKSTATE="$HERE/mkstate.py"
FIXTURES="${STACKWIRE_PULUMI_FIXTURES:-$HERE/../../../shared/fixtures/pulumi}"
[ -d "$FIXTURES" ] || FIXTURES=/work/shared/fixtures/pulumi

T="$(mktemp -d "${TMPDIR:-/tmp}/standin-selftest.XXXXXX")"
trap 'rm -rf "$T"' EXIT

# A clean environment: nothing inherited from the developer's shell may change the stand-in's behaviour.
for v in $(env | sed -n 's/^\(PULUMI_[A-Z0-9_]*\)=.*/\1/p; s/^\(STANDIN_[A-Z0-9_]*\)=.*/\1/p'); do unset "$v"; done
export PULUMI_SKIP_UPDATE_CHECK=true NO_COLOR=1

PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*" >&2; }

python3 -c 'import cryptography, yaml, zstandard' 2>/dev/null || {
    echo "selftest: needs python3 packages cryptography, pyyaml, zstandard (pip install cryptography pyyaml zstandard)" >&2
    exit 1
}

# run NAME ARGS... : runs the stand-in, keeping stdout/stderr/exit code in $T/NAME.{out,err,rc}
run() {
    local name="$1"
    shift
    "$PULUMI" "$@" >"$T/$name.out" 2>"$T/$name.err"
    echo $? >"$T/$name.rc"
}
rc() { cat "$T/$1.rc"; }
expect_rc() { # NAME CODE
    if [ "$(rc "$1")" = "$2" ]; then ok; else bad "$1: exit $(rc "$1"), want $2 (stderr: $(head -c 400 "$T/$1.err"))"; fi
}
expect_out() { # NAME EXPECTED-STDOUT (exact, trailing newline added)
    if [ "$(cat "$T/$1.out"; echo x)" = "$(printf '%s\n' "$2"; echo x)" ]; then ok; else
        bad "$1: stdout differs"
        diff <(printf '%s\n' "$2") "$T/$1.out" | head -20 >&2
    fi
}
expect_err() { # NAME EXPECTED-STDERR (exact)
    if [ "$(cat "$T/$1.err"; echo x)" = "$(printf '%s\n' "$2"; echo x)" ]; then ok; else
        bad "$1: stderr is [$(cat "$T/$1.err")], want [$2]"
    fi
}
expect_py() { # NAME PYTHON-EXPR : expr over out (str), err (str), j (parsed stdout, or None)
    if python3 - "$T/$1" "$2" <<'EOF'; then ok; else bad "$1: check failed: $2"; fi
import json, sys
base, expr = sys.argv[1], sys.argv[2]
out = open(base + ".out", encoding="utf-8").read()
err = open(base + ".err", encoding="utf-8").read()
try:
    j = json.loads(out)
except ValueError:
    j = None
ok = eval(expr)
if not ok:
    print("  stdout:", out[:600], file=sys.stderr)
    print("  stderr:", err[:600], file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
}

# ---------------------------------------------------------------------------------------------------------------
# 1. Build backends with mkstate.py
# ---------------------------------------------------------------------------------------------------------------
cat >"$T/spec.json" <<'EOF'
{
  "project": "myproj",
  "passphrase": "correct horse",
  "outputs": {
    "bucketName": "mybucket-1234",
    "password": {"$secret": "hunter2"},
    "port": 8080,
    "ratio": 0.25,
    "nested": {"list": ["x", {"$secret": {"deep": 1}}], "html": "<a&b>"},
    "spaced": "foo 'bar' baz",
    "empty": ""
  },
  "config": {
    "myproj:region": "us-west-2",
    "dbPassword": {"$secret": "s3cr3t"},
    "aws:profile": "dev-profile",
    "myproj:replicas": 3,
    "myproj:settings": {"tier": "gold", "token": {"$secret": "tok"}}
  },
  "extra_resources": 20,
  "secret_every": 10,
  "stacks": [
    {"stack": "dev"},
    {"stack": "staging", "passphrase": null, "config": {}, "compression": "gzip",
     "outputs": {"url": "https://staging.example.com", "key": {"$secret": "b64-secret"}}},
    {"stack": "prod", "passphrase": null, "config": {}, "compression": "zstd", "extra_resources": 0,
     "outputs": {"url": "https://prod.example.com"}},
    {"stack": "fresh", "passphrase": null, "config": {}, "never_deployed": true}
  ]
}
EOF
"$MKSTATE" --seed 42 "$T/spec.json" "$T/be" >"$T/mk.json" 2>"$T/mk.err" && ok || bad "mkstate failed: $(cat "$T/mk.err")"
"$MKSTATE" --seed 42 "$T/spec.json" "$T/be2" >/dev/null 2>&1 && ok || bad "mkstate (second run) failed"
if cmp -s "$T/be/.pulumi/stacks/myproj/dev.json" "$T/be2/.pulumi/stacks/myproj/dev.json" &&
    cmp -s "$T/be/myproj/Pulumi.dev.yaml" "$T/be2/myproj/Pulumi.dev.yaml"; then ok; else bad "mkstate --seed is not deterministic"; fi
for f in .pulumi/meta.yaml .pulumi/stacks/myproj/dev.json .pulumi/stacks/myproj/staging.json.gz \
    .pulumi/stacks/myproj/prod.json.zst .pulumi/stacks/myproj/fresh.json myproj/Pulumi.yaml myproj/Pulumi.dev.yaml; do
    [ -f "$T/be/$f" ] && ok || bad "mkstate did not write $f"
done
python3 - "$T/be" <<'EOF' && ok || bad "checkpoint layout"
import gzip, json, sys
be = sys.argv[1]
d = json.load(open(be + "/.pulumi/stacks/myproj/dev.json"))
assert d["version"] == 3 and d["checkpoint"]["stack"] == "organization/myproj/dev"
latest = d["checkpoint"]["latest"]
assert list(latest) == ["manifest", "secrets_providers", "resources", "metadata"], list(latest)
assert latest["secrets_providers"]["type"] == "passphrase"
assert latest["resources"][0]["type"] == "pulumi:pulumi:Stack"
assert open(be + "/.pulumi/stacks/myproj/dev.json").read().count("\n") == 0  # minified (CLI >= 3.238)
s = json.loads(gzip.decompress(open(be + "/.pulumi/stacks/myproj/staging.json.gz", "rb").read()))
assert s["checkpoint"]["latest"]["secrets_providers"] == {"type": "b64", "state": {}}
f = json.load(open(be + "/.pulumi/stacks/myproj/fresh.json"))
assert f == {"version": 0, "checkpoint": {"stack": "organization/myproj/fresh"}}, f
EOF

export PULUMI_BACKEND_URL="file://$T/be"
FQ=organization/myproj

# ---------------------------------------------------------------------------------------------------------------
# 2. version / whoami
# ---------------------------------------------------------------------------------------------------------------
run version version
expect_rc version 0
expect_out version "v3.276.0"
run whoami --non-interactive whoami --json
expect_py whoami 'j["url"] == "file://'"$T"'/be" and list(j) == ["user", "url"] and out.endswith("}\n")'
run whoami_v whoami -v
expect_py whoami_v 'out.splitlines()[1:] == ["Organizations: ", "Backend URL: file://'"$T"'/be", "Token type: personal"]'

# ---------------------------------------------------------------------------------------------------------------
# 3. stack ls
# ---------------------------------------------------------------------------------------------------------------
run ls --non-interactive --color never stack ls --all --json
expect_rc ls 0
expect_py ls '[s["name"] for s in j] == [f"'$FQ'/{n}" for n in ("dev", "fresh", "prod", "staging")]'
expect_py ls 'j[0] == {"name": "'$FQ'/dev", "current": False, "lastUpdate": "2026-08-21T10:15:42.123Z", "resourceCount": 24}'
expect_py ls 'list(j[0]) == ["name", "current", "lastUpdate", "resourceCount"] and j[1] == {"name": "'$FQ'/fresh", "current": False}'
run ls_proj -C "$T/be/myproj" stack ls --json
expect_py ls_proj '[s["name"] for s in j] == ["dev", "fresh", "prod", "staging"]'
run ls_noproj -C "$T" stack ls
expect_rc ls_noproj 1
expect_py ls_noproj 'err.startswith("error: could not detect current project: no Pulumi.yaml project file found (searching upwards from ")'
run ls_table stack ls -a
expect_py ls_table 'out.splitlines()[0].split() == ["NAME", "LAST", "UPDATE", "RESOURCE", "COUNT"] and "n/a" in out'

# ---------------------------------------------------------------------------------------------------------------
# 4. stack output
# ---------------------------------------------------------------------------------------------------------------
run out_json stack output --json --stack $FQ/dev
expect_rc out_json 0
expect_out out_json '{
  "bucketName": "mybucket-1234",
  "empty": "",
  "nested": {
    "html": "<a&b>",
    "list": [
      "x",
      "[secret]"
    ]
  },
  "password": "[secret]",
  "port": 8080,
  "ratio": 0.25,
  "spaced": "foo '"'"'bar'"'"' baz"
}'
PULUMI_CONFIG_PASSPHRASE="correct horse" run out_show stack output --json --show-secrets -s $FQ/dev
expect_py out_show 'j["password"] == "hunter2" and j["nested"]["list"][1] == {"deep": 1}'
printf 'correct horse\n' >"$T/pp.txt"
PULUMI_CONFIG_PASSPHRASE_FILE="$T/pp.txt" run out_ppfile stack output --show-secrets -s $FQ/dev password
expect_out out_ppfile "hunter2"
run out_nopp stack output --json --show-secrets -s $FQ/dev
expect_rc out_nopp 1
expect_err out_nopp 'error: constructing secrets manager of type "passphrase": constructing secrets manager: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables'
PULUMI_CONFIG_PASSPHRASE=wrong run out_badpp stack output --json --show-secrets -s $FQ/dev
expect_rc out_badpp 1
expect_err out_badpp 'error: failed to decrypt: incorrect passphrase, please set PULUMI_CONFIG_PASSPHRASE to the correct passphrase or set PULUMI_CONFIG_PASSPHRASE_FILE to a file containing the passphrase'
PULUMI_CONFIG_PASSPHRASE=wrong run out_badpp_blind stack output --json -s $FQ/dev
expect_rc out_badpp_blind 0
run out_text stack output -s $FQ/dev
expect_out out_text 'Current stack outputs (7):
    OUTPUT      VALUE
    bucketName  mybucket-1234
    empty       
    nested      {"html":"<a&b>","list":["x","[secret]"]}
    password    [secret]
    port        8080
    ratio       0.25
    spaced      foo '"'"'bar'"'"' baz'
run out_shell stack output --shell -s $FQ/dev
expect_out out_shell "bucketName=mybucket-1234
empty=''
nested=\\{\\\"html\\\":\\\"\\<a\\&b\\>\\\",\\\"list\\\":\\[\\\"x\\\",\\\"\\[secret]\\\"]}
password=\\[secret]
port=8080
ratio=0.25
spaced='foo '\\''bar'\\'' baz'"
run out_one stack output -s $FQ/dev bucketName
expect_out out_one "mybucket-1234"
run out_one_json stack output -s $FQ/dev port --json
expect_out out_one_json "8080"
run out_one_secret stack output -s $FQ/dev password
expect_out out_one_secret "[secret]"
run out_missing stack output -s $FQ/dev nope
expect_rc out_missing 1
expect_err out_missing "error: current stack does not have output property 'nope'"
run out_both stack output --json --shell -s $FQ/nope
expect_rc out_both 1
expect_err out_both "error: only one of --json and --shell may be set"
run out_nostack stack output --json -s $FQ/nope
expect_rc out_nostack 6
expect_err out_nostack "error: no stack named '$FQ/nope' found"
run out_fresh stack output --json -s $FQ/fresh
expect_out out_fresh "{}"
run out_fresh_text stack output -s $FQ/fresh
expect_out out_fresh_text "Current stack outputs (0):
    No output values currently in this stack"
run out_gz stack output --json -s $FQ/staging
expect_py out_gz 'j == {"key": "[secret]", "url": "https://staging.example.com"}'
run out_zst stack output -s $FQ/prod url
expect_out out_zst "https://prod.example.com"
run out_b64show stack output --show-secrets -s $FQ/staging key
expect_rc out_b64show 1
expect_err out_b64show 'error: no known secrets provider for type "b64"'
STANDIN_B64_SHOW_SECRETS=1 run out_b64show2 stack output --show-secrets -s $FQ/staging key
expect_out out_b64show2 "b64-secret"
run out_short stack output -C "$T" -s dev
expect_rc out_short 1
expect_err out_short "error: no Pulumi.yaml project file found; either run this command from a directory containing a Pulumi project, or pass the fully qualified stack name (organization/project/stack)"
run out_short_proj -C "$T/be/myproj" stack output -s dev port
expect_out out_short_proj "8080"
run out_org stack output -s acme/myproj/dev
expect_rc out_org 1
expect_err out_org "error: organization name must be 'organization'"
run out_nosel stack output --json
expect_rc out_nosel 1
expect_err out_nosel 'error: no stack selected; please use `pulumi stack select` to choose one'
PULUMI_STACK=$FQ/dev run out_envstack stack output port
expect_out out_envstack "8080"
run out_flag stack output --xyz
expect_rc out_flag 1
expect_err out_flag "error: unknown flag: --xyz"
run out_flags_anywhere --stack $FQ/dev --non-interactive stack --color=never output -j port
expect_out out_flags_anywhere "8080"
PULUMI_OPTION_SHOW_SECRETS=true PULUMI_CONFIG_PASSPHRASE="correct horse" run out_optenv stack output -s $FQ/dev password
expect_out out_optenv "hunter2"

# ---------------------------------------------------------------------------------------------------------------
# 5. stack export
# ---------------------------------------------------------------------------------------------------------------
run exp stack export -s $FQ/dev
expect_rc exp 0
expect_py exp 'list(j) == ["version", "deployment"] and j["version"] == 3 and out.startswith("{\n    \"version\": 3,\n    \"deployment\": {\n        \"manifest\": {")'
expect_py exp 'list(j["deployment"]) == ["manifest", "secrets_providers", "resources", "metadata"] and len(j["deployment"]["resources"]) == 24'
expect_py exp 'out.count("\"ciphertext\": \"v1:") >= 3 and "plaintext" not in out'
PULUMI_CONFIG_PASSPHRASE="correct horse" run exp_show stack export --show-secrets -s $FQ/dev
expect_py exp_show '"ciphertext" not in out and j["deployment"]["resources"][0]["outputs"]["password"] == {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "plaintext": "\"hunter2\""}'
run exp_nopp stack export --show-secrets -s $FQ/dev
expect_rc exp_nopp 1
expect_py exp_nopp 'err.startswith("error: could not deserialize deployment: constructing secrets manager of type \"passphrase\"")'
run exp_fresh stack export -s $FQ/fresh
expect_out exp_fresh '{
    "version": 3,
    "deployment": null
}'
run exp_file stack export -s $FQ/prod --file "$T/prod-export.json"
expect_rc exp_file 0
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["deployment"]["resources"][0]["outputs"]["url"]=="https://prod.example.com"' "$T/prod-export.json" && ok || bad "export --file"

# ---------------------------------------------------------------------------------------------------------------
# 6. config
# ---------------------------------------------------------------------------------------------------------------
cd "$T/be/myproj" || exit 1
run cfg_json config --json -s dev
expect_rc cfg_json 0
expect_out cfg_json '{
  "aws:profile": {
    "value": "dev-profile",
    "secret": false
  },
  "myproj:dbPassword": {
    "secret": true
  },
  "myproj:region": {
    "value": "us-west-2",
    "secret": false
  },
  "myproj:replicas": {
    "value": "3",
    "secret": false
  },
  "myproj:settings": {
    "secret": true
  }
}'
PULUMI_CONFIG_PASSPHRASE="correct horse" run cfg_show config --json --show-secrets -s $FQ/dev
expect_py cfg_show 'j["myproj:dbPassword"] == {"value": "s3cr3t", "secret": True} and j["myproj:settings"]["objectValue"] == {"tier": "gold", "token": "tok"}'
run cfg_table config -s dev
expect_out cfg_table 'KEY          VALUE
aws:profile  dev-profile
dbPassword   [secret]
region       us-west-2
replicas     3
settings     {"tier":"gold","token":"[secret]"}'
PULUMI_CONFIG_PASSPHRASE=nope run cfg_bad config --show-secrets -s dev
expect_rc cfg_bad 1
expect_err cfg_bad "error: incorrect passphrase"
run cfg_nopp config --show-secrets -s dev
expect_err cfg_nopp "error: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables"
PULUMI_CONFIG_PASSPHRASE="correct horse" run cfg_get config get dbPassword -s dev
expect_out cfg_get "s3cr3t"
run cfg_get_json config get region --json -s dev
expect_out cfg_get_json '{
  "value": "us-west-2",
  "secret": false
}'
run cfg_get_missing config get nokey -s dev
expect_rc cfg_get_missing 1
expect_err cfg_get_missing "error: configuration key 'nokey' not found for stack 'dev'"
run cfg_nosel config
expect_err cfg_nosel 'error: no stack selected; please use `pulumi stack select` or `pulumi stack init` to choose one'
cd "$T" || exit 1
run cfg_noproj config -s $FQ/dev
expect_rc cfg_noproj 1
expect_py cfg_noproj 'err.startswith("error: no Pulumi.yaml project file found (searching upwards from ") and err.endswith("use `pulumi new` to do so: no project file found\n")'

# The public test vector (pulumi/pulumi tests/roundtrip/roundtrip_test.go).
mkdir -p "$T/vec/state/.pulumi/stacks/vec"
printf 'name: vec\nruntime: yaml\nbackend:\n  url: file://./state\n' >"$T/vec/Pulumi.yaml"
printf '{"version":0,"checkpoint":{"stack":"organization/vec/dev"}}' >"$T/vec/state/.pulumi/stacks/vec/dev.json"
cat >"$T/vec/Pulumi.dev.yaml" <<'EOF'
encryptionsalt: v1:ThS5UPxP9qc=:v1:UZYAXF+ylaJ0rGhv:9OTvBnOEDFgxs7btjzSu+LZ470vLpg==
config:
  vec:secret:
    secure: v1:T1ftqhY0hqr+EJK6:+jvd5PMecFx80tcavzuZY4tLatgIfoe/xR72GA==
  vec:plain: "yes"
EOF
(unset PULUMI_BACKEND_URL; cd "$T/vec" && PULUMI_CONFIG_PASSPHRASE=TestConfigRoundtripComments run vec config get secret -s dev)
expect_out vec "secret-value"
(unset PULUMI_BACKEND_URL; cd "$T/vec" && PULUMI_CONFIG_PASSPHRASE=TestConfigRoundtripComments run vec_json config --json --show-secrets -s dev)
expect_py vec_json 'j == {"vec:plain": {"value": "yes", "secret": False}, "vec:secret": {"value": "secret-value", "secret": True}}'
PULUMI_STANDIN="$PULUMI" python3 - <<'EOF' && ok || bad "test vector via the stand-in's crypto"
import importlib.machinery, importlib.util, os
loader = importlib.machinery.SourceFileLoader("standin", os.environ["PULUMI_STANDIN"])
spec = importlib.util.spec_from_loader("standin", loader)
m = importlib.util.module_from_spec(spec)
loader.exec_module(m)
c = m.crypter_from_salt_state("TestConfigRoundtripComments", "v1:ThS5UPxP9qc=:v1:UZYAXF+ylaJ0rGhv:9OTvBnOEDFgxs7btjzSu+LZ470vLpg==")
assert c is not None
assert c.decrypt("v1:T1ftqhY0hqr+EJK6:+jvd5PMecFx80tcavzuZY4tLatgIfoe/xR72GA==") == "secret-value"
assert m.crypter_from_salt_state("wrong", "v1:ThS5UPxP9qc=:v1:UZYAXF+ylaJ0rGhv:9OTvBnOEDFgxs7btjzSu+LZ470vLpg==") is None
EOF

# ---------------------------------------------------------------------------------------------------------------
# 7. The real fixtures from pulumi/pulumi in a DIY layout
# ---------------------------------------------------------------------------------------------------------------
mkdir -p "$T/fx/.pulumi/stacks/countdown"
echo "version: 1" >"$T/fx/.pulumi/meta.yaml"
for f in v3 v4 secrets; do cp "$FIXTURES/checkpoint-$f.json" "$T/fx/.pulumi/stacks/countdown/$f.json"; done
echo '{"version":1,"tags":{"team":"core"}}' >"$T/fx/.pulumi/stacks/countdown/v3.pulumi-tags"
PULUMI_BACKEND_URL="file://$T/fx" run fx_ls stack ls --all --json
expect_py fx_ls 'j == [{"name": f"organization/countdown/{n}", "current": False, "resourceCount": 30} for n in ("secrets", "v3", "v4")]'
PULUMI_BACKEND_URL="file://$T/fx" run fx_tag stack ls --all --json --tag team=core
expect_py fx_tag '[s["name"] for s in j] == ["organization/countdown/v3"]'
PULUMI_BACKEND_URL="file://$T/fx" run fx_exp4 stack export -s organization/countdown/v4
expect_py fx_exp4 'j["version"] == 4 and j["features"] == ["refreshBeforeUpdate"] and len(j["deployment"]["resources"]) == 30'
PULUMI_BACKEND_URL="file://$T/fx" run fx_exps stack export -s organization/countdown/secrets
expect_py fx_exps 'j["version"] == 3 and j["deployment"]["secrets_providers"] == {"type": "b64", "state": {}} and j["deployment"]["metadata"] == {}'
python3 - "$FIXTURES/checkpoint-v3.json" "$T/fx_exps.out" <<'EOF' && ok || bad "fixture export keeps the resources"
import json, sys
src = json.load(open(sys.argv[1]))["checkpoint"]["latest"]["resources"]
exp = json.load(open(sys.argv[2]))["deployment"]["resources"]
assert [r["urn"] for r in src] == [r["urn"] for r in exp]
EOF
PULUMI_BACKEND_URL="file://$T/fx" run fx_out stack output --json -s organization/countdown/v3
expect_out fx_out "{}"
PULUMI_BACKEND_URL="file://$T/fx" STANDIN_B64_SHOW_SECRETS=1 run fx_show stack export --show-secrets -s organization/countdown/secrets
expect_py fx_show '"ciphertext" not in out and out.count("\"plaintext\":") >= 1'

# legacy layout
echo '{"project": "leg", "layout": "legacy", "stacks": [{"stack": "one", "outputs": {"a": 1}}, {"stack": "two"}]}' |
    "$MKSTATE" "$T/legacy" >/dev/null && ok || bad "mkstate legacy"
[ ! -e "$T/legacy/.pulumi/meta.yaml" ] && [ -f "$T/legacy/.pulumi/stacks/one.json" ] && ok || bad "legacy layout files"
PULUMI_BACKEND_URL="file://$T/legacy" run leg_ls stack ls -a --json
expect_py leg_ls '[s["name"] for s in j] == ["one", "two"]'
PULUMI_BACKEND_URL="file://$T/legacy" run leg_out stack output -s one a
expect_out leg_out "1"

# ---------------------------------------------------------------------------------------------------------------
# 8. Login / backend errors
# ---------------------------------------------------------------------------------------------------------------
(unset PULUMI_BACKEND_URL; cd "$T" && run nologin stack output -s $FQ/dev --json)
expect_rc nologin 3
expect_err nologin "error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions"
PULUMI_BACKEND_URL=https://api.pulumi.com run cloud whoami
expect_rc cloud 3

# ---------------------------------------------------------------------------------------------------------------
# 9. up / preview
# ---------------------------------------------------------------------------------------------------------------
cd "$T/be/myproj" || exit 1
# The stand-in runs no programs (the suite runs the real CLI's `up`/`preview`); only the argument check is pulumi's.
run up_noyes up -s dev
expect_rc up_noyes 2
expect_err up_noyes "error: --yes or --skip-preview or --preview-only must be passed in to proceed when running in non-interactive mode"
run up_yes up --yes -s dev
expect_rc up_yes 1
run pv preview -s dev
expect_rc pv 1
cd "$T" || exit 1

# ---------------------------------------------------------------------------------------------------------------
# 10. Test hooks: log and fault injection
# ---------------------------------------------------------------------------------------------------------------
STANDIN_LOG="$T/calls.log" PULUMI_CONFIG_PASSPHRASE=secret run logged --non-interactive stack output -s $FQ/dev --json
python3 - "$T/calls.log" <<'EOF' && ok || bad "STANDIN_LOG"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1
e = json.loads(lines[0])
assert e["argv"] == ["--non-interactive", "stack", "output", "-s", "organization/myproj/dev", "--json"], e
assert e["env"]["PULUMI_CONFIG_PASSPHRASE"] == "<set>" and e["env"]["NO_COLOR"] == "1"
assert all(k.startswith("PULUMI_") or k == "NO_COLOR" for k in e["env"]) and e["cwd"]
EOF
STANDIN_EXIT=255 STANDIN_STDERR=$'error: injected\n' run f_exit stack output -s $FQ/dev --json
expect_rc f_exit 255
expect_err f_exit "error: injected"
[ ! -s "$T/f_exit.out" ] && ok || bad "f_exit: stdout should be empty"
STANDIN_FAULT_ON="stack export" STANDIN_EXIT=4 run f_other stack output -s $FQ/dev port
expect_out f_other "8080"
STANDIN_FAULT_ON="stack export" STANDIN_EXIT=4 run f_match stack export -s $FQ/dev
expect_rc f_match 4
STANDIN_FAULT_ON="stack" STANDIN_GARBAGE=1 run f_garbage stack ls -a --json
expect_rc f_garbage 0
[ "$(cat "$T/f_garbage.out")" = "this is not json {" ] && ok || bad "STANDIN_GARBAGE"
start=$(date +%s%N)
STANDIN_DELAY=0.5 run f_delay version
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$elapsed" -ge 500 ] && ok || bad "STANDIN_DELAY (${elapsed}ms)"
expect_out f_delay "v3.276.0"
STANDIN_HANG=60 STANDIN_PIDFILE="$T/hang.pid" "$PULUMI" version >/dev/null 2>&1 &
bg=$!
for _ in $(seq 50); do [ -s "$T/hang.pid" ] && break; sleep 0.1; done
if [ -s "$T/hang.pid" ] && [ "$(cat "$T/hang.pid")" = "$bg" ]; then ok; else bad "STANDIN_PIDFILE"; fi
kill "$bg" 2>/dev/null
wait "$bg" 2>/dev/null
[ $? -ne 0 ] && ok || bad "hung stand-in should die from the signal"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
