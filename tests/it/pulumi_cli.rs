//! The pulumi chokepoint through the stand-in: the argv and environment pulumi gets, how many
//! processes run, and every failure class becoming a clear error with exit code 3.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::contract::stack_repo;

fn logged_env(repo: &crate::support::Repo) -> Vec<Value> {
    std::fs::read_to_string(repo.path().join("standin.log"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["env"].clone())
        .collect()
}

#[test]
fn one_export_and_one_config_call_for_fifty_variables() {
    let mut repo = stack_repo();
    repo.standin_log();
    let mut mapping = String::from("stack: dev\nproject: backend/app\nenv:\n");
    for i in 0..50 {
        let line = match i % 5 {
            0 => format!("  V{i}: instanceIp\n"),
            1 => format!("  V{i}: db.password\n"),
            2 => format!("  V{i}: nodes[{}].ip\n", i % 2),
            3 => format!("  V{i}: {{ template: \"{{{{ outputs.port }}}}-{i}\" }}\n"),
            _ => format!("  V{i}: {{ config: region }}\n"),
        };
        mapping.push_str(&line);
    }
    repo.write("stacks/dev.yaml", &mapping);
    let run = repo
        .run(&["--via-cli", "env", "--format", "json", "--show-secrets"])
        .ok();
    assert_eq!(run.json().as_object().unwrap().len(), 50);
    let calls = repo.invocations();
    assert_eq!(calls.len(), 2, "{calls:?}");
    let export = calls
        .iter()
        .find(|a| a.contains(&"export".to_owned()))
        .expect("a stack export");
    let config = calls
        .iter()
        .find(|a| a.contains(&"config".to_owned()))
        .expect("a config call");
    for argv in [export, config] {
        for flag in [
            "--non-interactive",
            "--color",
            "never",
            "-C",
            "--stack",
            "dev",
            "--show-secrets",
        ] {
            assert!(argv.iter().any(|a| a == flag), "{flag} missing in {argv:?}");
        }
    }

    // Without config mappings: the export alone.
    std::fs::remove_file(repo.path().join("standin.log")).unwrap();
    repo.write(
        "stacks/dev.yaml",
        "stack: dev\nproject: backend/app\nenv:\n  A: instanceIp\n  B: db.password\n",
    );
    repo.run(&["--via-cli", "env"]).ok();
    let calls = repo.invocations();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(
        !calls[0].contains(&"--show-secrets".to_owned()),
        "printing masked values decrypts nothing"
    );
}

#[test]
fn the_environment_pulumi_gets_is_scrubbed() {
    let mut repo = stack_repo();
    repo.standin_log();
    repo.set("PULUMI_OPTION_REFRESH", "true")
        .set("PULUMI_STACK", "other")
        .set("PULUMI_SKIP_CONFIRMATIONS", "true");
    repo.run(&["--via-cli", "outputs", "--json"]).ok();
    let env = &logged_env(&repo)[0];
    assert_eq!(env["PULUMI_SKIP_UPDATE_CHECK"], "true");
    assert_eq!(env["NO_COLOR"], "1");
    for gone in [
        "PULUMI_OPTION_REFRESH",
        "PULUMI_STACK",
        "PULUMI_SKIP_CONFIRMATIONS",
        "PULUMI_CONFIG_PASSPHRASE",
    ] {
        assert!(env.get(gone).is_none(), "{gone} reached pulumi: {env}");
    }
    repo.run(&["--via-cli", "outputs", "--json", "--show-secrets"])
        .ok();
    let env = &logged_env(&repo)[1];
    assert!(
        env.get("PULUMI_CONFIG_PASSPHRASE").is_some(),
        "decrypting calls get the passphrase: {env}"
    );
}

#[track_caller]
fn fails_with(repo: &crate::support::Repo, args: &[&str], expect: &[&str]) -> String {
    let run = repo.run(args).code(3);
    for e in expect {
        assert!(run.stderr.contains(e), "expected {e:?} in:\n{}", run.stderr);
    }
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "nothing on stdout: {}", run.stdout);
    run.stderr
}

