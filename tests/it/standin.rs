//! The stand-in pulumi (`tests/pulumi-stand-in/pulumi`) against the real CLI: on the stacks the
//! real CLI made, every read command and failure the stand-in serves gives the same exit code,
//! stdout and stderr. The stand-in stays for what the real CLI cannot be made to do on demand
//! (garbage, injected exit codes, hangs); this keeps the rest of it honest.

use std::process::{Command, Stdio};

use crate::contract::real_repo;
use crate::support::{Repo, pulumi_bin, standin};

/// `(code, stdout, stderr)` of `program` run in `dir` with the repository's environment.
fn run(
    repo: &Repo,
    program: &std::path::Path,
    dir: &str,
    args: &[&str],
    unset: &[&str],
) -> (i32, String, String) {
    let mut cmd = Command::new(program);
    cmd.args(["--non-interactive", "--color", "never"])
        .args(args)
        .current_dir(repo.path().join(dir))
        .env_clear()
        .envs(&repo.env)
        .stdin(Stdio::null());
    for name in unset {
        cmd.env_remove(name);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_stand_in_answers_as_the_real_cli_does() {
    let mut repo = real_repo();
    // The stand-in is a Python script: the venv's python3 (scripts/test puts it first on PATH).
    repo.write("empty/README", "no project here");
    repo.pulumi_ok("infra/plain", &["stack", "init", "fresh"]);
    repo.pulumi_ok("infra/unicode", &["stack", "select", "dev"]);
    let mut cases: Vec<(&str, Vec<&str>, Vec<&str>)> = Vec::new();
    for dir in ["infra/plain", "infra/deep", "infra/unicode", "infra/empty"] {
        let all = dir.ends_with("plain") || dir.ends_with("deep");
        for args in [
            "stack ls --json",
            "stack ls --json --all",
            "stack output --json --stack dev",
            "stack output --json --show-secrets --stack dev",
            "stack output --stack dev",
            "stack output --shell --show-secrets --stack dev",
            "stack export --stack dev",
            "stack export --show-secrets --stack dev",
            "config --json --show-secrets --stack dev",
            "stack export",
            "config --json",
        ]
        .into_iter()
        .filter(|a| all || a.contains("output") || a.contains("export --show"))
        {
            cases.push((dir, args.split(' ').collect(), vec![]));
        }
    }
    let plain = "infra/plain";
    for args in [
        "config get dbPassword --stack dev",
        "config get db --json --stack dev",
        "config get aws:region --stack dev",
        "config get nope --stack dev",
        "stack output instanceIp --stack dev",
        "stack output nope --stack dev",
        "stack output --json --shell --stack dev",
        "stack export --stack nope",
        "stack export --stack organization/plain/dev",
        "stack export --show-secrets --stack fresh",
        "stack ls --json --bogus",
        "stak",
        "stack bogus",
        "version",
    ] {
        cases.push((plain, args.split(' ').collect(), vec![]));
    }
    cases.push((
        plain,
        vec!["up", "--stack", "dev"],
        vec!["PULUMI_SKIP_CONFIRMATIONS"],
    ));
    cases.push(("empty", vec!["stack", "export", "--stack", "dev"], vec![]));
    cases.push(("empty", vec!["config", "--json", "--stack", "dev"], vec![]));
    let show = vec!["stack", "export", "--show-secrets", "--stack", "dev"];
    let config = vec!["config", "--json", "--show-secrets", "--stack", "dev"];
    cases.push((plain, show.clone(), vec!["PULUMI_CONFIG_PASSPHRASE"]));
    cases.push((plain, config.clone(), vec!["PULUMI_CONFIG_PASSPHRASE"]));

    let mut differ = Vec::new();
    let mut compare = |repo: &Repo, dir: &str, args: &[&str], unset: &[&str]| {
        let real = run(repo, &pulumi_bin(), dir, args, unset);
        let ours = run(repo, &standin(), dir, args, unset);
        if real != ours {
            differ.push(format!(
                "{dir}: pulumi {}\n  real: {real:?}\n  stand-in: {ours:?}",
                args.join(" ")
            ));
        }
    };
    for (dir, args, unset) in &cases {
        compare(&repo, dir, args, unset);
    }
    // A wrong passphrase; a backend folder that does not exist.
    repo.set("PULUMI_CONFIG_PASSPHRASE", "wrong");
    compare(&repo, plain, &show, &[]);
    compare(&repo, plain, &config, &[]);
    repo.set("PULUMI_BACKEND_URL", "file:///nonexistent/backend");
    compare(&repo, plain, &["stack", "ls", "--json"], &[]);
    assert!(
        differ.is_empty(),
        "{} of {} differ:\n{}",
        differ.len(),
        cases.len() + 3,
        differ.join("\n")
    );
}
