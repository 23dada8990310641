//! `stackwire deploy` over the real pulumi CLI: a real `pulumi up` of a Pulumi YAML program,
//! streamed; the outputs read again after it; render → sync → health in order; nothing after a
//! failed step; `--preview` changing nothing; extra arguments reaching the CLI unchanged;
//! timeouts and interrupts during a real update (held open by a program that reads a FIFO);
//! invalid input stopping before pulumi starts; the summary and the exit codes.

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::health::{Server, closed_port};
use crate::support::{Repo, yaml_program};

/// The secret the stack's config holds and `up` puts into an output.
const TOKEN: &str = "tok-DEPLOY-CANARY-93d";
const PASSPHRASE: &str = "deploy passphrase";

/// The program: an address on loopback, a port and a secret token from the stack's config.
const PROGRAM: &str = r#"config:
  port: {type: integer}
  token: {type: string, secret: true}
outputs:
  instanceIp: 127.0.0.1
  port: ${port}
  token: ${token}
"#;

/// The mapping, with a health check that reaches the server through the rendered values.
fn mapping(extra: &str) -> String {
    format!(
        r#"stack: dev
project: infra
env:
  HOST: instanceIp
  PORT: port
  TOKEN: token
  REGION: {{ output: region, required: false }}
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
{extra}"#
    )
}

/// A repository with the project `infra/` (stack `dev` created, its config set, never
/// deployed), the real pulumi behind the spy, and the mapping.
fn deploy_repo(port: u16, extra_mapping: &str) -> Repo {
    let mut repo = Repo::new();
    repo.with_pulumi_spy().with_diy_backend(PASSPHRASE);
    repo.write("infra/Pulumi.yaml", &yaml_program("app", PROGRAM));
    repo.pulumi_ok("infra", &["stack", "init", "dev"]);
    let port = port.to_string();
    repo.set_config(
        "infra",
        "dev",
        &[("port", &port, false), ("token", TOKEN, true)],
    );
    repo.write("stacks/dev.yaml", &mapping(extra_mapping));
    // What the test itself ran is not stackwire's doing.
    let _ = std::fs::remove_file(repo.path().join("standin.log"));
    repo
}

/// `PROGRAM` plus an output read from the FIFO `infra/gate`: `pulumi up` blocks in the middle
/// of the update until something is written to it.
fn gated(repo: &Repo) -> PathBuf {
    let gate = repo.path().join("infra/gate");
    let ok = Command::new("mkfifo").arg(&gate).status().unwrap();
    assert!(ok.success());
    repo.write(
        "infra/Pulumi.yaml",
        &yaml_program(
            "app",
            &format!("{PROGRAM}  gate:\n    fn::readFile: ./gate\n"),
        ),
    );
    gate
}

/// Open the gate: write `text` into the FIFO, which the program is reading.
fn open_gate(gate: &PathBuf, text: &str) {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    // O_NONBLOCK: fail at once (ENXIO) rather than hang when no reader is there.
    const O_NONBLOCK: i32 = 0o4000;
    let mut fifo = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(O_NONBLOCK)
        .open(gate)
        .expect("the program is reading the gate");
    fifo.write_all(text.as_bytes()).unwrap();
}

