//! `stackwire health` against real loopback servers: results, retries, timeouts, exit codes,
//! concurrency, and secrets in targets masked in every output. The stack is a `--state` file,
//! so no pulumi runs here.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Repo, export_doc, secret};

/// A secret output whose value must never be shown.
pub(crate) const TOKEN: &str = "tok-CANARY-5e1f";

/// A loopback HTTP server answering each request as `respond(n)` says (`n` counts from 0).
pub(crate) struct Server {
    pub(crate) port: u16,
    hits: Arc<AtomicUsize>,
    paths: Arc<Mutex<Vec<String>>>,
}

impl Server {
    pub(crate) fn start<F>(respond: F) -> Self
    where
        F: Fn(usize) -> (Duration, u16) + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let paths = Arc::new(Mutex::new(Vec::new()));
        let respond = Arc::new(respond);
        let (h, p) = (Arc::clone(&hits), Arc::clone(&paths));
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let n = h.fetch_add(1, Ordering::SeqCst);
                let (respond, paths) = (Arc::clone(&respond), Arc::clone(&p));
                thread::spawn(move || answer(stream, n, &*respond, &paths));
            }
        });
        Self { port, hits, paths }
    }

    /// Healthy: `200` with `{"status":"ok"}`, after `delay`.
    pub(crate) fn healthy(delay: Duration) -> Self {
        Self::start(move |_| (delay, 200))
    }

    pub(crate) fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// Request targets (path and query) received so far.
    pub(crate) fn paths(&self) -> Vec<String> {
        self.paths.lock().unwrap().clone()
    }
}

