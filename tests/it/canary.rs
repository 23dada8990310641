//! A canary secret never reaches stdout or stderr without `--show-secrets`, whatever the
//! command, source (direct DIY read or the real pulumi binary), format, verbosity or error.

use serde_json::json;

use crate::support::{Repo, SIG_KEY, SIG_SECRET, yaml_program};

const OUT_CANARY: &str = "CANARY-out-9f2c1d";
const CFG_CANARY: &str = "CANARY-cfg-77ab0e";
const PASSPHRASE: &str = "canary passphrase";

/// The stack `app/prod`, deployed by the real pulumi CLI: secret outputs (top level, nested in
/// a plain object, multi-line) and a secret config value, all encrypted by the CLI.
fn canary_repo() -> Repo {
    let mut repo = Repo::new();
    repo.with_pulumi().with_diy_backend(PASSPHRASE);
    repo.deploy_yaml(
        "infra",
        "prod",
        &yaml_program("app", "outputs:\n  ip: 203.0.113.7\n"),
        &[("apiKey", CFG_CANARY, true), ("region", "eu-west-1", false)],
    );
    let secret = |v: &str| json!({SIG_KEY: SIG_SECRET, "plaintext": json!(v).to_string()});
    repo.import_outputs(
        "infra",
        "prod",
        &json!({
            "ip": "203.0.113.7",
            "token": secret(OUT_CANARY),
            "db": {"host": "db", "password": secret(&format!("{OUT_CANARY}-db"))},
            "multi": secret(&format!("line1\n{OUT_CANARY}\nline3")),
        }),
    );
    repo.write(
        "stacks/prod.yaml",
        r#"stack: prod
project: infra
env:
  IP: ip
  TOKEN: token
  DB: db
  DB_PASSWORD: db.password
  MULTI: multi
  URL: { template: "https://x:{{ outputs.token }}@{{ outputs.ip }}" }
  API_KEY: { config: apiKey }
  REGION: { config: region }
  NOT_SECRET_BUT_FORCED: { output: ip, secret: true }
files:
  - path: .env.prod
  - path: k8s/secret.yaml
    template: templates/secret.yaml.tera
"#,
    );
    repo.write(
        "templates/secret.yaml.tera",
        "stringData:\n{% for v in vars %}  {{ v.name }}: {{ v.value | yaml_string }}\n{% endfor %}",
    );
    repo
}

#[track_caller]
fn assert_clean(repo: &Repo, args: &[&str]) {
    let run = repo.run(args);
    for canary in [OUT_CANARY, CFG_CANARY] {
        assert!(
            !run.stdout.contains(canary),
            "{args:?} leaked {canary} on stdout:\n{}",
            run.stdout
        );
        assert!(
            !run.stderr.contains(canary),
            "{args:?} leaked {canary} on stderr:\n{}",
            run.stderr
        );
    }
}

#[test]
fn no_command_prints_the_canary_without_show_secrets() {
    let repo = canary_repo();
    let commands: &[&[&str]] = &[
        &["outputs"],
        &["outputs", "--json"],
        &["env"],
        &["env", "--format", "dotenv"],
        &["env", "--format", "shell"],
        &["env", "--format", "json"],
        &["env", "--format", "github-env"],
        &["render", "--check"],
        &["render"],
        &["render", "--check"],
        &["stacks"],
        &["stacks", "--json"],
    ];
    for via in [&[][..], &["--via-cli"][..]] {
        for verbose in [&[][..], &["-v"][..]] {
            for cmd in commands {
                let args: Vec<&str> = via
                    .iter()
                    .chain(verbose)
                    .chain(cmd.iter())
                    .copied()
                    .collect();
                assert_clean(&repo, &args);
            }
        }
    }
    // The files rendered do hold the secrets, with mode 0600: the canary is in the test setup.
    assert!(repo.read(".env.prod").contains(OUT_CANARY));
    assert!(repo.read("k8s/secret.yaml").contains(CFG_CANARY));
}

#[test]
fn errors_do_not_print_the_canary() {
    let mut repo = canary_repo();
    // A missing output next to secret ones: the message lists names, never values.
    repo.write("stacks/prod.yaml", "stack: prod\nproject: infra\nenv:\n  A: db.passwd\n  B: tokn\n  C: { template: '{{ outputs.token }}{{ outputs.nope }}' }\nfiles:\n  - path: .env\n");
    for args in [
        &["env"][..],
        &["render"],
        &["--via-cli", "env"],
        &["env", "--show-secrets"],
        &["-v", "render"],
    ] {
        let run = repo.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            !run.stderr.contains(OUT_CANARY) && !run.stdout.contains(OUT_CANARY),
            "{args:?}: {}",
            run.stderr
        );
    }
    // A value a format refuses: the error names the variable and character, not the value.
    repo.write("stacks/prod.yaml", "stack: prod\nproject: infra\nenv:\n  M: { template: \"{{ outputs.token }}\\r\" }\nfiles:\n  - path: .env\n");
    let run = repo.run(&["render"]);
    assert_eq!(
        run.code,
        2,
        "{}\n{}\n{}",
        run.stdout,
        run.stderr,
        repo.read(".env")
    );
    assert!(run.stderr.contains("variable M"), "{}", run.stderr);
    assert!(!run.stderr.contains(OUT_CANARY), "{}", run.stderr);
    // A wrong passphrase.
    repo.set("PULUMI_CONFIG_PASSPHRASE", "wrong");
    for args in [&["render"][..], &["--via-cli", "env", "--show-secrets"]] {
        let run = repo.run(args);
        assert_ne!(run.code, 0);
        assert!(
            !run.stderr.contains(OUT_CANARY) && !run.stderr.contains(PASSPHRASE),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn show_secrets_does_reveal_it() {
    let repo = canary_repo();
    let run = repo
        .run(&["env", "--format", "json", "--show-secrets"])
        .ok();
    assert!(
        run.stdout.contains(OUT_CANARY) && run.stdout.contains(CFG_CANARY),
        "{}",
        run.stdout
    );
    let run = repo
        .run(&["--via-cli", "outputs", "--json", "--show-secrets"])
        .ok();
    assert!(run.stdout.contains(OUT_CANARY), "{}", run.stdout);
}