/// stackwire started in `repo` with `args`, its stderr piped.
fn spawn(repo: &Repo, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_stackwire"))
        .args(args)
        .current_dir(repo.path())
        .env_clear()
        .envs(&repo.env)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
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

/// The verbs of the pulumi runs stackwire made, in order.
fn verbs(repo: &Repo) -> Vec<String> {
    repo.invocations()
        .iter()
        .filter_map(|argv| {
            ["up", "preview", "export", "config"]
                .into_iter()
                .find(|v| argv.iter().any(|a| a == v))
                .map(str::to_owned)
        })
        .collect()
}

/// The latest update in the stack's history, as the real CLI recorded it.
fn last_update(repo: &Repo) -> Value {
    let text = repo.pulumi_ok("infra", &["stack", "history", "--json", "--stack", "dev"]);
    let history: Value = serde_json::from_str(&text).unwrap();
    history[0].clone()
}

#[track_caller]
fn assert_no_token(texts: &[&str]) {
    for t in texts {
        assert!(!t.contains(TOKEN), "the token leaked:\n{t}");
    }
}

#[test]
fn a_real_up_then_render_sync_health_and_a_changed_program_is_picked_up() {
    let server = Server::healthy(Duration::ZERO);
    let repo = deploy_repo(server.port, "");
    let message = "ship it: \"v2\" $HOME";
    let run = repo
        .run(&["deploy", "--", "--refresh", "--message", message, "-p", "2"])
        .ok();

    // One update; its outputs are then read from the DIY backend directly (no second run).
    assert_eq!(verbs(&repo), ["up"]);
    let argv = &repo.invocations()[0];
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
            message,
            "-p",
            "2"
        ]
    );
    assert!(!argv.iter().any(|a| a == "--show-secrets"), "{argv:?}");
    // The real CLI got them: its history has the message and the flags.
    let update = last_update(&repo);
    assert_eq!(update["message"], message);
    assert_eq!(update["result"], "succeeded");
    for flag in ["refresh", "parallel", "message"] {
        assert_eq!(
            update["environment"][format!("pulumi.flag.{flag}")],
            "set",
            "{update}"
        );
    }

    // pulumi's own output, then the render, then the summary, in that order on stderr.
    let e = &run.stderr;
    let updating = e.find("Updating (dev):").expect("pulumi's output");
    let created = e
        .find("pulumi:pulumi:Stack app-dev created")
        .expect("pulumi's resource lines");
    let wrote = e.find("wrote out/.env.deploy").expect("render");
    let summary = e.find("summary (stack dev").expect("summary");
    assert!(
        updating < created && created < wrote && wrote < summary,
        "{e}"
    );

    // The outputs were read again after `up`: the address, the port and the secret token.
    let env_file = repo.read("out/.env.deploy");
    assert!(env_file.contains("HOST=127.0.0.1\n"), "{env_file}");
    assert!(
        env_file.contains(&format!("PORT={}\n", server.port)),
        "{env_file}"
    );
    assert!(env_file.contains(&format!("TOKEN={TOKEN}\n")), "{env_file}");
    assert!(!env_file.contains("REGION"), "{env_file}");
    // Health ran last: `rendered` needs the file, `api` reached the server with the token.
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

    // Change the program (a new output) and the secret: the next deploy renders both.
    let program = format!("{PROGRAM}  region: eu-west-1\n");
    repo.write("infra/Pulumi.yaml", &yaml_program("app", &program));
    repo.set_config("infra", "dev", &[("token", "tok-ROTATED", true)]);
    let run = repo.run(&["deploy"]).ok();
    assert!(
        run.stderr.contains("+ region    : \"eu-west-1\""),
        "{}",
        run.stderr
    );
    let env_file = repo.read("out/.env.deploy");
    assert!(env_file.contains("TOKEN=tok-ROTATED\n"), "{env_file}");
    assert!(env_file.contains("REGION=eu-west-1\n"), "{env_file}");
    assert_eq!(server.paths()[1], "/health?token=tok-ROTATED");
}

#[test]
fn up_output_is_streamed_while_the_real_update_runs() {
    let repo = deploy_repo(closed_port(), "");
    let gate = gated(&repo);
    let mut child = spawn(&repo, &["deploy", "--skip-health"]);
    let mut all = String::new();
    let mut opened = false;
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.contains("Updating (dev):") && !opened {
            // pulumi said so while the program is still waiting on the gate: it was streamed.
            assert!(
                child.try_wait().unwrap().is_none(),
                "stackwire already ended"
            );
            std::thread::sleep(Duration::from_millis(300));
            assert!(
                child.try_wait().unwrap().is_none(),
                "the update did not wait"
            );
            open_gate(&gate, "opened");
            opened = true;
        }
        all.push_str(&line);
        all.push('\n');
    }
    assert!(child.wait().unwrap().success(), "{all}");
    assert!(opened, "{all}");
    assert_step(&all, "health", "skipped");
    let outputs = repo.pulumi_ok("infra", &["stack", "output", "gate", "--stack", "dev"]);
    assert_eq!(outputs, "opened\n");
}

#[test]
fn a_failed_real_up_stops_everything_after_it() {
    let server = Server::healthy(Duration::ZERO);
    let repo = deploy_repo(server.port, "");
    // A program the YAML host rejects: the real update fails with its own diagnostics.
    let broken = format!("{PROGRAM}  broken: ${{nowhere.result}}\n");
    repo.write("infra/Pulumi.yaml", &yaml_program("app", &broken));
    let run = repo.run(&["deploy"]).code(3);
    let e = &run.stderr;
    assert!(e.contains("nowhere"), "pulumi's diagnostics are shown: {e}");
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
fn a_real_up_that_hangs_is_interrupted_at_the_timeout_and_stops_with_its_plugins() {
    let mut repo = deploy_repo(closed_port(), "");
    let _gate = gated(&repo);
    repo.set("STACKWIRE_PULUMI_TIMEOUT", "3");
    let start = Instant::now();
    let run = repo.run(&["deploy"]).code(3);
    assert!(
        start.elapsed() < Duration::from_secs(40),
        "{:?}",
        start.elapsed()
    );
    // Interrupted as Ctrl-C would, the real CLI cancels the update and exits by itself.
    assert!(
        run.stderr
            .contains("did not finish within 3 s and was interrupted; pulumi cancelled and exited"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("error: update canceled"),
        "{}",
        run.stderr
    );
    assert_step(&run.stderr, "pulumi up", "failed");
    assert_step(&run.stderr, "render", "skipped");
    assert!(!repo.path().join("out/.env.deploy").exists());
    // pulumi (the spy became it: same pid) is gone, and so is its YAML language host, which
    // runs in a process group of its own and was still reading the gate.
    let calls = std::fs::read_to_string(repo.path().join("standin.log")).unwrap();
    assert_eq!(calls.lines().count(), 1, "{calls}");
    let log: Value = serde_json::from_str(calls.lines().next().unwrap()).unwrap();
    let proc_dir = std::path::Path::new("/proc").join(log["pid"].to_string());
    assert!(
        !proc_dir.exists(),
        "pulumi ({}) is still running",
        log["pid"]
    );
    assert!(
        !pgrep("pulumi-language-yaml", repo.path()),
        "the YAML language host of this repository survived"
    );
    // Its lock is released: the next update needs no `pulumi cancel`.
    repo.pulumi_ok("infra", &["stack", "export", "--stack", "dev"]);
}

/// Whether a process whose command line mentions `what` runs with its cwd under `dir`.
fn pgrep(what: &str, dir: &std::path::Path) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|entry| {
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cwd = std::fs::read_link(entry.path().join("cwd")).unwrap_or_default();
        String::from_utf8_lossy(&cmdline).contains(what) && cwd.starts_with(dir)
    })
}

