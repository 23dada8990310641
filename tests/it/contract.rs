//! The pulumi contract suite: the same stacks read directly from the DIY backend and through
//! the pulumi binary give identical results. It runs against the stand-in always, and against
//! a real `pulumi` on PATH with `STACKWIRE_REAL_PULUMI=1` (states built by `mkstate.py`, which
//! writes what the real CLI reads).

use serde_json::{Value, json};

use crate::support::{Repo, real_pulumi};

const PASSPHRASE: &str = "correct horse battery staple";

/// A repository with a passphrase-encrypted DIY backend holding stack `app/dev`.
pub(crate) fn stack_repo() -> Repo {
    let mut repo = Repo::new();
    if !real_pulumi() {
        repo.with_standin();
    }
    repo.mkstate(
        &json!({
            "project": "app",
            "stack": "dev",
            "passphrase": PASSPHRASE,
            "outputs": {
                "instanceIp": "203.0.113.10",
                "port": 8000,
                "ratio": 0.25,
                "enabled": true,
                "db": {"host": "db.internal", "user": "app", "password": {"$secret": "p@ss w0rd/$HOME"}},
                "nodes": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2", "token": {"$secret": "node-token"}}],
                "cert": {"$secret": "-----BEGIN CERT-----\nMIIB\n-----END CERT-----\n"},
                "unicode": "Grüße \u{2028} ✓",
            },
            "config": {
                "region": "us-east-1",
                "snowflakeAccount": "acme-xy12345",
                "snowflakePassword": {"$secret": "sn0w!"},
                "db": {"port": 5432},
            },
        }),
        "backend",
    );
    repo.write(
        "stacks/dev.yaml",
        r#"stack: dev
project: backend/app
env:
  LAMBDA_LABS_INSTANCE_IP: instanceIp
  PORT: port
  RATIO: ratio
  ENABLED: enabled
  DB_HOST: db.host
  DB_PASSWORD: db.password
  SECOND_NODE_TOKEN: nodes[1].token
  NODES: nodes
  CERT: cert
  DATABASE_URL: { template: "postgres://{{ outputs.db.user }}:{{ outputs.db.password | urlencode_strict }}@{{ outputs.db.host }}:{{ config.db.port }}/app" }
  REGION: { config: region }
  SNOWFLAKE_ACCOUNT: { config: "app:snowflakeAccount" }
  SNOWFLAKE_PASSWORD: { config: snowflakePassword }
  API_URL: { template: "http://{{ env.LAMBDA_LABS_INSTANCE_IP }}:{{ env.PORT }}" }
"#,
    );
    let url = format!("file://{}", repo.path().join("backend").display());
    repo.set("PULUMI_BACKEND_URL", url)
        .set("PULUMI_CONFIG_PASSPHRASE", PASSPHRASE);
    repo
}

/// The same command read directly and through the binary.
fn both(repo: &Repo, args: &[&str]) -> (String, String) {
    let direct = repo.run(args).ok();
    let mut via: Vec<&str> = vec!["--via-cli"];
    via.extend_from_slice(args);
    let cli = repo.run(&via).ok();
    (direct.stdout, cli.stdout)
}

#[test]
fn direct_and_cli_agree_on_outputs() {
    let repo = stack_repo();
    for args in [
        &["outputs", "--json"][..],
        &["outputs", "--json", "--show-secrets"],
        &["outputs"],
        &["outputs", "--show-secrets"],
    ] {
        let (direct, cli) = both(&repo, args);
        assert_eq!(direct, cli, "{args:?}");
    }
    let (masked, _) = both(&repo, &["outputs", "--json"]);
    let v: Value = serde_json::from_str(&masked).unwrap();
    assert_eq!(v["db"]["password"], "[secret]");
    assert_eq!(v["nodes"][1]["token"], "[secret]");
    assert_eq!(v["cert"], "[secret]");
    assert_eq!(v["port"], 8000);
}

#[test]
fn outputs_json_is_byte_identical_to_pulumi_stack_output() {
    let repo = stack_repo();
    let program = if real_pulumi() {
        "pulumi".into()
    } else {
        crate::support::standin()
    };
    for show in [false, true] {
        let mut cmd = std::process::Command::new(&program);
        cmd.args([
            "--non-interactive",
            "-C",
            "backend/app",
            "stack",
            "output",
            "--json",
            "--stack",
            "dev",
        ]);
        if show {
            cmd.arg("--show-secrets");
        }
        let out = cmd
            .current_dir(repo.path())
            .env_clear()
            .envs(&repo.env)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut args = vec!["outputs", "--json"];
        if show {
            args.push("--show-secrets");
        }
        let (direct, cli) = both(&repo, &args);
        assert_eq!(
            direct,
            String::from_utf8(out.stdout.clone()).unwrap(),
            "direct, show={show}"
        );
        assert_eq!(
            cli,
            String::from_utf8(out.stdout).unwrap(),
            "cli, show={show}"
        );
    }
}

#[test]
fn direct_and_cli_agree_on_env_and_secret_markers() {
    let repo = stack_repo();
    let (direct, cli) = both(&repo, &["env", "--format", "json", "--show-secrets"]);
    assert_eq!(direct, cli);
    let v: Value = serde_json::from_str(&direct).unwrap();
    assert_eq!(v["DB_PASSWORD"], "p@ss w0rd/$HOME");
    assert_eq!(
        v["DATABASE_URL"],
        "postgres://app:p%40ss%20w0rd%2F%24HOME@db.internal:5432/app"
    );
    assert_eq!(v["SNOWFLAKE_PASSWORD"], "sn0w!");
    assert_eq!(v["PORT"], "8000");
    assert_eq!(v["RATIO"], "0.25");
    assert_eq!(v["ENABLED"], "true");
    assert_eq!(
        v["NODES"],
        r#"[{"ip":"10.0.0.1"},{"ip":"10.0.0.2","token":"node-token"}]"#
    );
    assert_eq!(v["API_URL"], "http://203.0.113.10:8000");

    let (direct, cli) = both(&repo, &["env", "--format", "json"]);
    assert_eq!(direct, cli);
    let masked: Value = serde_json::from_str(&direct).unwrap();
    let secret_names: Vec<&str> = masked
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| *v == "[secret]")
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(
        secret_names,
        [
            "CERT",
            "DATABASE_URL",
            "DB_PASSWORD",
            "NODES",
            "SECOND_NODE_TOKEN",
            "SNOWFLAKE_PASSWORD"
        ]
    );
}

#[test]
fn printing_needs_no_passphrase() {
    let mut repo = stack_repo();
    repo.env.remove("PULUMI_CONFIG_PASSPHRASE");
    let (direct, cli) = both(&repo, &["env", "--format", "json"]);
    assert_eq!(direct, cli);
    assert_eq!(
        serde_json::from_str::<Value>(&direct).unwrap()["DB_PASSWORD"],
        "[secret]"
    );
}

#[test]
fn direct_and_cli_agree_on_stacks() {
    let repo = stack_repo();
    let (direct, cli) = both(&repo, &["stacks", "--json"]);
    assert_eq!(direct, cli);
    let v: Value = serde_json::from_str(&direct).unwrap();
    assert_eq!(v[0]["name"], "dev");
    assert_eq!(v[0]["resourceCount"], 1);
    assert!(
        direct.starts_with(
            "[\n  {\n    \"name\": \"dev\",\n    \"current\": false,\n    \"lastUpdate\": \""
        ),
        "{direct}"
    );
    let table = repo.run(&["stacks"]).ok();
    assert!(
        table.stdout.starts_with("NAME  LAST UPDATE"),
        "{}",
        table.stdout
    );
}
