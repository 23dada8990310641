//! `stackwire deploy` with the stand-in pulumi: `up` streamed, the outputs read again after
//! it, render → sync → health in order, nothing after a failed step, timeouts, interrupts,
//! invalid input stopping before pulumi starts, the summary (stderr and `$GITHUB_STEP_SUMMARY`)
//! and the exit codes.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::contract::stack_repo;
use crate::health::{Server, closed_port};
use crate::support::Repo;

/// The secret output `up` creates.
const TOKEN: &str = "tok-DEPLOY-CANARY-93d";

/// A deploy repository: `up` rewrites the stack's outputs to point at `port` on loopback.
fn deploy_repo(port: u16, extra_mapping: &str) -> Repo {
    let mut repo = stack_repo();
    repo.standin_log();
    repo.write(
        "stacks/dev.yaml",
        &format!(
            r#"stack: dev
project: backend/app
env:
  HOST: instanceIp
  PORT: port
  TOKEN: token
files:
  - path: out/.env.deploy
health:
  - name: api
    http: "http://{{{{ env.HOST }}}}:{{{{ env.PORT }}}}/health?token={{{{ env.TOKEN }}}}"
    timeout: 2s
    retries: 0
  - name: rendered
    command: ["sh", "-c", "grep -qx 'HOST=127.0.0.1' out/.env.deploy"]
    retries: 0
{extra_mapping}"#
        ),
    );
    let outputs = json!({"instanceIp": "127.0.0.1", "port": port, "token": {"$secret": TOKEN}});
    repo.set("STANDIN_UP_OUTPUTS", outputs.to_string())
        .set("STANDIN_UP_LINES", "2");
    repo
}

/// The summary line of `step` on stderr: `  <step>  <result> …`.
#[track_caller]
fn step_line<'a>(stderr: &'a str, step: &str) -> &'a str {
    let summary = &stderr[stderr.rfind("summary (stack dev").expect("a summary")..];
    summary
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{step} ")))
        .unwrap_or_else(|| panic!("no {step} in the summary:\n{summary}"))
}

#[track_caller]
fn assert_step(stderr: &str, step: &str, result: &str) {
    let line = step_line(stderr, step);
    let words: Vec<&str> = line.split_whitespace().collect();
    let name_words = step.split_whitespace().count();
    assert_eq!(words.get(name_words), Some(&result), "{line}");
}