#[test]
fn preview_runs_a_real_preview_and_changes_nothing() {
    let server = Server::healthy(Duration::ZERO);
    let repo = deploy_repo(server.port, "");
    repo.pulumi_ok("infra", &["up", "--yes", "--stack", "dev"]);
    let state = repo.path().join("backend/.pulumi/stacks/app/dev.json");
    let before = std::fs::read(&state).unwrap();
    let program = format!("{PROGRAM}  region: eu-west-1\n");
    repo.write("infra/Pulumi.yaml", &yaml_program("app", &program));

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
    assert!(
        run.stderr.contains("+ region"),
        "the real preview shows the change: {}",
        run.stderr
    );
    assert_step(&run.stderr, "pulumi preview", "ok");
    for step in ["outputs", "render", "sync", "health"] {
        assert_step(&run.stderr, step, "skipped");
        assert!(step_line(&run.stderr, step).contains("--preview"));
    }
    assert_eq!(
        std::fs::read(&state).unwrap(),
        before,
        "the state is unchanged"
    );
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
fn an_interrupt_during_a_real_up_cancels_it_and_leaves_a_readable_state() {
    let repo = deploy_repo(closed_port(), "");
    repo.pulumi_ok("infra", &["up", "--yes", "--stack", "dev"]);
    let before = repo.pulumi_ok("infra", &["stack", "output", "--json", "--stack", "dev"]);
    let _ = std::fs::remove_file(repo.path().join("standin.log"));
    let _gate = gated(&repo);
    let mut child = spawn(&repo, &["deploy"]);
    let mut all = String::new();
    let mut sent = false;
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.contains("Updating (dev):") && !sent {
            std::thread::sleep(Duration::from_millis(500));
            let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap();
            rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
            sent = true;
        }
        all.push_str(&line);
        all.push('\n');
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(3), "{all}");
    assert!(all.contains("interrupted: asked pulumi to cancel"), "{all}");
    // The real CLI's own account of it.
    assert!(all.contains("^C received; cancelling."), "{all}");
    assert!(all.contains("error: update canceled"), "{all}");
    assert_step(&all, "pulumi up", "failed");
    assert_step(&all, "render", "skipped");
    assert!(!repo.path().join("out/.env.deploy").exists());

    // The state is whole: the CLI reads it, the lock is gone, the outputs are the old ones,
    // the history says canceled, and the next update runs without `pulumi cancel`.
    let after = repo.pulumi_ok("infra", &["stack", "output", "--json", "--stack", "dev"]);
    assert_eq!(after, before);
    repo.pulumi_ok("infra", &["stack", "export", "--stack", "dev"]);
    let locks = repo
        .path()
        .join("backend/.pulumi/locks/organization/app/dev");
    let held: Vec<_> = std::fs::read_dir(&locks)
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(held.is_empty(), "a lock is left: {held:?}");
    assert_eq!(last_update(&repo)["result"], "failed");
    std::fs::remove_file(repo.path().join("infra/gate")).unwrap();
    repo.write("infra/Pulumi.yaml", &yaml_program("app", PROGRAM));
    repo.run(&["deploy", "--skip-health"]).ok();
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
    let (code, _, stderr) = make(&["deploy", "DEPLOY_FLAGS=--skip-health"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_step(&stderr, "health", "skipped");
    let (code, _, stderr) = make(&["preview", "PULUMI_ARGS=--message \"two words\" --diff"]);
    assert_eq!(code, Some(0), "{stderr}");
    let calls = repo.invocations();
    let tail = |argv: &[String], verb: &str| -> Vec<String> {
        argv[argv.iter().position(|a| a == verb).unwrap()..].to_vec()
    };
    assert_eq!(
        tail(&calls[0], "up"),
        ["up", "--yes", "--skip-preview", "--stack", "dev"]
    );
    assert_eq!(
        tail(&calls[1], "preview"),
        [
            "preview",
            "--stack",
            "dev",
            "--message",
            "two words",
            "--diff"
        ]
    );
    let (code, stdout, stderr) = make(&["health", "HEALTH_FLAGS=--json"]);
    assert_eq!(code, Some(0), "{stderr}");
    let json_start = stdout.find('{').expect("JSON on stdout");
    let report: Value = serde_json::from_str(&stdout[json_start..]).unwrap();
    assert_eq!(report["healthy"], true, "{report}");
    assert_eq!(server.hits(), 1);
}
