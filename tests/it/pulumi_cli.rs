//! The pulumi chokepoint: the argv and environment the real pulumi gets (seen by the spy), how
//! many processes run, each real pulumi failure classified from the real CLI's own stderr, and
//! the faults only the stand-in can produce on demand (a hang, garbage, a crash).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::contract::{PASSPHRASE, map, real_repo};
use crate::health::closed_port;
use crate::support::Repo;

/// A repository with a passphrase-encrypted DIY backend holding stack `app/dev` (built by
/// `mkstate.py`) and the stand-in pulumi on PATH, which can be told to fail on demand.
pub(crate) fn standin_repo() -> Repo {
    let mut repo = Repo::new();
    repo.with_standin();
    repo.mkstate(
        &json!({
            "project": "app",
            "stack": "dev",
            "passphrase": PASSPHRASE,
            "outputs": {"instanceIp": "203.0.113.10", "port": 8000, "token": {"$secret": "t0k"}},
        }),
        "backend",
    );
    repo.write(
        "stacks/dev.yaml",
        "stack: dev\nproject: backend/app\nenv:\n  IP: instanceIp\n  PORT: port\n",
    );
    let url = format!("file://{}", repo.path().join("backend").display());
    repo.set("PULUMI_BACKEND_URL", url)
        .set("PULUMI_CONFIG_PASSPHRASE", PASSPHRASE);
    repo
}

/// The contract stacks behind the spy: every pulumi run is logged, then is the real CLI.
fn spied_repo() -> Repo {
    let mut repo = real_repo();
    repo.with_pulumi_spy();
    repo
}

