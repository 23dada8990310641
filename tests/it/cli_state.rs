//! Commands over a `--state` export file: formats, mapping errors, render and its checks.

use std::os::unix::fs::PermissionsExt as _;

use serde_json::json;

use crate::support::{Repo, export_doc, secret};

const MAPPING: &str = r#"stack: production
env:
  LAMBDA_LABS_INSTANCE_IP: instanceIp
  DB_PASSWORD: { output: db.password }
  DATABASE_URL: { template: "postgres://app:{{ outputs.db.password }}@{{ outputs.db.host }}:{{ outputs.db.port }}/app" }
  API_URL: { template: "http://{{ env.LAMBDA_LABS_INSTANCE_IP }}:8000" }
  LOG_LEVEL: { value: info }
  FEATURE_FLAG: { output: flag, required: false }
  NODES: nodes
files:
  - path: .env.production
  - path: deploy/app-secret.yaml
    template: templates/k8s-secret.yaml.tera
"#;

const TEMPLATE: &str = r#"apiVersion: v1
kind: Secret
metadata:
  name: app-env
type: Opaque
stringData:
{%- for v in vars %}
  {{ v.name }}: {{ v.value | yaml_string }}
{%- endfor %}
"#;

fn repo() -> Repo {
    let repo = Repo::new();
    repo.write("stacks/production.yaml", MAPPING);
    repo.write("templates/k8s-secret.yaml.tera", TEMPLATE);
    let outputs = json!({
        "instanceIp": "203.0.113.10",
        "db": {"host": "db.internal", "port": 5432, "password": secret(json!("s3cr3t-Canary!"))},
        "nodes": ["a", "b"],
    });
    repo.write("state.json", &export_doc(outputs).to_string());
    repo
}

#[test]
fn outputs_json_masks_secrets_unless_asked() {
    let repo = repo();
    let run = repo
        .run(&["--state", "state.json", "outputs", "--json"])
        .ok();
    assert_eq!(
        run.stdout,
        "{\n  \"db\": {\n    \"host\": \"db.internal\",\n    \"password\": \"[secret]\",\n    \"port\": 5432\n  },\n  \"instanceIp\": \"203.0.113.10\",\n  \"nodes\": [\n    \"a\",\n    \"b\"\n  ]\n}\n"
    );
    let shown = repo
        .run(&[
            "--state",
            "state.json",
            "outputs",
            "--json",
            "--show-secrets",
        ])
        .ok();
    assert_eq!(shown.json()["db"]["password"], "s3cr3t-Canary!");
    let table = repo.run(&["--state", "state.json", "outputs"]).ok();
    assert!(
        table
            .stdout
            .starts_with("Current stack outputs (3):\n    OUTPUT      VALUE\n"),
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains(
        "    db          {\"host\":\"db.internal\",\"password\":\"[secret]\",\"port\":5432}\n"
    ));
}

