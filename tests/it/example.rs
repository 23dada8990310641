//! The bundled example runs with no pulumi binary on PATH: the README's first command.

use crate::support::{Repo, manifest_dir};

fn example() -> String {
    manifest_dir()
        .join("examples/lambda-labs")
        .display()
        .to_string()
}

fn repo_without_pulumi() -> Repo {
    let mut repo = Repo::new();
    repo.set("PATH", "/usr/bin:/bin");
    repo
}

#[test]
fn readme_first_command_needs_no_pulumi() {
    let repo = repo_without_pulumi();
    let run = repo.run(&["-C", &example(), "env"]).ok();
    assert!(
        run.stdout
            .starts_with("LAMBDA_LABS_INSTANCE_IP=192.0.2.44\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("DB_PASSWORD='[secret]'\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("SNOWFLAKE_ACCOUNT=acme-xy12345\n"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("SENTRY_DSN"),
        "optional output absent: {}",
        run.stdout
    );
}

#[test]
fn example_secrets_decrypt_with_the_documented_passphrase() {
    let mut repo = repo_without_pulumi();
    repo.set("PULUMI_CONFIG_PASSPHRASE", "lambda-labs-demo");
    let v = repo
        .run(&[
            "-C",
            &example(),
            "env",
            "--format",
            "json",
            "--show-secrets",
        ])
        .ok()
        .json();
    assert_eq!(
        v["DATABASE_URL"],
        "postgresql://sophia_app:Vq7%23kd9%21p%24Lm2%40xZ@db.lambda-labs.internal:5432/sophia"
    );
    assert_eq!(v["SNOWFLAKE_PASSWORD"], "sn0wfl@ke-pass");
}

#[test]
fn example_renders_into_a_copy() {
    let mut repo = repo_without_pulumi();
    repo.set("PULUMI_CONFIG_PASSPHRASE", "lambda-labs-demo");
    let copy = repo.path().join("example");
    crate::support::copy_dir(&manifest_dir().join("examples/lambda-labs"), &copy);
    let root = copy.display().to_string();
    repo.run(&["-C", &root, "render"]).ok();
    let secret = std::fs::read_to_string(copy.join("deploy/app-secret.yaml")).unwrap();
    assert!(secret.contains("kind: Secret\n"), "{secret}");
    assert!(
        secret.contains("  DB_PASSWORD: \"Vq7#kd9!p$Lm2@xZ\"\n"),
        "{secret}"
    );
    repo.run(&["-C", &root, "render", "--check"]).ok();
}

#[test]
fn example_state_is_the_real_clis_up_of_its_program() {
    let mut repo = Repo::new();
    repo.with_pulumi();
    repo.set("PULUMI_CONFIG_PASSPHRASE", "lambda-labs-demo");
    let copy = repo.path().join("example");
    crate::support::copy_dir(&manifest_dir().join("examples/lambda-labs"), &copy);
    // Written by the pinned CLI.
    let state =
        std::fs::read_to_string(copy.join("state/.pulumi/stacks/lambda-labs/production.json"))
            .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&state).unwrap();
    assert_eq!(
        doc["checkpoint"]["latest"]["manifest"]["version"],
        crate::support::pinned_version()
    );
    // The program, deployed again, changes nothing: the state is its `pulumi up`.
    repo.pulumi_ok(
        "example",
        &["preview", "--expect-no-changes", "--stack", "production"],
    );
    // And stackwire, reading it without pulumi, prints what pulumi prints.
    let theirs = repo.pulumi_ok(
        "example",
        &[
            "stack",
            "output",
            "--json",
            "--show-secrets",
            "--stack",
            "production",
        ],
    );
    let mut alone = repo_without_pulumi();
    alone.set("PULUMI_CONFIG_PASSPHRASE", "lambda-labs-demo");
    let ours = alone
        .run(&[
            "-C",
            copy.to_str().unwrap(),
            "outputs",
            "--json",
            "--show-secrets",
        ])
        .ok();
    assert_eq!(ours.stdout, theirs);
}