fn answer(
    mut stream: TcpStream,
    n: usize,
    respond: &(dyn Fn(usize) -> (Duration, u16) + Send + Sync),
    paths: &Mutex<Vec<String>>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut request = Vec::new();
    let mut buf = [0_u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(k) => request.extend_from_slice(&buf[..k]),
        }
    }
    let text = String::from_utf8_lossy(&request);
    if let Some(target) = text.split_whitespace().nth(1) {
        paths.lock().unwrap().push(target.to_owned());
    }
    let (delay, status) = respond(n);
    thread::sleep(delay);
    let (reason, body) = match status {
        200 => ("OK", r#"{"status":"ok"}"#),
        _ => ("Service Unavailable", r#"{"status":"down"}"#),
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// A port nothing listens on.
pub(crate) fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A repository whose stack (a `--state` file) has `host` and the secret `token`, and whose
/// mapping has `health` as its `health:` block.
fn repo_with(health: &str) -> Repo {
    let repo = Repo::new();
    let doc = export_doc(json!({"host": "127.0.0.1", "token": secret(json!(TOKEN))}));
    repo.write("state.json", &doc.to_string());
    repo.write(
        "stacks/dev.yaml",
        &format!(
            "stack: dev\nenv:\n  HOST: host\n  TOKEN: token\n{}{health}",
            if health.is_empty() { "" } else { "health:\n" }
        ),
    );
    repo
}

fn health(repo: &Repo, extra: &[&str]) -> crate::support::Run {
    let mut args = vec!["--state", "state.json", "health"];
    args.extend_from_slice(extra);
    repo.run(&args)
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {report}"))
}

#[test]
fn results_retries_and_timeouts_against_real_servers() {
    let healthy = Server::healthy(Duration::ZERO);
    let flaky = Server::start(|n| (Duration::ZERO, if n < 2 { 503 } else { 200 }));
    let slow = Server::healthy(Duration::from_secs(3));
    let closed = closed_port();
    let repo = repo_with(&format!(
        r#"  - name: healthy
    http: "http://{{{{ env.HOST }}}}:{}/health"
    expect: 200
    contains: '"status":"ok"'
  - name: flaky
    http: "http://{{{{ env.HOST }}}}:{}/health"
    expect: "2xx"
    retries: 3
    interval: 50ms
  - name: slow
    http: "http://{{{{ env.HOST }}}}:{}/health"
    timeout: 300ms
    retries: 1
    interval: 50ms
  - name: closed
    tcp: "{{{{ env.HOST }}}}:{closed}"
    retries: 1
    interval: 50ms
"#,
        healthy.port, flaky.port, slow.port
    ));
    let run = health(&repo, &["--json"]).code(1);
    let report = run.json();
    assert_eq!(report["healthy"], false);

    let c = check(&report, "healthy");
    assert_eq!((&c["healthy"], &c["attempts"]), (&json!(true), &json!(1)));
    assert_eq!(c["result"], "200 OK");
    assert_eq!(c["type"], "http");

    let c = check(&report, "flaky");
    assert_eq!(c["healthy"], true, "{c}");
    assert_eq!((&c["attempts"], &c["max_attempts"]), (&json!(3), &json!(4)));
    assert_eq!(flaky.hits(), 3, "two 503s, then the 200");

    let c = check(&report, "slow");
    assert_eq!(c["healthy"], false);
    assert_eq!(c["attempts"], 2);
    assert_eq!(c["result"], "no answer within 300 ms");
    assert!(c["latency_ms"].as_f64().unwrap() < 2000.0, "{c}");

    let c = check(&report, "closed");
    assert_eq!((&c["healthy"], &c["attempts"]), (&json!(false), &json!(2)));
    assert_eq!(c["type"], "tcp");
    assert!(
        c["result"].as_str().unwrap().starts_with("cannot connect"),
        "{c}"
    );

    // The table: one row per check, in mapping order, and a verdict on stderr.
    let run = health(&repo, &[]).code(1);
    let rows: Vec<&str> = run.stdout.lines().collect();
    assert!(rows[0].starts_with("NAME"), "{}", run.stdout);
    for header in ["TARGET", "RESULT", "ATTEMPTS", "LATENCY"] {
        assert!(rows[0].contains(header), "{}", run.stdout);
    }
    assert!(rows[1].starts_with("healthy") && rows[1].contains("ok: 200 OK"));
    assert!(rows[1].contains(&format!("http://127.0.0.1:{}/health", healthy.port)));
    assert!(rows[3].starts_with("slow") && rows[3].contains("FAILED: no answer"));
    assert!(rows[3].contains("2/2"), "{}", rows[3]);
    assert!(
        run.stderr.contains("2 of 4 checks unhealthy: slow, closed"),
        "{}",
        run.stderr
    );

    // Only the healthy ones: exit 0.
    let run = health(&repo, &["--only", "healthy", "--only", "flaky", "--json"]).ok();
    let report = run.json();
    let names: Vec<&Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["name"])
        .collect();
    assert_eq!(names, [&json!("healthy"), &json!("flaky")]);
    assert!(
        run.stderr.contains("all 2 checks healthy"),
        "{}",
        run.stderr
    );
}

#[test]
fn checks_run_concurrently() {
    let server = Server::healthy(Duration::from_millis(600));
    let mut block = String::new();
    for name in ["a", "b", "c", "d"] {
        block.push_str(&format!(
            "  - name: {name}\n    http: \"http://{{{{ env.HOST }}}}:{}/{name}\"\n",
            server.port
        ));
    }
    let repo = repo_with(&block);
    let report = health(&repo, &["--json"]).ok().json();
    let checks = report["checks"].as_array().unwrap();
    let sum: f64 = checks
        .iter()
        .map(|c| c["elapsed_ms"].as_f64().unwrap())
        .sum();
    for c in checks {
        assert!(c["latency_ms"].as_f64().unwrap() >= 550.0, "{c}");
    }
    let total = report["elapsed_ms"].as_f64().unwrap();
    // Four 600 ms checks: one after the other would take 2.4 s; together about 0.6 s.
    assert!(
        total < sum / 2.0,
        "total {total} ms vs sum {sum} ms: not concurrent"
    );
    assert_eq!(server.hits(), 4);
}

#[test]
fn commands_get_the_mapped_environment_and_a_timeout() {
    let repo = repo_with(
        r#"  - name: env
    command: ["sh", "-c", "test \"$HOST\" = 127.0.0.1 && test -f stacks/dev.yaml && test \"$1\" = 127.0.0.1", "sh", "{{ env.HOST }}"]
  - name: hangs
    command: ["sh", "-c", "sleep 30"]
    timeout: 300ms
    retries: 0
  - name: fails
    command: ["sh", "-c", "echo first; echo 'migrations pending' >&2; exit 3"]
    retries: 0
"#,
    );
    let start = std::time::Instant::now();
    let report = health(&repo, &["--json"]).code(1).json();
    assert!(start.elapsed() < Duration::from_secs(20));
    assert_eq!(check(&report, "env")["healthy"], true, "{report}");
    assert_eq!(check(&report, "env")["result"], "exit status 0");
    assert_eq!(
        check(&report, "hangs")["result"],
        "did not finish within 300 ms"
    );
    assert_eq!(
        check(&report, "fails")["result"],
        "exit status 3: migrations pending"
    );
}

#[test]
fn invalid_definitions_exit_2_before_anything_runs() {
    let server = Server::healthy(Duration::ZERO);
    let repo = repo_with(&format!(
        "  - name: api\n    http: \"http://{{{{ env.LAMBDA_LABS_INSTANCE_IP }}}}:{}/\"\n",
        server.port
    ));
    let run = health(&repo, &[]).code(2);
    assert!(
        run.stderr.contains("health check `api`") && run.stderr.contains("LAMBDA_LABS_INSTANCE_IP"),
        "{}",
        run.stderr
    );

    let repo = repo_with(&format!(
        "  - name: api\n    http: \"http://{{{{ env.HOST }}:{}/\"\n",
        server.port
    ));
    let run = health(&repo, &[]).code(2);
    assert!(run.stderr.contains("invalid template"), "{}", run.stderr);

    let repo = repo_with(&format!(
        "  - name: api\n    http: \"http://{{{{ env.HOST }}}}:{}/\"\n",
        server.port
    ));
    let run = health(&repo, &["--only", "nope"]).code(2);
    assert!(
        run.stderr.contains("no health check named `nope`") && run.stderr.contains("api"),
        "{}",
        run.stderr
    );
    assert_eq!(server.hits(), 0);

    // No checks at all: nothing to do, successfully.
    let repo = repo_with("");
    let run = health(&repo, &[]).ok();
    assert!(run.stderr.contains("nothing to check"), "{}", run.stderr);
}

#[test]
fn secrets_in_targets_are_masked_in_every_output() {
    let down = Server::start(|_| (Duration::ZERO, 503));
    let closed = closed_port();
    let repo = repo_with(&format!(
        r#"  - name: query
    http: "http://{{{{ env.HOST }}}}:{}/health?token={{{{ env.TOKEN }}}}"
    retries: 1
    interval: 10ms
  - name: encoded
    http: "http://{{{{ env.HOST }}}}:{}/health?token={{{{ env.TOKEN | urlencode_strict }}}}"
    retries: 0
  - name: userinfo
    http: "http://ci:{{{{ env.TOKEN }}}}@{{{{ env.HOST }}}}:{closed}/"
    retries: 0
  - name: command
    command: ["sh", "-c", "echo \"token $TOKEN rejected, arg $1\" >&2; exit 1", "sh", "{{{{ env.TOKEN }}}}"]
    retries: 0
"#,
        down.port, down.port
    ));
    let runs = [
        health(&repo, &["--json"]),
        health(&repo, &[]),
        health(&repo, &["-v"]),
        health(&repo, &["-v", "--json"]),
    ];
    for run in &runs {
        assert_eq!(run.code, 1, "{run:?}");
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            assert!(!text.contains(TOKEN), "{stream} leaked the token:\n{text}");
            assert!(!text.contains("CANARY"), "{stream}, encoded:\n{text}");
        }
    }
    let report = runs[0].json();
    assert_eq!(
        check(&report, "query")["target"],
        format!("http://127.0.0.1:{}/health?token=[secret]", down.port)
    );
    assert_eq!(
        check(&report, "userinfo")["target"],
        format!("http://ci:[secret]@127.0.0.1:{closed}/")
    );
    assert_eq!(
        check(&report, "command")["target"],
        "sh -c 'echo \"token $TOKEN rejected, arg $1\" >&2; exit 1' sh [secret]"
    );
    assert_eq!(
        check(&report, "command")["result"],
        "exit status 1: token [secret] rejected, arg [secret]"
    );
    // The servers got the real value.
    assert!(
        down.paths()
            .iter()
            .any(|p| p == &format!("/health?token={TOKEN}")),
        "{:?}",
        down.paths()
    );
    // -v shows every attempt, masked.
    assert!(
        runs[2].stderr.contains("attempt 1/2 failed") && runs[2].stderr.contains("[secret]"),
        "{}",
        runs[2].stderr
    );
}