#[test]
fn env_formats() {
    let repo = repo();
    let json = repo
        .run(&["--state", "state.json", "env", "--format", "json"])
        .ok();
    let keys: Vec<&str> = json
        .stdout
        .lines()
        .filter_map(|l| l.trim().split('"').nth(1))
        .collect();
    assert_eq!(
        keys,
        [
            "LAMBDA_LABS_INSTANCE_IP",
            "DB_PASSWORD",
            "DATABASE_URL",
            "API_URL",
            "LOG_LEVEL",
            "NODES"
        ],
        "mapping order"
    );
    let v = json.json();
    assert_eq!(v["DB_PASSWORD"], "[secret]");
    assert_eq!(
        v["DATABASE_URL"], "[secret]",
        "a template over a secret is secret"
    );
    assert_eq!(v["API_URL"], "http://203.0.113.10:8000");
    assert_eq!(v["NODES"], r#"["a","b"]"#);
    assert!(
        v.get("FEATURE_FLAG").is_none(),
        "optional and absent: left out"
    );

    let shown = repo
        .run(&[
            "--state",
            "state.json",
            "env",
            "--format",
            "json",
            "--show-secrets",
        ])
        .ok()
        .json();
    assert_eq!(
        shown["DATABASE_URL"],
        "postgres://app:s3cr3t-Canary!@db.internal:5432/app"
    );

    let dotenv = repo.run(&["--state", "state.json", "env"]).ok();
    assert!(
        dotenv
            .stdout
            .starts_with("LAMBDA_LABS_INSTANCE_IP=203.0.113.10\nDB_PASSWORD="),
        "{}",
        dotenv.stdout
    );

    let shell = repo
        .run(&[
            "--state",
            "state.json",
            "env",
            "--format",
            "shell",
            "--show-secrets",
        ])
        .ok();
    assert!(
        shell
            .stdout
            .contains("export DB_PASSWORD='s3cr3t-Canary!'\n"),
        "{}",
        shell.stdout
    );
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg("eval \"$1\"; printf %s \"$DATABASE_URL\"")
        .arg("bash")
        .arg(&shell.stdout)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "postgres://app:s3cr3t-Canary!@db.internal:5432/app"
    );

    let gh = repo
        .run(&[
            "--state",
            "state.json",
            "env",
            "--format",
            "github-env",
            "--show-secrets",
        ])
        .ok();
    assert!(
        gh.stdout.contains("API_URL=http://203.0.113.10:8000\n"),
        "{}",
        gh.stdout
    );
}

#[test]
fn github_env_file_and_masks() {
    let mut repo = repo();
    let gh_env = repo.path().join("github_env");
    std::fs::write(&gh_env, "EXISTING=1\n").unwrap();
    repo.set("GITHUB_ENV", gh_env.clone())
        .set("GITHUB_ACTIONS", "true");
    let run = repo
        .run(&["--state", "state.json", "env", "--write-github-env"])
        .ok();
    assert!(run.stdout.is_empty(), "nothing on stdout: {}", run.stdout);
    let first = run.stderr.lines().next().unwrap_or_default();
    assert_eq!(
        first, "::add-mask::s3cr3t-Canary!",
        "masks come first:\n{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("::add-mask::postgres://app:s3cr3t-Canary!@db.internal:5432/app")
    );
    let written = std::fs::read_to_string(&gh_env).unwrap();
    assert!(
        written.starts_with("EXISTING=1\nLAMBDA_LABS_INSTANCE_IP=203.0.113.10\n"),
        "{written}"
    );
    assert!(
        written.contains("DB_PASSWORD=s3cr3t-Canary!\n"),
        "{written}"
    );

    repo.env.remove("GITHUB_ENV");
    let run = repo
        .run(&["--state", "state.json", "env", "--write-github-env"])
        .code(2);
    assert!(run.stderr.contains("GITHUB_ENV"), "{}", run.stderr);
}

