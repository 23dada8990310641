//! The pulumi contract suite, against the real pulumi CLI: stacks deployed by the real
//! `pulumi up` of Pulumi YAML programs (and `pulumi stack import`, for shapes a YAML program
//! cannot make), then read by stackwire directly from the DIY backend and through the binary,
//! and compared byte for byte with what the CLI itself prints.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::support::{Repo, SIG_KEY, SIG_SECRET, copy_dir, yaml_program};

pub(crate) const PASSPHRASE: &str = "correct horse battery staple";

/// The program of project `plain`: every kind of value a YAML program can output.
const PLAIN: &str = r#"config:
  greeting: {type: string}
  count: {type: integer}
  dbPassword: {type: string, secret: true}
outputs:
  instanceIp: 203.0.113.10
  port: 8000
  ratio: 0.25
  big: 12345678901234567890
  tiny: 1.0e-7
  huge: 1.0e+21
  negative: -3
  enabled: true
  disabled: false
  empty: ""
  zeroPadded: "0123"
  list: [one, 2, three, true]
  obj: {name: widget, inner: {flag: true, tags: [a, b]}, none: {}}
  emptyList: []
  secretLit:
    fn::secret: s3cr3t
  cfgSecret: ${dbPassword}
  interp: "Hi ${greeting}"
  count: ${count}
"#;

const UNICODE: &str = r#"outputs:
  "ключ": "значение 🚀"
  "emoji 🚀 key": "✓"
  ctl: "tab\tnl\nq\"bs\\ \u2028\u2029 \x7f \x01 <a href='x'>&amp;</a>"
  cjk: "漢字かなカナ"
  combining: "e\u0301 Å"
"#;

/// The stacks every contract test reads, `(project folder, stack as the mapping names it)`.
pub(crate) const STACKS: &[(&str, &str)] = &[
    ("infra/plain", "dev"),
    ("infra/deep", "dev"),
    ("infra/unicode", "dev"),
    ("infra/empty", "dev"),
    ("infra/large", "dev"),
    ("infra/plain", "organization/plain/dev"),
];

/// A passphrase-encrypted DIY backend in `backend/` with one stack per project under
/// `infra/`, all made by the real CLI; built once per test run, copied into each repository.
fn template() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // Kept for the whole run (statics are never dropped), so named after this process; the
        // ones of earlier runs go now.
        let prefix = "stackwire-contract-";
        let tmp = std::env::temp_dir();
        for entry in std::fs::read_dir(&tmp).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = name.strip_prefix(prefix).and_then(|rest| rest.split('.').next());
            if pid.is_some_and(|pid| !Path::new("/proc").join(pid).exists()) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let dir = tempfile::Builder::new()
            .prefix(&format!("{prefix}{}.", std::process::id()))
            .tempdir()
            .unwrap();
        let mut repo = configure(Repo::in_dir(dir));
        repo.set("PULUMI_BACKEND_URL", "file://../../backend");
        std::fs::create_dir_all(repo.path().join("backend")).unwrap();

        repo.deploy_yaml(
            "infra/plain",
            "dev",
            &yaml_program("plain", PLAIN),
            &[
                ("greeting", "World", false),
                ("count", "3", false),
                ("dbPassword", "p@ss w0rd/$HOME", true),
                ("db.port", "5432", false),
                ("db.user", "app", false),
                ("aws:region", "us-east-1", false),
                ("apiKey", "sk-\"quoted\" & ünïcode", true),
            ],
        );

        // Secrets at several depths inside plain objects and lists, as other SDKs write them.
        repo.deploy_yaml("infra/deep", "dev", &yaml_program("deep", "outputs:\n  a: 1\n"), &[]);
        let secret = |v: Value| json!({SIG_KEY: SIG_SECRET, "plaintext": v.to_string()});
        repo.import_outputs(
            "infra/deep",
            "dev",
            &json!({
                "db": {"host": "db.internal", "user": "app", "password": secret(json!("p@ss w0rd/$HOME"))},
                "nodes": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2", "token": secret(json!("node-token"))}],
                "deeper": {"a": {"b": [1, {"c": secret(json!({"d": ["e", 2.5, true]}))}]}},
                "cert": secret(json!("-----BEGIN CERT-----\nMIIB\n-----END CERT-----\n")),
                "whole": secret(json!({"k": "v", "n": 1})),
                "plain": "visible",
            }),
        );

        repo.deploy_yaml("infra/unicode", "dev", &yaml_program("unicode", UNICODE), &[]);
        repo.deploy_yaml("infra/empty", "dev", &yaml_program("empty", "description: no outputs\n"), &[]);

        // 300 outputs and one value of 1 MiB, read by the program from a file.
        let big: String = (0..(1 << 20) / 16).map(|i| format!("{i:015x}\n")).collect();
        repo.write("infra/large/big.txt", &big);
        let mut program = String::from("outputs:\n  big:\n    fn::readFile: ./big.txt\n");
        for i in 0..300 {
            program.push_str(&format!("  out{i:03}: value-{i}\n"));
        }
        repo.deploy_yaml("infra/large", "dev", &yaml_program("large", &program), &[]);

        // No stack stays selected: `stack ls` then says `current: false`, as on a CI runner.
        for (dir, _) in &STACKS[..5] {
            repo.pulumi_ok(dir, &["stack", "unselect"]);
        }
        repo.dir.keep()
    })
}