fn logged_env(repo: &Repo) -> Vec<Value> {
    std::fs::read_to_string(repo.path().join("standin.log"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["env"].clone())
        .collect()
}

#[test]
fn one_export_and_one_config_call_for_fifty_variables() {
    let repo = spied_repo();
    let mut env = String::new();
    for i in 0..50 {
        env.push_str(&match i % 5 {
            0 => format!("  V{i}: instanceIp\n"),
            1 => format!("  V{i}: cfgSecret\n"),
            2 => format!("  V{i}: list[{}]\n", i % 2),
            3 => format!("  V{i}: {{ template: \"{{{{ outputs.port }}}}-{i}\" }}\n"),
            _ => format!("  V{i}: {{ config: \"aws:region\" }}\n"),
        });
    }
    map(&repo, "dev", "infra/plain", "dev", &env);
    let run = repo
        .run(&["--via-cli", "env", "--format", "json", "--show-secrets"])
        .ok();
    let v = run.json();
    assert_eq!(v.as_object().unwrap().len(), 50);
    assert_eq!(v["V1"], "p@ss w0rd/$HOME");
    assert_eq!(v["V3"], "8000-3");
    assert_eq!(v["V4"], "us-east-1");
    let calls = repo.invocations();
    assert_eq!(calls.len(), 2, "{calls:?}");
    let export = calls
        .iter()
        .find(|a| a.windows(2).any(|w| w == ["stack", "export"]))
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

    // Without config mappings: the export alone, and nothing decrypted to print masked values.
    std::fs::remove_file(repo.path().join("standin.log")).unwrap();
    map(
        &repo,
        "dev",
        "infra/plain",
        "dev",
        "  A: instanceIp\n  B: cfgSecret\n",
    );
    let run = repo.run(&["--via-cli", "env"]).ok();
    assert_eq!(run.stdout, "A=203.0.113.10\nB='[secret]'\n");
    let calls = repo.invocations();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(
        !calls[0].contains(&"--show-secrets".to_owned()),
        "printing masked values decrypts nothing"
    );
}

#[test]
fn the_environment_pulumi_gets_is_scrubbed() {
    let mut repo = spied_repo();
    map(&repo, "dev", "infra/plain", "dev", "  A: instanceIp\n");
    // Each of these would change what the real CLI does: refresh, another stack, …
    repo.set("PULUMI_OPTION_REFRESH", "true")
        .set("PULUMI_OPTION_SHOW_SECRETS", "true")
        .set("PULUMI_STACK", "other");
    let run = repo.run(&["--via-cli", "outputs", "--json"]).ok();
    assert_eq!(
        run.json()["cfgSecret"],
        "[secret]",
        "the real CLI masked it"
    );
    let env = &logged_env(&repo)[0];
    assert_eq!(env["PULUMI_SKIP_UPDATE_CHECK"], "true");
    assert_eq!(env["NO_COLOR"], "1");
    for gone in [
        "PULUMI_OPTION_REFRESH",
        "PULUMI_OPTION_SHOW_SECRETS",
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

/// stackwire's run fails with `code`, shows every text in `expect`, and the `error:` lines the
/// real pulumi prints for the same command (`pulumi_args`, run in `dir`) word for word.
#[track_caller]
fn fails_like_pulumi(
    repo: &Repo,
    args: &[&str],
    code: i32,
    expect: &[&str],
    pulumi: Option<(&str, &[&str])>,
) -> String {
    let run = repo.run(args).code(code);
    for e in expect {
        assert!(run.stderr.contains(e), "expected {e:?} in:\n{}", run.stderr);
    }
    if let Some((dir, pulumi_args)) = pulumi {
        let theirs = repo.pulumi(dir, pulumi_args);
        assert_ne!(theirs.code, 0, "pulumi {pulumi_args:?} succeeded");
        let errors: Vec<&str> = theirs
            .stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect();
        assert!(!errors.is_empty(), "{}", theirs.stderr);
        for line in errors {
            assert!(
                run.stderr.contains(&format!("  {line}")),
                "pulumi's own {line:?} is not shown:\n{}",
                run.stderr
            );
        }
    }
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "nothing on stdout: {}", run.stdout);
    run.stderr
}

#[test]
fn real_failures_are_classified() {
    let mut repo = real_repo();
    // Stack not found: the command, the status, pulumi's error line, a hint; the user's input.
    map(&repo, "dev", "infra/plain", "nope", "  A: instanceIp\n");
    let stderr = fails_like_pulumi(
        &repo,
        &["--via-cli", "env"],
        2,
        &[
            "the stack does not exist",
            "stack export --stack nope",
            "(exit status: 6)",
            "hint: check `stack:`",
        ],
        Some(("infra/plain", &["stack", "export", "--stack", "nope"])),
    );
    assert!(
        stderr.contains(" -C "),
        "the command line is shown: {stderr}"
    );
    // Read directly: the same exit status.
    let run = repo.run(&["env"]).code(2);
    assert!(
        run.stderr.contains("no stack named 'nope' found"),
        "{}",
        run.stderr
    );

    // No Pulumi.yaml in the project folder.
    repo.write("empty/README", "no project here");
    map(&repo, "dev", "empty", "dev", "  A: instanceIp\n");
    fails_like_pulumi(
        &repo,
        &["--via-cli", "env"],
        2,
        &["no Pulumi project", "hint: set `project:`"],
        Some(("empty", &["stack", "export", "--stack", "dev"])),
    );

    // Passphrase missing, then wrong, for the state and for the stack's config.
    map(
        &repo,
        "dev",
        "infra/plain",
        "dev",
        "  A: cfgSecret\n  B: { config: dbPassword }\n",
    );
    repo.env.remove("PULUMI_CONFIG_PASSPHRASE");
    let export = ["stack", "export", "--show-secrets", "--stack", "dev"];
    fails_like_pulumi(
        &repo,
        &["--via-cli", "env", "--show-secrets"],
        2,
        &[
            "the passphrase is not set",
            "hint: set PULUMI_CONFIG_PASSPHRASE or",
        ],
        Some(("infra/plain", &export)),
    );
    repo.set("PULUMI_CONFIG_PASSPHRASE", "wrong");
    fails_like_pulumi(
        &repo,
        &["--via-cli", "env", "--show-secrets"],
        2,
        &[
            "the passphrase is wrong",
            "hint: set PULUMI_CONFIG_PASSPHRASE (or",
        ],
        Some(("infra/plain", &export)),
    );

    // No stack selected: the spy drops `--stack` so that the real CLI meets a command without
    // one (stackwire always names it).
    let mut repo = spied_repo();
    repo.set("PULUMI_SPY_DROP_STACK", "1");
    map(&repo, "dev", "infra/plain", "dev", "  A: instanceIp\n");
    fails_like_pulumi(
        &repo,
        &["--via-cli", "env"],
        2,
        &["no stack selected", "hint: set `stack:`"],
        Some(("infra/plain", &["stack", "export"])),
    );
}

#[test]
fn real_backend_failures_are_external() {
    let mut repo = real_repo();
    map(&repo, "dev", "infra/plain", "dev", "  A: instanceIp\n");
    // A self-hosted Pulumi Cloud URL without a token: not logged in.
    let url = format!("http://127.0.0.1:{}", closed_port());
    repo.set("PULUMI_BACKEND_URL", &url);
    fails_like_pulumi(
        &repo,
        &["env"],
        3,
        &["not logged in", "hint: set PULUMI_ACCESS_TOKEN"],
        Some(("infra/plain", &["stack", "export", "--stack", "dev"])),
    );
    // With a token, nothing answers there (pulumi retries for a few seconds).
    repo.set(
        "PULUMI_ACCESS_TOKEN",
        "pul-0000000000000000000000000000000000000000",
    );
    let stderr = fails_like_pulumi(
        &repo,
        &["env"],
        3,
        &[
            "cannot reach the backend",
            "connection refused",
            "hint: check the backend URL",
        ],
        None,
    );
    assert!(
        !stderr.contains("pul-0000"),
        "the token is not shown: {stderr}"
    );
    // A file:// backend folder that does not exist, through the binary.
    repo.env.remove("PULUMI_ACCESS_TOKEN");
    repo.set("PULUMI_BACKEND_URL", "file:///nonexistent/backend");
    fails_like_pulumi(
        &repo,
        &["--via-cli", "env"],
        3,
        &["cannot reach the backend"],
        Some(("infra/plain", &["stack", "export", "--stack", "dev"])),
    );
    // No pulumi binary at all.
    fails_like_pulumi(
        &repo,
        &["--via-cli", "--pulumi", "/nonexistent/pulumi", "env"],
        3,
        &["could not run `/nonexistent/pulumi", "install pulumi"],
        None,
    );
}

#[test]
fn faults_only_the_stand_in_can_make() {
    let mut repo = standin_repo();
    repo.set("STANDIN_GARBAGE", "1");
    fails_like_pulumi(
        &repo,
        &["--via-cli", "env"],
        3,
        &["printed output stackwire cannot read"],
        None,
    );
    repo.env.remove("STANDIN_GARBAGE");

    repo.set("STANDIN_EXIT", "255").set(
        "STANDIN_STDERR",
        "panic: runtime error: invalid memory address\ngoroutine 1 [running]:\n",
    );
    fails_like_pulumi(
        &repo,
        &["--via-cli", "env"],
        3,
        &["(exit status: 255)", "panic: runtime error"],
        None,
    );
}

#[test]
fn a_hanging_pulumi_is_killed_at_the_timeout() {
    let mut repo = standin_repo();
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