#[test]
fn render_writes_checks_and_merges() {
    let repo = repo();
    repo.write(
        ".env.production",
        "# team notes\nKEEP=me # unmanaged\r\nLOG_LEVEL=debug\n\nexport NODES=old\n",
    );
    let check = repo
        .run(&["--state", "state.json", "render", "--check"])
        .code(1);
    assert_eq!(
        check.stdout,
        ".env.production: content differs\ndeploy/app-secret.yaml: would be created\n"
    );
    assert!(
        !repo.path().join("deploy/app-secret.yaml").exists(),
        "--check writes nothing"
    );

    repo.run(&["--state", "state.json", "render"]).ok();
    let env = repo.read(".env.production");
    assert!(
        env.starts_with("# team notes\nKEEP=me # unmanaged\r\nLOG_LEVEL=info\n\nexport NODES="),
        "{env}"
    );
    assert!(
        env.contains("DB_PASSWORD=s3cr3t-Canary!") || env.contains("DB_PASSWORD='s3cr3t-Canary!'"),
        "{env}"
    );
    let mode = |rel: &str| {
        std::fs::metadata(repo.path().join(rel))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(".env.production"), 0o600);
    let secret = repo.read("deploy/app-secret.yaml");
    assert!(
        secret.contains("  DB_PASSWORD: \"s3cr3t-Canary!\"\n"),
        "{secret}"
    );
    assert!(
        secret.contains("  NODES: \"[\\\"a\\\",\\\"b\\\"]\"\n"),
        "{secret}"
    );
    assert_eq!(mode("deploy/app-secret.yaml"), 0o600);

    repo.run(&["--state", "state.json", "render", "--check"])
        .ok();
    std::fs::set_permissions(
        repo.path().join(".env.production"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let check = repo
        .run(&["--state", "state.json", "render", "--check"])
        .code(1);
    assert_eq!(
        check.stdout,
        ".env.production: holds secrets but is not mode 0600\n"
    );
}

#[test]
fn missing_outputs_touch_nothing() {
    let repo = repo();
    repo.write(
        "stacks/production.yaml",
        &MAPPING.replace(
            "LAMBDA_LABS_INSTANCE_IP: instanceIp",
            "LAMBDA_LABS_INSTANCE_IP: instanceIP",
        ),
    );
    repo.write(".env.production", "KEEP=1\n");
    let run = repo.run(&["--state", "state.json", "render"]).code(2);
    assert!(
        run.stderr
            .contains("LAMBDA_LABS_INSTANCE_IP: stack output `instanceIP` does not exist"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("(nearest first): `instanceIp`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("stacks/production.yaml:3"),
        "{}",
        run.stderr
    );
    assert_eq!(repo.read(".env.production"), "KEEP=1\n");
    assert!(!repo.path().join("deploy").exists());
}

#[test]
fn invalid_mapping_names_file_line_and_column() {
    let repo = repo();
    repo.write(
        "stacks/production.yaml",
        "env:\n  GOOD: instanceIp\n  9BAD: instanceIp\n",
    );
    let run = repo.run(&["--state", "state.json", "env"]).code(2);
    assert!(
        run.stderr
            .contains("stacks/production.yaml:3:3: `9BAD` is not a valid variable name"),
        "{}",
        run.stderr
    );
    repo.write(
        "stacks/production.yaml",
        "env:\n  A: { output: instanceIp, secert: true }\n",
    );
    let run = repo.run(&["--state", "state.json", "env"]).code(2);
    assert!(
        run.stderr.contains("stacks/production.yaml:2:"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("secert"), "{}", run.stderr);
}

#[test]
fn stack_selection() {
    let repo = repo();
    repo.run(&["--state", "state.json", "env"]).ok();
    repo.write("stacks/staging.yaml", "env: {}\n");
    let run = repo.run(&["--state", "state.json", "env"]).code(2);
    assert!(
        run.stderr.contains("several stacks") && run.stderr.contains("production, staging"),
        "{}",
        run.stderr
    );
    repo.run(&["--state", "state.json", "-s", "production", "env"])
        .ok();
    let run = repo
        .run(&["--state", "state.json", "-s", "prod", "env"])
        .code(2);
    assert!(
        run.stderr.contains("stacks found: production, staging"),
        "{}",
        run.stderr
    );
    let other = Repo::new();
    let run = other.run(&[
        "-C",
        repo.path().to_str().unwrap(),
        "--state",
        "state.json",
        "-s",
        "production",
        "env",
    ]);
    assert_eq!(
        run.code, 2,
        "state path is relative to the cwd, not -C: {}",
        run.stderr
    );
}

#[test]
fn bad_state_files_are_clear_errors() {
    let repo = repo();
    for (content, expect) in [
        ("not json", "not valid JSON"),
        (
            "{\"version\": 3, \"deployment\": {\"resources\": [",
            "not valid JSON",
        ),
        (
            "{\"version\": 12, \"deployment\": {}}",
            "newer than stackwire understands",
        ),
        ("{\"hello\": 1}", "not a Pulumi state"),
    ] {
        repo.write("bad.json", content);
        let run = repo
            .run(&["--state", "bad.json", "outputs", "--json"])
            .code(2);
        assert!(
            run.stderr.contains("bad.json") && run.stderr.contains(expect),
            "{content}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    let run = repo.run(&["--state", "nope.json", "outputs"]).code(2);
    assert!(run.stderr.contains("nope.json"), "{}", run.stderr);
}

#[test]
fn usage_errors_exit_2_and_help_works() {
    let repo = repo();
    repo.run(&["env", "--format", "yaml"]).code(2);
    repo.run(&["frobnicate"]).code(2);
    let help = repo.run(&["--help"]).ok();
    assert!(
        help.stdout
            .contains("Print the mapped environment variables"),
        "{}",
        help.stdout
    );
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let run = repo.run(&["completions", shell]).ok();
        assert!(run.stdout.contains("stackwire"), "{shell}");
    }
    let man = repo.run(&["man"]).ok();
    assert!(
        man.stdout.starts_with(".ie") || man.stdout.contains(".TH stackwire"),
        "{}",
        &man.stdout[..200.min(man.stdout.len())]
    );
}

#[test]
fn shipped_templates_render_what_real_readers_read_back() {
    let repo = Repo::new();
    for t in [
        "k8s-secret.yaml.tera",
        "configmap.yaml.tera",
        "github-env.tera",
    ] {
        let text =
            std::fs::read_to_string(crate::support::manifest_dir().join("templates").join(t))
                .unwrap();
        repo.write(&format!("templates/{t}"), &text);
    }
    let tricky = [
        "yes",
        "0755",
        "1.0",
        "a: b # c",
        "  padded  ",
        "\"quoted\" 'both'",
        "multi\nline\n",
        "ümlaut ✓",
        "",
        "null",
    ];
    let mut outputs = serde_json::Map::new();
    let mut mapping = String::from("env:\n");
    for (i, v) in tricky.iter().enumerate() {
        outputs.insert(format!("o{i}"), json!(v));
        mapping.push_str(&format!("  V{i}: o{i}\n"));
    }
    outputs.insert("pw".into(), secret(json!("hunter2")));
    mapping.push_str("  PW: pw\nfiles:\n");
    for (path, t) in [
        ("secret.yaml", "k8s-secret.yaml.tera"),
        ("cm.yaml", "configmap.yaml.tera"),
        ("gh.env", "github-env.tera"),
    ] {
        mapping.push_str(&format!("  - path: {path}\n    template: templates/{t}\n"));
    }
    repo.write("stacks/dev.yaml", &mapping);
    repo.write(
        "state.json",
        &export_doc(serde_json::Value::Object(outputs)).to_string(),
    );
    repo.run(&["--state", "state.json", "render"]).ok();

    // PyYAML reads the Secret and the ConfigMap back with every value an identical string.
    let script =
        "import json,sys,yaml\nprint(json.dumps([yaml.safe_load(open(f)) for f in sys.argv[1:]]))";
    let out = std::process::Command::new("python3")
        .args(["-c", script, "secret.yaml", "cm.yaml"])
        .current_dir(repo.path())
        .output()
        .expect("python3 with PyYAML (scripts/test installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let docs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(docs[0]["kind"], "Secret");
    for (i, v) in tricky.iter().enumerate() {
        assert_eq!(
            docs[0]["stringData"][format!("V{i}")],
            json!(v),
            "Secret V{i}"
        );
        assert_eq!(docs[1]["data"][format!("V{i}")], json!(v), "ConfigMap V{i}");
    }
    assert_eq!(docs[0]["stringData"]["PW"], "hunter2");
    assert!(
        docs[1]["data"].get("PW").is_none(),
        "the ConfigMap leaves secrets out"
    );
    let gh = repo.read("gh.env");
    assert!(
        gh.contains("V0=yes\n") && gh.contains("V6<<ghadelimiter_"),
        "{gh}"
    );
}