/// The environment of a repository holding the contract stacks.
fn configure(mut repo: Repo) -> Repo {
    repo.with_pulumi();
    repo.set("PULUMI_CONFIG_PASSPHRASE", PASSPHRASE);
    repo
}

/// A fresh copy of the contract stacks, the real pulumi on PATH, `PULUMI_BACKEND_URL` set.
pub(crate) fn real_repo() -> Repo {
    let mut repo = configure(Repo::new());
    repo.with_diy_backend(PASSPHRASE);
    for part in ["backend", "infra"] {
        copy_dir(&template().join(part), &repo.path().join(part));
    }
    repo
}

/// `stacks/<name>.yaml` reading `stack` from the project at `dir`, with `env` lines.
pub(crate) fn map(repo: &Repo, name: &str, dir: &str, stack: &str, env: &str) {
    repo.write(
        &format!("stacks/{name}.yaml"),
        &format!("stack: {stack}\nproject: {dir}\nenv:\n{env}"),
    );
}

/// stackwire read directly (no pulumi on PATH: it cannot have run) and through the binary.
fn both(repo: &Repo, args: &[&str]) -> (String, String) {
    let direct = repo.run_without_pulumi(args).ok();
    let mut via = vec!["--via-cli"];
    via.extend_from_slice(args);
    let cli = repo.run(&via).ok();
    (direct.stdout, cli.stdout)
}

#[test]
fn outputs_json_is_byte_identical_to_pulumi_stack_output() {
    let repo = real_repo();
    for (i, (dir, stack)) in STACKS.iter().enumerate() {
        let name = format!("s{i}");
        map(&repo, &name, dir, stack, "  X: { value: x }\n");
        for show in [false, true] {
            let mut args = vec!["stack", "output", "--json", "--stack", stack];
            let mut ours = vec!["-s", &name, "outputs", "--json"];
            if show {
                args.push("--show-secrets");
                ours.push("--show-secrets");
            }
            let expected = repo.pulumi_ok(dir, &args);
            let (direct, cli) = both(&repo, &ours);
            assert_eq!(
                direct, expected,
                "direct read of {stack} in {dir}, show={show}"
            );
            assert_eq!(cli, expected, "--via-cli of {stack} in {dir}, show={show}");
        }
    }
}

#[test]
fn the_outputs_table_is_pulumis() {
    let repo = real_repo();
    for (i, (dir, stack)) in STACKS
        .iter()
        .enumerate()
        .filter(|(_, (d, _))| !d.ends_with("large"))
    {
        let name = format!("s{i}");
        map(&repo, &name, dir, stack, "  X: { value: x }\n");
        let expected = repo.pulumi_ok(dir, &["stack", "output", "--stack", stack]);
        let (direct, cli) = both(&repo, &["-s", &name, "outputs"]);
        assert_eq!(direct, expected, "{stack} in {dir}");
        assert_eq!(cli, expected, "{stack} in {dir}");
    }
}

#[test]
fn stacks_json_agrees_with_pulumi_stack_ls() {
    let repo = real_repo();
    stacks_agree(&repo);
    // With a stack selected (`pulumi stack select`), it is the current one for both.
    repo.pulumi_ok("infra/plain", &["stack", "select", "dev"]);
    repo.pulumi_ok("infra/deep", &["stack", "select", "organization/deep/dev"]);
    let (direct, _) = both(&repo, &["-s", "s0", "stacks", "--json"]);
    assert!(direct.contains("\"current\": true"), "{direct}");
    stacks_agree(&repo);
}

