//! Passphrase secrets that the real pulumi CLI encrypted (stack outputs in its DIY state,
//! `secure:` values it wrote into `Pulumi.<stack>.yaml`), decrypted by stackwire itself, with
//! no pulumi on PATH, from `PULUMI_CONFIG_PASSPHRASE` and from `PULUMI_CONFIG_PASSPHRASE_FILE`.

use serde_json::Value;

use crate::contract::{PASSPHRASE, map, real_repo};
use crate::support::Repo;

const MAPPING: &str = r#"  LITERAL: secretLit
  FROM_CONFIG: cfgSecret
  DB_PASSWORD: { config: dbPassword }
  API_KEY: { config: apiKey }
"#;

/// What the real CLI decrypts: the outputs and config values the mapping reads.
fn expected(repo: &Repo) -> Value {
    let outputs = repo.revealed_outputs("infra/plain", "dev");
    let get = |key: &str| {
        repo.pulumi_ok("infra/plain", &["config", "get", key, "--stack", "dev"])
            .trim_end_matches('\n')
            .to_owned()
    };
    let deep = repo.revealed_outputs("infra/deep", "dev");
    serde_json::json!({
        "LITERAL": outputs["secretLit"],
        "FROM_CONFIG": outputs["cfgSecret"],
        "DEEP": deep["db"]["password"],
        "DB_PASSWORD": get("dbPassword"),
        "API_KEY": get("apiKey"),
    })
}

/// A repository reading the plain stack's secrets (`-s dev`); the tests that also read the
/// deep stack's `db.password` add a second mapping (`-s deep`): one backend, one passphrase.
fn secrets_repo() -> Repo {
    let repo = real_repo();
    map(&repo, "dev", "infra/plain", "dev", MAPPING);
    repo
}

#[track_caller]
fn decrypted(repo: &Repo) -> Value {
    let shown = |stack: &str| {
        let args = ["-s", stack, "env", "--format", "json", "--show-secrets"];
        repo.run_without_pulumi(&args).ok().json()
    };
    let mut v = shown("dev");
    v["DEEP"] = shown("deep")["DEEP"].clone();
    v
}

#[test]
fn stackwire_decrypts_what_the_real_cli_encrypted() {
    let repo = secrets_repo();
    map(&repo, "deep", "infra/deep", "dev", "  DEEP: db.password\n");
    // The values are really ciphertext on disk, written by the CLI.
    let config = repo.read("infra/plain/Pulumi.dev.yaml");
    assert!(config.contains("secure: v1:"), "{config}");
    assert!(!config.contains("p@ss w0rd"), "{config}");
    let state = repo.read("backend/.pulumi/stacks/plain/dev.json");
    assert!(
        state.contains("\"ciphertext\":\"v1:"),
        "the CLI wrote ciphertext"
    );
    assert!(!state.contains("s3cr3t"), "no plaintext in the state");

    let want = expected(&repo);
    assert_eq!(decrypted(&repo), want);
    assert_eq!(want["DB_PASSWORD"], "p@ss w0rd/$HOME");
    assert_eq!(want["API_KEY"], "sk-\"quoted\" & ünïcode");
    assert_eq!(want["LITERAL"], "s3cr3t");
}

#[test]
fn the_passphrase_file_is_read_as_the_cli_reads_it() {
    let mut repo = secrets_repo();
    map(&repo, "deep", "infra/deep", "dev", "  DEEP: db.password\n");
    let want = expected(&repo);
    repo.env.remove("PULUMI_CONFIG_PASSPHRASE");
    // Surrounding whitespace and the final newline are not part of it, for pulumi or us.
    let file = repo.write("secrets/phrase", &format!("  {PASSPHRASE}\n\n"));
    repo.set("PULUMI_CONFIG_PASSPHRASE_FILE", file.clone());
    assert_eq!(expected(&repo), want, "the real CLI reads the file");
    assert_eq!(decrypted(&repo), want);
    // Through the binary too: the file reaches pulumi.
    let via = repo
        .run(&[
            "--via-cli",
            "-s",
            "dev",
            "env",
            "--format",
            "json",
            "--show-secrets",
        ])
        .ok()
        .json();
    assert_eq!(via["DB_PASSWORD"], want["DB_PASSWORD"]);
}

#[test]
fn a_wrong_passphrase_is_invalid_input_however_it_is_found() {
    let mut repo = secrets_repo();
    let file = repo.write("secrets/wrong", "not it either\n");
    for (var, value) in [
        ("PULUMI_CONFIG_PASSPHRASE", "not it".into()),
        ("PULUMI_CONFIG_PASSPHRASE_FILE", file.into_os_string()),
    ] {
        repo.env.remove("PULUMI_CONFIG_PASSPHRASE");
        repo.set(var, value);
        let ours = repo.run_without_pulumi(&["env", "--show-secrets"]).code(2);
        let cli = repo.run(&["--via-cli", "env", "--show-secrets"]).code(2);
        for run in [&ours, &cli] {
            assert!(
                run.stderr.contains("the passphrase is wrong: "),
                "{}",
                run.stderr
            );
            assert!(
                run.stderr.contains(
                    "\n  hint: set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) to the stack's passphrase"
                ),
                "{}",
                run.stderr
            );
            assert!(!run.stderr.contains("not it"), "{}", run.stderr);
        }
        repo.env.remove(var);
    }
    // None at all: the other class, the same on both paths.
    let ours = repo.run_without_pulumi(&["env", "--show-secrets"]).code(2);
    let cli = repo.run(&["--via-cli", "env", "--show-secrets"]).code(2);
    for run in [ours, cli] {
        assert!(
            run.stderr.contains("the passphrase is not set: "),
            "{}",
            run.stderr
        );
    }
}