fn logged(repo: &Repo) -> Vec<Value> {
    std::fs::read_to_string(repo.path().join("standin.log"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn verbs(repo: &Repo) -> Vec<String> {
    repo.invocations()
        .iter()
        .filter_map(|argv| {
            ["up", "preview", "stack", "config"]
                .into_iter()
                .find(|v| argv.iter().any(|a| a == v))
                .map(str::to_owned)
        })
        .collect()
}

#[track_caller]
fn assert_no_token(texts: &[&str]) {
    for t in texts {
        assert!(!t.contains(TOKEN), "the token leaked:\n{t}");
    }
}

#[test]
fn up_then_render_sync_health_in_order_with_extra_args_unchanged() {
    let server = Server::healthy(Duration::ZERO);
    let repo = deploy_repo(server.port, "");
    let run = repo
        .run(&[
            "deploy",
            "--",
            "--refresh",
            "--message",
            "ship it: \"v2\" $HOME",
            "-p",
            "2",
        ])
        .ok();

    // One pulumi call, the update, with the user's arguments last and unchanged.
    let calls = repo.invocations();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let argv = &calls[0];
    let up = argv.iter().position(|a| a == "up").expect("an up");
    assert_eq!(
        &argv[up..],
        [
            "up",
            "--yes",
            "--skip-preview",
            "--stack",
            "dev",
            "--refresh",
            "--message",
            "ship it: \"v2\" $HOME",
            "-p",
            "2"
        ]
    );
    for flag in ["--non-interactive", "--color", "-C"] {
        assert!(argv.iter().any(|a| a == flag), "{flag} in {argv:?}");
    }
    assert!(!argv.iter().any(|a| a == "--show-secrets"), "{argv:?}");
    // The passphrase reaches `up` (it decrypts).
    assert_eq!(logged(&repo)[0]["env"]["PULUMI_CONFIG_PASSPHRASE"], "<set>");

    // Pulumi's output, then the render, then the summary, in that order on stderr.
    let e = &run.stderr;
    let updating = e.find("Updating (dev):").expect("pulumi's output");
    let wrote = e.find("wrote out/.env.deploy").expect("render");
    let summary = e.find("summary (stack dev").expect("summary");
    assert!(updating < wrote && wrote < summary, "{e}");
    assert!(e.contains(" +  standin:index:Resource res-1"), "{e}");

    // The outputs were read again after `up`: the new address and the secret token.
    let env_file = repo.read("out/.env.deploy");
    assert!(env_file.contains("HOST=127.0.0.1\n"), "{env_file}");
    assert!(
        env_file.contains(&format!("PORT={}\n", server.port)),
        "{env_file}"
    );
    assert!(env_file.contains(TOKEN), "{env_file}");
    // Health ran last: the `rendered` check needs the file, `api` reached the server.
    assert_eq!(server.paths(), [format!("/health?token={TOKEN}")]);
    assert!(run.stdout.contains("rendered") && run.stdout.contains("ok: exit status 0"));

    for (step, result) in [
        ("pulumi up", "ok"),
        ("outputs", "ok"),
        ("render", "ok"),
        ("sync", "skipped"),
        ("health", "ok"),
    ] {
        assert_step(e, step, result);
    }
    assert!(step_line(e, "sync").contains("no `github:` targets"));
    assert!(e.trim_end().ends_with("deploy succeeded"), "{e}");
    assert_no_token(&[&run.stdout, &run.stderr]);
}

#[test]
fn up_output_is_streamed_while_it_runs() {
    let mut repo = deploy_repo(closed_port(), "");
    repo.set("STANDIN_UP_LINES", "3")
        .set("STANDIN_UP_DELAY", "0.4");
    let mut child = Command::new(env!("CARGO_BIN_EXE_stackwire"))
        .args(["deploy", "--skip-health"])
        .current_dir(repo.path())
        .env_clear()
        .envs(&repo.env)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut first_at = None;
    let mut last_at = None;
    let mut all = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.contains("Resource res-0") {
            // pulumi has two more lines to print, 0.4 s apart: it is still running.
            assert!(
                child.try_wait().unwrap().is_none(),
                "stackwire already ended"
            );
            first_at = Some(Instant::now());
        }
        if line.contains("Resource res-2") {
            last_at = Some(Instant::now());
        }
        all.push_str(&line);
        all.push('\n');
    }
    assert!(child.wait().unwrap().success(), "{all}");
    let (first, last) = (first_at.expect("res-0"), last_at.expect("res-2"));
    assert!(
        last - first >= Duration::from_millis(600),
        "lines arrived together, not as printed: {:?}\n{all}",
        last - first
    );
    assert_step(&all, "health", "skipped");
}

#[test]
fn a_failed_up_stops_everything_after_it() {
    let server = Server::healthy(Duration::ZERO);
    let mut repo = deploy_repo(server.port, "");
    repo.set("STANDIN_FAULT_ON", "up").set("STANDIN_EXIT", "1").set(
        "STANDIN_STDERR",
        "Updating (dev):\nerror: update failed\nerror: res-1: creating instance: quota exceeded\n",
    );
    let run = repo.run(&["deploy"]).code(3);
    let e = &run.stderr;
    assert!(
        e.contains("error: res-1: creating instance: quota exceeded"),
        "{e}"
    );
    assert!(
        e.contains("(exit status: 1)"),
        "the failure is explained: {e}"
    );
    assert_step(e, "pulumi up", "failed");
    for step in ["outputs", "render", "sync", "health"] {
        assert_step(e, step, "skipped");
        assert!(step_line(e, step).contains("an earlier step failed"));
    }
    assert!(
        e.trim_end()
            .ends_with("deploy failed at pulumi up (exit 3)"),
        "{e}"
    );
    assert!(
        !repo.path().join("out/.env.deploy").exists(),
        "nothing rendered"
    );
    assert_eq!(server.hits(), 0, "no health check ran");
    assert_eq!(verbs(&repo), ["up"]);
}

#[test]
fn a_hanging_up_is_killed_with_its_group_at_the_timeout() {
    let mut repo = deploy_repo(closed_port(), "");
    let pidfile = repo.path().join("pulumi.pid");
    repo.set("STANDIN_FAULT_ON", "up")
        .set("STANDIN_HANG", "60")
        .set("STANDIN_PIDFILE", pidfile.clone())
        .set("STACKWIRE_PULUMI_TIMEOUT", "1");
    let start = Instant::now();
    let run = repo.run(&["deploy"]).code(3);
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    assert!(
        run.stderr
            .contains("did not finish within 1 s and was killed"),
        "{}",
        run.stderr
    );
    assert_step(&run.stderr, "pulumi up", "failed");
    assert_step(&run.stderr, "render", "skipped");
    assert!(!repo.path().join("out/.env.deploy").exists());
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    let proc_dir = std::path::Path::new("/proc").join(pid.trim());
    assert!(
        !proc_dir.exists(),
        "pulumi (pid {}) is still running",
        pid.trim()
    );
}

#[test]
fn preview_runs_nothing_after_it() {
    let server = Server::healthy(Duration::ZERO);
    let repo = deploy_repo(server.port, "");
    let run = repo.run(&["deploy", "--preview", "--", "--diff"]).ok();
    let calls = repo.invocations();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let at = calls[0].iter().position(|a| a == "preview").unwrap();
    assert_eq!(&calls[0][at..], ["preview", "--stack", "dev", "--diff"]);
    assert!(
        run.stderr.contains("Previewing update (dev):"),
        "{}",
        run.stderr
    );
    assert_step(&run.stderr, "pulumi preview", "ok");
    for step in ["outputs", "render", "sync", "health"] {
        assert_step(&run.stderr, step, "skipped");
        assert!(step_line(&run.stderr, step).contains("--preview"));
    }
    assert!(!repo.path().join("out/.env.deploy").exists());
    assert_eq!(server.hits(), 0);
}

#[test]
fn invalid_input_stops_before_pulumi_starts() {
    let port = closed_port();
    // A health check reading a variable the mapping does not define.
    let repo = deploy_repo(
        port,
        "  - name: gpu\n    http: \"http://{{ env.LAMBDA_LABS_INSTANCE_IP }}:8000/health\"\n",
    );
    let run = repo.run(&["deploy"]).code(2);
    assert!(
        run.stderr.contains("health check `gpu`") && run.stderr.contains("LAMBDA_LABS_INSTANCE_IP"),
        "{}",
        run.stderr
    );
    assert!(repo.invocations().is_empty(), "pulumi was started");

    // A file template that does not parse, or reads an undefined variable.
    let repo = deploy_repo(port, "");
    let mapping = repo.read("stacks/dev.yaml").replace(
        "  - path: out/.env.deploy\n",
        "  - path: out/.env.deploy\n  - path: out/app.yaml\n    template: templates/app.yaml.tera\n",
    );
    repo.write("stacks/dev.yaml", &mapping);
    repo.write("templates/app.yaml.tera", "host: {{ env.HOST }\n");
    let run = repo.run(&["deploy"]).code(2);
    assert!(run.stderr.contains("invalid template"), "{}", run.stderr);
    repo.write("templates/app.yaml.tera", "host: {{ env.INSTANCE_IP }}\n");
    let run = repo.run(&["deploy"]).code(2);
    assert!(run.stderr.contains("env.INSTANCE_IP"), "{}", run.stderr);
    std::fs::remove_file(repo.path().join("templates/app.yaml.tera")).unwrap();
    let run = repo.run(&["deploy"]).code(2);
    assert!(
        run.stderr.contains("cannot read the template"),
        "{}",
        run.stderr
    );
    assert!(repo.invocations().is_empty(), "pulumi was started");

    // Arguments that would deploy another stack than the one read afterwards.
    let mut repo = deploy_repo(port, "");
    let run = repo.run(&["deploy", "--", "--stack", "prod"]).code(2);
    assert!(
        run.stderr.contains("`--stack` cannot be passed"),
        "{}",
        run.stderr
    );
    // A timeout that is not a number; a state file instead of pulumi.
    repo.set("STACKWIRE_PULUMI_TIMEOUT", "soon");
    repo.run(&["deploy"]).code(2);
    repo.env.remove("STACKWIRE_PULUMI_TIMEOUT");
    repo.write("state.json", "{}");
    let run = repo.run(&["--state", "state.json", "deploy"]).code(2);
    assert!(run.stderr.contains("state file"), "{}", run.stderr);
    assert!(repo.invocations().is_empty(), "pulumi was started");
}

#[test]
fn unhealthy_after_deploy_exits_1_with_a_ci_summary() {
    let server = Server::start(|_| (Duration::ZERO, 503));
    let mut repo = deploy_repo(server.port, "github:\n  repo: acme/app\n");
    let summary_file = repo.path().join("step-summary.md");
    std::fs::write(&summary_file, "earlier step\n").unwrap();
    repo.set("GITHUB_ACTIONS", "true")
        .set("GITHUB_STEP_SUMMARY", summary_file.clone());
    let run = repo.run(&["deploy", "--skip-sync"]).code(1);
    let e = &run.stderr;

    // pulumi's output is folded into a group, with workflow commands off inside it.
    let group = e.find("::group::pulumi up").expect("a group");
    let stop = e.find("::stop-commands::").expect("commands stopped");
    let token_at = stop + "::stop-commands::".len();
    let token = &e[token_at..token_at + e[token_at..].find('\n').unwrap()];
    let output = e.find("Updating (dev):").unwrap();
    let resume = e.find(&format!("::{token}::")).expect("commands resumed");
    let end = e.find("::endgroup::").expect("group closed");
    assert!(
        group < stop && stop < output && output < resume && resume < end,
        "{e}"
    );

    assert_step(e, "sync", "skipped");
    assert!(step_line(e, "sync").contains("--skip-sync"));
    assert_step(e, "health", "failed");
    assert!(step_line(e, "health").contains("1 of 2 checks unhealthy: api"));
    assert!(
        e.trim_end().ends_with("deploy failed at health (exit 1)"),
        "{e}"
    );
    assert!(
        run.stdout
            .contains("FAILED: 503 Service Unavailable, expected 2xx")
    );

    let md = std::fs::read_to_string(&summary_file).unwrap();
    assert!(
        md.starts_with("earlier step\n### stackwire deploy: stack `dev` failed (exit 1)"),
        "{md}"
    );
    for row in [
        "| pulumi up | ok |",
        "| render | ok |",
        "| sync | skipped |  | --skip-sync |",
        "| health | failed |",
        "#### Health checks",
        "token=[secret]",
    ] {
        assert!(md.contains(row), "{row:?} missing:\n{md}");
    }
    assert_no_token(&[&run.stdout, &run.stderr, &md]);
}

#[test]
fn an_interrupt_is_passed_on_to_pulumi_and_ends_the_deploy() {
    let mut repo = deploy_repo(closed_port(), "");
    repo.set("STANDIN_UP_LINES", "30")
        .set("STANDIN_UP_DELAY", "0.2");
    let mut child = Command::new(env!("CARGO_BIN_EXE_stackwire"))
        .arg("deploy")
        .current_dir(repo.path())
        .env_clear()
        .envs(&repo.env)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut all = String::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.contains("Resource res-0") {
            let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap();
            rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
        }
        all.push_str(&line);
        all.push('\n');
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(3), "{all}");
    assert!(all.contains("interrupted"), "{all}");
    assert!(
        !all.contains("Resource res-29"),
        "pulumi ran to the end:\n{all}"
    );
    assert_step(&all, "pulumi up", "failed");
    assert_step(&all, "render", "skipped");
    assert!(!repo.path().join("out/.env.deploy").exists());
}

#[test]
fn the_makefile_fragment_runs_deploy_preview_and_health() {
    if Command::new("make").arg("--version").output().is_err() {
        return; // no make on this machine: nothing to check
    }
    let server = Server::healthy(Duration::ZERO);
    let repo = deploy_repo(server.port, "");
    let make = |args: &[&str]| {
        let out = Command::new("make")
            .arg("-f")
            .arg(crate::support::manifest_dir().join("scripts/stackwire.mk"))
            .arg(format!("STACKWIRE={}", env!("CARGO_BIN_EXE_stackwire")))
            .arg("STACK=dev")
            .args(args)
            .current_dir(repo.path())
            .env_clear()
            .envs(&repo.env)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, _, stderr) = make(&["preview", "PULUMI_ARGS=--message \"two words\" --diff"]);
    assert_eq!(code, Some(0), "{stderr}");
    let (code, _, stderr) = make(&["deploy", "DEPLOY_FLAGS=--skip-health"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_step(&stderr, "health", "skipped");
    let calls = repo.invocations();
    let tail = |argv: &[String], verb: &str| -> Vec<String> {
        argv[argv.iter().position(|a| a == verb).unwrap()..].to_vec()
    };
    assert_eq!(
        tail(&calls[0], "preview"),
        [
            "preview",
            "--stack",
            "dev",
            "--message",
            "two words",
            "--diff"
        ]
    );
    assert_eq!(
        tail(&calls[1], "up"),
        ["up", "--yes", "--skip-preview", "--stack", "dev"]
    );
    let (code, stdout, stderr) = make(&["health", "HEALTH_FLAGS=--json"]);
    assert_eq!(code, Some(0), "{stderr}");
    let json_start = stdout.find('{').expect("JSON on stdout");
    let report: Value = serde_json::from_str(&stdout[json_start..]).unwrap();
    assert_eq!(report["healthy"], true, "{report}");
    assert_eq!(server.hits(), 1);
}