#[test]
fn failure_classes() {
    let mut repo = stack_repo();
    // Stack not found: the command, the status, pulumi's error line, a hint.
    repo.write(
        "stacks/dev.yaml",
        "stack: nope\nproject: backend/app\nenv:\n  A: instanceIp\n",
    );
    let stderr = fails_with(
        &repo,
        &["--via-cli", "env"],
        &[
            "the stack does not exist",
            "stack export --stack nope",
            "(exit status: 6)",
            "error: no stack named 'nope' found",
            "hint:",
        ],
    );
    assert!(
        stderr.contains(" -C "),
        "the command line is shown: {stderr}"
    );

    repo.write(
        "stacks/dev.yaml",
        "stack: dev\nproject: backend/app\nenv:\n  A: db.password\n",
    );
    repo.env.remove("PULUMI_CONFIG_PASSPHRASE");
    fails_with(
        &repo,
        &["--via-cli", "env", "--show-secrets"],
        &["the passphrase is not set", "PULUMI_CONFIG_PASSPHRASE"],
    );
    repo.set("PULUMI_CONFIG_PASSPHRASE", "wrong");
    fails_with(
        &repo,
        &["--via-cli", "env", "--show-secrets"],
        &["the passphrase is wrong", "incorrect passphrase"],
    );

    repo.set("PULUMI_BACKEND_URL", "https://api.pulumi.com");
    fails_with(
        &repo,
        &["env"],
        &["not logged in", "PULUMI_ACCESS_TOKEN must be set"],
    );

    let mut repo = stack_repo();
    repo.write("empty/README", "no project here");
    repo.write(
        "stacks/dev.yaml",
        "stack: dev\nproject: empty\nenv:\n  A: instanceIp\n",
    );
    fails_with(
        &repo,
        &["--via-cli", "env"],
        &["no Pulumi project", "no Pulumi.yaml project file found"],
    );

    repo.write(
        "stacks/dev.yaml",
        "stack: dev\nproject: backend/app\nenv:\n  A: instanceIp\n",
    );
    fails_with(
        &repo,
        &["--via-cli", "--pulumi", "/nonexistent/pulumi", "env"],
        &["could not run `/nonexistent/pulumi", "install pulumi"],
    );

    repo.set("STANDIN_GARBAGE", "1");
    fails_with(
        &repo,
        &["--via-cli", "env"],
        &["printed output stackwire cannot read"],
    );
    repo.env.remove("STANDIN_GARBAGE");

    repo.set("STANDIN_EXIT", "255").set(
        "STANDIN_STDERR",
        "panic: runtime error: invalid memory address\ngoroutine 1 [running]:\n",
    );
    fails_with(
        &repo,
        &["--via-cli", "env"],
        &["(exit status: 255)", "panic: runtime error"],
    );
}

#[test]
fn a_hanging_pulumi_is_killed_at_the_timeout() {
    let mut repo = stack_repo();
    repo.set("STANDIN_HANG", "60")
        .set("STACKWIRE_PULUMI_TIMEOUT", "1");
    let start = Instant::now();
    let stderr = {
        let run = repo.run(&["--via-cli", "env"]).code(3);
        run.stderr
    };
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "took {:?}",
        start.elapsed()
    );
    assert!(
        stderr.contains("did not finish within 1 s and was killed"),
        "{stderr}"
    );
    assert!(stderr.contains("STACKWIRE_PULUMI_TIMEOUT"), "{stderr}");
    repo.set("STACKWIRE_PULUMI_TIMEOUT", "soon");
    let run = repo.run(&["--via-cli", "env"]).code(2);
    assert!(
        run.stderr
            .contains("STACKWIRE_PULUMI_TIMEOUT must be a number"),
        "{}",
        run.stderr
    );
}