/// `stackwire stacks --json`, read directly and through the CLI, has the same rows as
/// `pulumi stack ls --json`, equal on every field both print.
fn stacks_agree(repo: &Repo) {
    for (i, (dir, stack)) in STACKS.iter().enumerate() {
        let name = format!("s{i}");
        map(repo, &name, dir, stack, "  X: { value: x }\n");
        let expected: Value =
            serde_json::from_str(&repo.pulumi_ok(dir, &["stack", "ls", "--json"])).unwrap();
        let (direct, cli) = both(repo, &["-s", &name, "stacks", "--json"]);
        for (how, text) in [("direct", direct), ("--via-cli", cli)] {
            let ours: Value = serde_json::from_str(&text).unwrap();
            let (ours, theirs) = (ours.as_array().unwrap(), expected.as_array().unwrap());
            assert_eq!(
                ours.len(),
                theirs.len(),
                "{how} {dir}: {ours:?} vs {theirs:?}"
            );
            for (a, b) in ours.iter().zip(theirs) {
                let shared: Vec<&String> = a
                    .as_object()
                    .unwrap()
                    .keys()
                    .filter(|k| b.get(k).is_some())
                    .collect();
                assert!(shared.len() >= 4, "{how} {dir}: {a} vs {b}");
                for key in shared {
                    assert_eq!(a[key], b[key], "{how} {dir}: `{key}` of {a} vs {b}");
                }
            }
        }
    }
}

#[test]
fn mapped_config_equals_pulumi_config_get() {
    let repo = real_repo();
    let keys = [
        ("GREETING", "greeting"),
        ("COUNT", "count"),
        ("DB_PASSWORD", "dbPassword"),
        ("API_KEY", "plain:apiKey"),
        ("REGION", "aws:region"),
        ("DB", "db"),
    ];
    let env: String = keys
        .iter()
        .map(|(var, key)| format!("  {var}: {{ config: \"{key}\" }}\n"))
        .collect();
    map(&repo, "dev", "infra/plain", "dev", &env);
    let (direct, cli) = both(&repo, &["env", "--format", "json", "--show-secrets"]);
    assert_eq!(direct, cli);
    let ours: Value = serde_json::from_str(&direct).unwrap();
    for (var, key) in keys {
        let got = repo.pulumi_ok("infra/plain", &["config", "get", key, "--stack", "dev"]);
        assert_eq!(ours[var], got.trim_end_matches('\n'), "{key}");
    }
    assert_eq!(ours["DB"], r#"{"port":5432,"user":"app"}"#);

    // Masked: the secret ones, and only those.
    let (direct, cli) = both(&repo, &["env", "--format", "json"]);
    assert_eq!(direct, cli);
    let masked: Value = serde_json::from_str(&direct).unwrap();
    let secret: Vec<&str> = keys
        .iter()
        .map(|(var, _)| *var)
        .filter(|var| masked[var] == "[secret]")
        .collect();
    assert_eq!(secret, ["DB_PASSWORD", "API_KEY"]);
}

#[test]
fn env_values_and_secret_markers_agree_through_both_paths() {
    let repo = real_repo();
    map(
        &repo,
        "dev",
        "infra/deep",
        "dev",
        r#"  DB_HOST: db.host
  DB_PASSWORD: db.password
  SECOND_NODE_TOKEN: nodes[1].token
  NODES: nodes
  CERT: cert
  DEEP: deeper.a.b[1].c.d[1]
  PLAIN: plain
  DATABASE_URL: { template: "postgres://{{ outputs.db.user }}:{{ outputs.db.password | urlencode_strict }}@{{ outputs.db.host }}/app" }
"#,
    );
    let (direct, cli) = both(&repo, &["env", "--format", "json", "--show-secrets"]);
    assert_eq!(direct, cli);
    let v: Value = serde_json::from_str(&direct).unwrap();
    assert_eq!(v["DB_PASSWORD"], "p@ss w0rd/$HOME");
    assert_eq!(
        v["DATABASE_URL"],
        "postgres://app:p%40ss%20w0rd%2F%24HOME@db.internal/app"
    );
    assert_eq!(
        v["NODES"],
        r#"[{"ip":"10.0.0.1"},{"ip":"10.0.0.2","token":"node-token"}]"#
    );
    assert_eq!(v["DEEP"], "2.5");

    let (direct, cli) = both(&repo, &["env", "--format", "json"]);
    assert_eq!(direct, cli);
    let masked: Value = serde_json::from_str(&direct).unwrap();
    let secret: Vec<&str> = masked
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| *v == "[secret]")
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(
        secret,
        [
            "CERT",
            "DATABASE_URL",
            "DB_PASSWORD",
            "DEEP",
            "NODES",
            "SECOND_NODE_TOKEN"
        ]
    );
    assert_eq!(masked["DB_HOST"], "db.internal");
}

#[test]
fn printing_needs_no_passphrase() {
    let mut repo = real_repo();
    repo.env.remove("PULUMI_CONFIG_PASSPHRASE");
    map(
        &repo,
        "dev",
        "infra/deep",
        "dev",
        "  DB_PASSWORD: db.password\n  PLAIN: plain\n",
    );
    let (direct, cli) = both(&repo, &["env", "--format", "json"]);
    assert_eq!(direct, cli);
    let v: Value = serde_json::from_str(&direct).unwrap();
    assert_eq!(v["DB_PASSWORD"], "[secret]");
    assert_eq!(v["PLAIN"], "visible");
}
