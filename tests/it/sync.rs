//! `stackwire sync` against `tests/github-server/server.py`, a loopback stand-in for GitHub's
//! Actions secrets and variables API that decrypts every secret with libsodium (PyNaCl) so the
//! tests can assert the plaintext GitHub would hold.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt as _;
use std::process::{Child, ChildStdin, Command, Stdio};

use serde_json::{Value, json};

use crate::support::{Repo, Run, export_doc, manifest_dir, secret};

const TOKEN: &str = "ghp_T0kenThatMustNeverBePrinted0123456789";
const CANARY: &str = "CANARY-sync-5e1f0a";
const REPO: &str = "repo:acme/app";

/// The loopback GitHub, killed when dropped.
struct GitHub {
    child: Child,
    _stdin: ChildStdin,
    port: u16,
}

impl GitHub {
    fn start(args: &[&str]) -> Self {
        let script = manifest_dir().join("tests/github-server/server.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .args(["--token", TOKEN])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python3 tests/github-server/server.py");
        let stdin = child.stdin.take().unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let port = first.trim().parse().unwrap_or_else(|_| {
            panic!(
                "the GitHub test server did not start (is PyNaCl installed? `scripts/test` installs tests/requirements.txt into .venv): {first:?}"
            )
        });
        Self {
            child,
            _stdin: stdin,
            port,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn http(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.port,
            body.len()
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let (_, body) = text.split_once("\r\n\r\n").unwrap();
        serde_json::from_str(body).unwrap()
    }

    fn control(&self, what: &str, body: Value) {
        self.http("POST", &format!("/_control/{what}"), Some(body));
    }

    fn state(&self) -> Value {
        self.http("GET", "/_control/state", None)
    }

    fn reset_log(&self) {
        self.control("reset-log", json!({}));
    }

    /// The API requests logged since the last reset, as `METHOD path`.
    fn requests(&self) -> Vec<String> {
        self.state()["log"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    e["method"].as_str().unwrap(),
                    e["path"].as_str().unwrap()
                )
            })
            .collect()
    }

    /// The write requests logged since the last reset.
    fn writes(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .filter(|r| !r.starts_with("GET "))
            .collect()
    }

    fn secret(&self, scope: &str, name: &str) -> Option<String> {
        self.state()["scopes"][scope]["secrets"][name]["value"]
            .as_str()
            .map(str::to_owned)
    }

    fn variable(&self, scope: &str, name: &str) -> Option<String> {
        self.state()["scopes"][scope]["variables"][name]["value"]
            .as_str()
            .map(str::to_owned)
    }

    fn marker(&self, scope: &str, stack: &str) -> Value {
        let name = format!("STACKWIRE_MANAGED_{}", stack.to_uppercase());
        let value = self
            .variable(scope, &name)
            .unwrap_or_else(|| panic!("no marker {name} in {scope}"));
        serde_json::from_str(&value).unwrap()
    }
}

impl Drop for GitHub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const MAPPING: &str = r"stack: production
env:
  API_URL: apiUrl
  DB_PASSWORD: db.password
  TOKEN: token
  REGION: region
  LOG_LEVEL: { value: info }
github:
  repo: acme/app
  secrets: [REGION]
  exclude: [LOG_LEVEL]
";

fn outputs(token: &str, api: &str) -> Value {
    json!({
        "apiUrl": api,
        "db": {"host": "db.internal", "password": secret(json!(format!("{CANARY}-db")))},
        "token": secret(json!(token)),
        "region": "eu-west-1",
    })
}

fn repo_with(gh: &GitHub, files: &[(&str, &str)], outputs: &Value) -> Repo {
    let mut repo = Repo::new();
    for (path, text) in files {
        repo.write(path, text);
    }
    repo.write("state.json", &export_doc(outputs.clone()).to_string());
    repo.set("GITHUB_API_URL", gh.url()).set("GH_TOKEN", TOKEN);
    repo
}

fn standard(gh: &GitHub) -> Repo {
    repo_with(
        gh,
        &[("stacks/production.yaml", MAPPING)],
        &outputs(CANARY, "https://api.example.com"),
    )
}

fn sync(repo: &Repo, extra: &[&str]) -> Run {
    let mut args = vec!["--state", "state.json", "sync"];
    args.extend_from_slice(extra);
    repo.run(&args)
}

#[track_caller]
fn assert_clean(run: &Run, repo: &Repo) {
    for (what, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(!text.contains(TOKEN), "the token leaked on {what}:\n{text}");
        assert!(
            !text.contains(CANARY),
            "the canary leaked on {what}:\n{text}"
        );
    }
    let state = repo.path().join(".stackwire/state");
    if let Ok(entries) = std::fs::read_dir(&state) {
        for e in entries {
            let text = std::fs::read_to_string(e.unwrap().path()).unwrap_or_default();
            assert!(
                !text.contains(TOKEN) && !text.contains(CANARY),
                "leak in {state:?}"
            );
        }
    }
}

#[test]
fn dry_run_plans_and_sends_no_write() {
    let gh = GitHub::start(&[]);
    let repo = standard(&gh);
    let run = sync(&repo, &["--dry-run"]).ok();
    assert_clean(&run, &repo);
    assert!(
        run.stdout.starts_with("acme/app: 4 to create, 1 skipped\n"),
        "{}",
        run.stdout
    );
    for line in [
        "  create     variable  API_URL      not on GitHub",
        "  create     secret    DB_PASSWORD  not on GitHub",
        "  create     secret    REGION       not on GitHub",
        "  skip       variable  LOG_LEVEL    excluded by the mapping",
        "  create     variable  STACKWIRE_MANAGED_PRODUCTION  ownership marker",
        "(dry run: nothing is written)",
    ] {
        assert!(
            run.stdout.contains(line),
            "{line:?} missing:\n{}",
            run.stdout
        );
    }
    assert!(gh.writes().is_empty(), "{:?}", gh.writes());
    assert_eq!(
        gh.requests(),
        [
            "GET /repos/acme/app/actions/variables?per_page=30",
            "GET /repos/acme/app/actions/secrets?per_page=100"
        ],
        "listings only"
    );

    let json = sync(&repo, &["--dry-run", "--json"]).ok().json();
    assert_eq!(json["dry_run"], true);
    let steps = &json["targets"][0]["steps"];
    let got: Vec<(String, String, String)> = steps
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["kind"].as_str().unwrap().to_owned(),
                s["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want = [
        ("API_URL", "variable", "create"),
        ("DB_PASSWORD", "secret", "create"),
        ("TOKEN", "secret", "create"),
        ("REGION", "secret", "create"),
        ("LOG_LEVEL", "variable", "skip"),
    ];
    assert_eq!(
        got,
        want.map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()))
    );
    assert_eq!(json["targets"][0]["marker"]["action"], "create");
    assert!(steps[0]["result"].is_null());
    assert!(gh.writes().is_empty());
    assert!(
        !repo.path().join(".stackwire").exists(),
        "a dry run writes no record"
    );
}

#[test]
fn sync_writes_everything_once_then_nothing() {
    let gh = GitHub::start(&[]);
    let repo = standard(&gh);
    let run = sync(&repo, &["--json"]).ok();
    assert_clean(&run, &repo);
    let json = run.json();
    assert_eq!(json["ok"], true);
    assert_eq!(json["targets"][0]["steps"][1]["result"], "created");
    assert_eq!(json["targets"][0]["marker"]["result"], "created");

    // Every secret decrypts (libsodium sealed box) to the right plaintext, with the scope's key.
    let state = gh.state();
    let scope = &state["scopes"][REPO];
    assert_eq!(
        gh.secret(REPO, "DB_PASSWORD").as_deref(),
        Some(format!("{CANARY}-db").as_str())
    );
    assert_eq!(gh.secret(REPO, "TOKEN").as_deref(), Some(CANARY));
    assert_eq!(gh.secret(REPO, "REGION").as_deref(), Some("eu-west-1"));
    for name in ["DB_PASSWORD", "TOKEN", "REGION"] {
        assert_eq!(scope["secrets"][name]["key_id"], scope["key_id"]);
    }
    assert_eq!(
        gh.variable(REPO, "API_URL").as_deref(),
        Some("https://api.example.com")
    );
    assert!(gh.variable(REPO, "LOG_LEVEL").is_none(), "excluded");
    assert!(scope["secrets"].get("API_URL").is_none());
    assert_eq!(
        gh.marker(REPO, "production"),
        json!({"stackwire": 1, "stack": "production",
               "secrets": ["DB_PASSWORD", "REGION", "TOKEN"], "variables": ["API_URL"]})
    );
    // One connection, one request at a time, one public-key fetch.
    assert_eq!(state["connections"], 1, "{:?}", state["log"]);
    assert_eq!(state["max_in_flight"], 1);
    let keys = gh
        .requests()
        .iter()
        .filter(|r| r.ends_with("/public-key"))
        .count();
    assert_eq!(keys, 1);

    // The record: fingerprints only, mode 0600, in a folder that ignores itself.
    let record = repo.path().join(".stackwire/state/github-production.json");
    let meta = std::fs::metadata(&record).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&record).unwrap();
    assert!(text.contains("hmac-sha256:"), "{text}");
    assert!(!text.contains("eu-west-1") && !text.contains("api.example.com"));
    assert_eq!(
        repo.read(".stackwire/state/.gitignore").lines().last(),
        Some("*")
    );

    gh.reset_log();
    let again = sync(&repo, &[]).ok();
    assert_clean(&again, &repo);
    assert!(gh.writes().is_empty(), "{:?}", gh.writes());
    assert!(
        again
            .stdout
            .starts_with("acme/app: 4 unchanged, 1 skipped\n"),
        "{}",
        again.stdout
    );
    assert!(again.stdout.contains(
        "unchanged  secret    TOKEN        same value as last written, not changed on GitHub since"
    ));
    assert!(
        again.stderr.contains("acme/app: up to date (4 unchanged)"),
        "{}",
        again.stderr
    );
}

#[test]
fn changing_one_output_writes_exactly_one_name() {
    let gh = GitHub::start(&[]);
    let repo = standard(&gh);
    sync(&repo, &[]).ok();

    gh.reset_log();
    repo.write(
        "state.json",
        &export_doc(outputs("rotated-token-1", "https://api.example.com")).to_string(),
    );
    let run = sync(&repo, &[]).ok();
    assert_eq!(gh.writes(), ["PUT /repos/acme/app/actions/secrets/TOKEN"]);
    assert_eq!(gh.secret(REPO, "TOKEN").as_deref(), Some("rotated-token-1"));
    assert!(
        run.stdout
            .contains("update     secret    TOKEN        value changed since the last sync"),
        "{}",
        run.stdout
    );

    gh.reset_log();
    repo.write(
        "state.json",
        &export_doc(outputs("rotated-token-1", "https://api2.example.com")).to_string(),
    );
    sync(&repo, &[]).ok();
    assert_eq!(
        gh.writes(),
        ["PATCH /repos/acme/app/actions/variables/API_URL"]
    );
    assert_eq!(
        gh.variable(REPO, "API_URL").as_deref(),
        Some("https://api2.example.com")
    );
}

#[test]
fn fresh_checkout_rewrites_secrets_and_force_rewrites_all() {
    let gh = GitHub::start(&[]);
    let repo = standard(&gh);
    sync(&repo, &[]).ok();

    // No record (a fresh CI runner): secrets cannot be compared, variables can.
    std::fs::remove_dir_all(repo.path().join(".stackwire")).unwrap();
    gh.reset_log();
    let run = sync(&repo, &[]).ok();
    let mut writes = gh.writes();
    writes.sort();
    assert_eq!(
        writes,
        [
            "PUT /repos/acme/app/actions/secrets/DB_PASSWORD",
            "PUT /repos/acme/app/actions/secrets/REGION",
            "PUT /repos/acme/app/actions/secrets/TOKEN",
        ]
    );
    assert!(
        run.stdout
            .contains("no local record of the last write (fresh checkout or runner)")
    );
    assert!(run.stdout.contains("unchanged  variable  API_URL"));

    gh.reset_log();
    let forced = sync(&repo, &["--force"]).ok();
    assert_eq!(gh.writes().len(), 4, "{:?}", gh.writes());
    assert!(
        forced
            .stdout
            .contains("update     variable  API_URL      --force")
    );
}

#[test]
fn a_secret_changed_on_github_is_written_again() {
    let gh = GitHub::start(&[]);
    let repo = standard(&gh);
    sync(&repo, &[]).ok();
    // Someone sets TOKEN by hand an hour later.
    gh.control("clock", json!({"advance": 3600}));
    gh.control(
        "seed",
        json!({"scope": REPO, "secrets": {"TOKEN": "set by hand"}}),
    );
    gh.reset_log();
    let run = sync(&repo, &[]).ok();
    assert_eq!(gh.writes(), ["PUT /repos/acme/app/actions/secrets/TOKEN"]);
    assert!(
        run.stdout.contains("changed on GitHub since the last sync"),
        "{}",
        run.stdout
    );
    assert_eq!(gh.secret(REPO, "TOKEN").as_deref(), Some(CANARY));
    gh.reset_log();
    sync(&repo, &[]).ok();
    assert!(gh.writes().is_empty(), "{:?}", gh.writes());
}

#[test]
fn prune_deletes_only_stackwire_names_even_from_a_fresh_checkout() {
    let gh = GitHub::start(&[]);
    gh.control(
        "seed",
        json!({"scope": REPO, "secrets": {"HUMAN_SECRET": "x"}, "variables": {"HUMAN_VAR": "y"}}),
    );
    let repo = standard(&gh);
    sync(&repo, &[]).ok();

    // TOKEN is no longer mapped; the checkout is fresh (no local record).
    repo.write(
        "stacks/production.yaml",
        &MAPPING.replace("  TOKEN: token\n", ""),
    );
    std::fs::remove_dir_all(repo.path().join(".stackwire")).unwrap();
    gh.reset_log();
    let run = sync(&repo, &[]).ok();
    assert!(
        run.stdout.contains(
            "skip       secret    TOKEN        no longer mapped; stackwire wrote it (--prune deletes it)"
        ),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("HUMAN"), "{}", run.stdout);
    assert!(!gh.writes().iter().any(|w| w.starts_with("DELETE")));
    assert!(gh.secret(REPO, "TOKEN").is_some());

    gh.reset_log();
    let pruned = sync(&repo, &["--prune", "--dry-run"]).ok();
    assert!(
        pruned
            .stdout
            .contains("delete     secret    TOKEN        no longer mapped; stackwire wrote it"),
        "{}",
        pruned.stdout
    );
    assert!(gh.writes().is_empty());
    sync(&repo, &["--prune"]).ok();
    let deletes: Vec<String> = gh
        .writes()
        .into_iter()
        .filter(|w| w.starts_with("DELETE"))
        .collect();
    assert_eq!(deletes, ["DELETE /repos/acme/app/actions/secrets/TOKEN"]);
    assert!(gh.secret(REPO, "TOKEN").is_none());
    assert_eq!(gh.secret(REPO, "HUMAN_SECRET").as_deref(), Some("x"));
    assert_eq!(gh.variable(REPO, "HUMAN_VAR").as_deref(), Some("y"));
    assert_eq!(
        gh.marker(REPO, "production")["secrets"],
        json!(["DB_PASSWORD", "REGION"])
    );

    // A variable that becomes a secret: the old variable is stale, and pruned.
    repo.write(
        "stacks/production.yaml",
        &MAPPING
            .replace("  TOKEN: token\n", "")
            .replace("secrets: [REGION]", "secrets: [REGION, API_URL]"),
    );
    gh.reset_log();
    let run = sync(&repo, &["--prune"]).ok();
    assert!(
        run.stdout.contains(
            "delete     variable  API_URL      now synced as a secret; stackwire wrote it"
        ),
        "{}",
        run.stdout
    );
    assert!(gh.variable(REPO, "API_URL").is_none());
    assert_eq!(
        gh.secret(REPO, "API_URL").as_deref(),
        Some("https://api.example.com")
    );
}

#[test]
fn two_stacks_sharing_a_repository_do_not_prune_each_other() {
    let gh = GitHub::start(&[]);
    let a = "stack: a\nenv:\n  A1: a1\n  A2: a2\n  SHARED: shared\ngithub:\n  repo: acme/app\n";
    let b = "stack: b\nenv:\n  B1: b1\n  SHARED: shared\ngithub:\n  repo: acme/app\n";
    let outs = json!({"a1": "1", "a2": "2", "b1": "3", "shared": "s"});
    let repo = repo_with(&gh, &[("stacks/a.yaml", a), ("stacks/b.yaml", b)], &outs);
    repo.run(&["--state", "state.json", "-s", "a", "sync"]).ok();
    repo.run(&["--state", "state.json", "-s", "b", "sync"]).ok();
    assert_eq!(
        gh.marker(REPO, "a")["variables"],
        json!(["A1", "A2", "SHARED"])
    );
    // b found SHARED already right: it maps it but did not write it.
    assert_eq!(gh.marker(REPO, "b")["variables"], json!(["B1"]));
    assert_eq!(gh.marker(REPO, "b")["mapped"], json!(["SHARED"]));

    repo.write(
        "stacks/a.yaml",
        "stack: a\nenv:\n  A1: a1\ngithub:\n  repo: acme/app\n",
    );
    std::fs::remove_dir_all(repo.path().join(".stackwire")).unwrap();
    gh.reset_log();
    let run = repo
        .run(&["--state", "state.json", "-s", "a", "sync", "--prune"])
        .ok();
    assert!(
        run.stdout.contains(
            "skip       variable  SHARED  no longer mapped; kept: stack `b` also manages it"
        ),
        "{}",
        run.stdout
    );
    let deletes: Vec<String> = gh
        .writes()
        .into_iter()
        .filter(|w| w.starts_with("DELETE"))
        .collect();
    assert_eq!(deletes, ["DELETE /repos/acme/app/actions/variables/A2"]);
    assert_eq!(gh.variable(REPO, "SHARED").as_deref(), Some("s"));
    assert_eq!(gh.variable(REPO, "B1").as_deref(), Some("3"));
    // a still wrote SHARED (b only maps it): a may prune it once b no longer claims it.
    assert_eq!(gh.marker(REPO, "a")["variables"], json!(["A1", "SHARED"]));
    assert_eq!(gh.marker(REPO, "b")["mapped"], json!(["SHARED"]));

    // b drops SHARED and prunes: b never wrote it, so b leaves it; a, pruning again, deletes it.
    repo.write(
        "stacks/b.yaml",
        "stack: b\nenv:\n  B1: b1\ngithub:\n  repo: acme/app\n",
    );
    gh.reset_log();
    repo.run(&["--state", "state.json", "-s", "b", "sync", "--prune"])
        .ok();
    assert!(
        !gh.writes().iter().any(|w| w.starts_with("DELETE")),
        "{:?}",
        gh.writes()
    );
    gh.reset_log();
    repo.run(&["--state", "state.json", "-s", "a", "sync", "--prune"])
        .ok();
    assert_eq!(
        gh.writes()
            .into_iter()
            .filter(|w| w.starts_with("DELETE"))
            .collect::<Vec<_>>(),
        ["DELETE /repos/acme/app/actions/variables/SHARED"]
    );
}

#[test]
fn environment_and_org_scopes_use_their_own_endpoints_and_keys() {
    let gh = GitHub::start(&[]);
    let mapping = MAPPING.replace(
        "github:\n  repo: acme/app\n  secrets: [REGION]\n  exclude: [LOG_LEVEL]\n",
        "github:
  - repo: acme/app
    environment: production
  - org: acme
    visibility: selected
    repositories: [app, web]
    exclude: [API_URL]
",
    );
    let repo = repo_with(
        &gh,
        &[("stacks/production.yaml", &mapping)],
        &outputs(CANARY, "https://api.example.com"),
    );
    let run = sync(&repo, &[]).ok();
    assert_clean(&run, &repo);
    assert!(
        run.stdout
            .contains("acme/app (environment production): 5 to create\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("organization acme: 4 to create, 1 skipped\n"),
        "{}",
        run.stdout
    );
    let env = "environment:acme/app/production";
    let org = "org:acme";
    let requests = gh.requests();
    for want in [
        "GET /repos/acme/app/environments/production/secrets/public-key",
        "PUT /repos/acme/app/environments/production/secrets/TOKEN",
        "POST /repos/acme/app/environments/production/variables",
        "GET /orgs/acme/actions/secrets/public-key",
        "PUT /orgs/acme/actions/secrets/TOKEN",
        "GET /repos/acme/app",
        "GET /repos/acme/web",
    ] {
        assert!(
            requests.iter().any(|r| r == want),
            "{want} not in {requests:#?}"
        );
    }
    assert!(
        !requests
            .iter()
            .any(|r| r.contains("/repos/acme/app/actions/")),
        "no repository-level request: {requests:#?}"
    );
    let state = gh.state();
    let (e, o) = (&state["scopes"][env], &state["scopes"][org]);
    assert_ne!(e["key_id"], o["key_id"]);
    assert_eq!(e["secrets"]["TOKEN"]["key_id"], e["key_id"]);
    assert_eq!(o["secrets"]["TOKEN"]["key_id"], o["key_id"]);
    assert_eq!(gh.secret(env, "TOKEN").as_deref(), Some(CANARY));
    assert_eq!(gh.secret(org, "TOKEN").as_deref(), Some(CANARY));
    assert_eq!(
        gh.secret(env, "DB_PASSWORD").as_deref(),
        Some(format!("{CANARY}-db").as_str())
    );
    // In the environment REGION is a plain value: a variable.
    assert_eq!(gh.variable(env, "REGION").as_deref(), Some("eu-west-1"));
    assert!(
        gh.variable(org, "API_URL").is_none(),
        "excluded from the org"
    );
    let ids = json!([state["repo_ids"]["acme/app"], state["repo_ids"]["acme/web"]]);
    assert_eq!(o["secrets"]["TOKEN"]["visibility"], "selected");
    assert_eq!(o["secrets"]["TOKEN"]["selected_repository_ids"], ids);
    assert_eq!(o["variables"]["REGION"]["visibility"], "selected");

    gh.reset_log();
    sync(&repo, &[]).ok();
    assert!(gh.writes().is_empty(), "{:?}", gh.writes());

    // Changing the org's visibility rewrites what the org target holds.
    repo.write(
        "stacks/production.yaml",
        &mapping.replace(
            "visibility: selected\n    repositories: [app, web]\n",
            "visibility: private\n",
        ),
    );
    gh.reset_log();
    sync(&repo, &[]).ok();
    let writes = gh.writes();
    assert!(
        writes.iter().all(|w| w.contains("/orgs/acme/")),
        "{writes:?}"
    );
    assert_eq!(
        writes.len(),
        5,
        "2 secrets, 2 variables, the marker: {writes:?}"
    );
    assert_eq!(
        gh.state()["scopes"][org]["secrets"]["TOKEN"]["visibility"],
        "private"
    );
}

#[test]
fn invalid_names_and_values_fail_before_any_request() {
    let gh = GitHub::start(&[]);
    let big = "x".repeat(48 * 1024 + 1);
    let mapping = format!(
        "stack: production\nenv:\n  GITHUB_SHA: {{ value: abc }}\n  db_url: {{ value: a }}\n  DB_URL: {{ value: b }}\n  BIG: {{ value: {big} }}\ngithub:\n  repo: acme/app\n"
    );
    let repo = repo_with(&gh, &[("stacks/production.yaml", &mapping)], &json!({}));
    let run = sync(&repo, &[]).code(2);
    for want in [
        "`GITHUB_SHA` starts with `GITHUB_`, which GitHub reserves",
        "`db_url` and `DB_URL` are the same name on GitHub (DB_URL",
        "`BIG` is 49153 bytes; GitHub stores at most 48 KB",
    ] {
        assert!(
            run.stderr.contains(want),
            "{want:?} missing:\n{}",
            run.stderr
        );
    }
    assert!(gh.requests().is_empty(), "{:?}", gh.requests());

    // No token: exit 2, before any request.
    let mut repo = standard(&gh);
    repo.env.remove("GH_TOKEN");
    let run = sync(&repo, &["--dry-run"]).code(2);
    assert!(
        run.stderr.contains("set GH_TOKEN (or GITHUB_TOKEN)"),
        "{}",
        run.stderr
    );
    assert!(gh.requests().is_empty());
    // GITHUB_TOKEN is used when GH_TOKEN is not set.
    repo.set("GITHUB_TOKEN", TOKEN);
    sync(&repo, &["--dry-run"]).ok();
    // No github: block.
    repo.write(
        "stacks/production.yaml",
        "stack: production\nenv:\n  A: { value: a }\n",
    );
    let run = sync(&repo, &[]).code(2);
    assert!(
        run.stderr.contains("has no `github:` block"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_token_and_secrets_never_reach_any_output() {
    let gh = GitHub::start(&[]);
    let repo = standard(&gh);
    for args in [
        &["--dry-run", "-v"][..],
        &["-v"],
        &["-v", "--json", "--force"],
        &["--dry-run", "--json"],
    ] {
        let run = repo.run(&[&["-v", "--state", "state.json", "sync"][..], args].concat());
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert_clean(&run, &repo);
    }
    let verbose = repo.run(&["-v", "--state", "state.json", "sync", "--dry-run"]);
    assert!(
        verbose
            .stderr
            .contains("GET /repos/acme/app/actions/secrets?per_page=100 → 200"),
        "{}",
        verbose.stderr
    );
    // A server that echoes the Authorization header in an error: redacted.
    gh.control(
        "faults",
        json!([{"method": "PUT", "path": "/TOKEN$", "kind": "echo-auth", "times": -1}]),
    );
    repo.write(
        "state.json",
        &export_doc(outputs(&format!("{CANARY}-2"), "https://api.example.com")).to_string(),
    );
    for args in [&["-v"][..], &["--json"]] {
        let run = repo.run(&[&["--state", "state.json", "sync"][..], args].concat());
        assert_eq!(run.code, 3, "{}", run.stderr);
        assert_clean(&run, &repo);
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(all.contains("got authorization Bearer ****"), "{all}");
    }
}

#[test]
fn a_failure_part_way_reports_what_was_written_and_a_rerun_converges() {
    let gh = GitHub::start(&[]);
    let mapping = "stack: production
env:
  S1: { value: one }
  S2: { value: two }
  S3: { value: three }
  S4: { value: four }
  S5: { value: five }
github:
  repo: acme/app
  secrets: [S1, S2, S3, S4, S5]
";
    let repo = repo_with(&gh, &[("stacks/production.yaml", mapping)], &json!({}));
    gh.control(
        "faults",
        json!([{"method": "PUT", "path": "/secrets/S3$", "kind": "422", "times": -1}]),
    );
    let run = sync(&repo, &[]).code(3);
    assert!(
        run.stderr.contains(
            "sync stopped: PUT /repos/acme/app/actions/secrets/S3: 422 Injected failure 422"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "acme/app: written: secret S1, secret S2; failed: secret S3; not written: secret S4, secret S5"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("re-run `stackwire sync` to finish"));
    assert_eq!(gh.secret(REPO, "S2").as_deref(), Some("two"));
    assert!(gh.secret(REPO, "S3").is_none() && gh.secret(REPO, "S4").is_none());
    // GitHub still answered, so the marker records what was written.
    assert_eq!(
        gh.marker(REPO, "production")["secrets"],
        json!(["S1", "S2"])
    );

    let json = sync(&repo, &["--json"]).code(3).json();
    let results: Vec<&str> = json["targets"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["result"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(results, ["-", "-", "failed", "not_written", "not_written"]);
    assert_eq!(json["ok"], false);

    gh.control("clear-faults", json!({}));
    gh.reset_log();
    sync(&repo, &[]).ok();
    let writes = gh.writes();
    assert_eq!(
        writes,
        [
            "PUT /repos/acme/app/actions/secrets/S3",
            "PUT /repos/acme/app/actions/secrets/S4",
            "PUT /repos/acme/app/actions/secrets/S5",
            "PATCH /repos/acme/app/actions/variables/STACKWIRE_MANAGED_PRODUCTION",
        ]
    );
    gh.reset_log();
    sync(&repo, &[]).ok();
    assert!(gh.writes().is_empty());
}

#[test]
fn a_server_that_keeps_failing_gives_up_after_bounded_retries() {
    let gh = GitHub::start(&[]);
    let repo = standard(&gh);
    gh.control(
        "faults",
        json!([{"method": "PUT", "path": "/secrets/TOKEN$", "kind": "502", "times": -1}]),
    );
    let run = sync(&repo, &[]).code(3);
    assert!(
        run.stderr
            .contains("PUT /repos/acme/app/actions/secrets/TOKEN: 502 Injected failure 502"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "written: variable API_URL, secret DB_PASSWORD; failed: secret TOKEN; not written: secret REGION"
        ),
        "{}",
        run.stderr
    );
    let tries = gh
        .requests()
        .iter()
        .filter(|r| *r == "PUT /repos/acme/app/actions/secrets/TOKEN")
        .count();
    assert_eq!(tries, 5, "1 try + 4 retries");
}

#[test]
fn rate_limits_and_transient_failures_are_retried() {
    let gh = GitHub::start(&[]);
    let mapping = "stack: production
env:
  S1: { value: one }
  S2: { value: two }
  S3: { value: three }
  S4: { value: four }
  S5: { value: five }
  V1: { value: six }
github:
  repo: acme/app
  secrets: [S1, S2, S3, S4, S5]
";
    let repo = repo_with(&gh, &[("stacks/production.yaml", mapping)], &json!({}));
    gh.control(
        "faults",
        json!([
            {"method": "GET", "path": "/actions/secrets$", "kind": "500"},
            {"method": "PUT", "path": "/secrets/S1$", "kind": "429", "retry_after": 1},
            {"method": "PUT", "path": "/secrets/S2$", "kind": "403-secondary", "retry_after": 1},
            {"method": "PUT", "path": "/secrets/S3$", "kind": "502"},
            {"method": "PUT", "path": "/secrets/S4$", "kind": "drop"},
            {"method": "PUT", "path": "/secrets/S5$", "kind": "403-primary", "reset_in": 1},
            {"method": "POST", "path": "/variables$", "kind": "drop"},
        ]),
    );
    let run = sync(&repo, &[]).ok();
    for (name, value) in [
        ("S1", "one"),
        ("S2", "two"),
        ("S3", "three"),
        ("S4", "four"),
        ("S5", "five"),
    ] {
        assert_eq!(gh.secret(REPO, name).as_deref(), Some(value), "{name}");
    }
    assert_eq!(gh.variable(REPO, "V1").as_deref(), Some("six"));
    for name in ["S1", "S2", "S3", "S4", "S5"] {
        let tries = gh
            .requests()
            .iter()
            .filter(|r| r.ends_with(&format!("/secrets/{name}")))
            .count();
        assert_eq!(tries, 2, "{name} retried once");
    }
    assert!(
        run.stderr
            .contains("GitHub rate limit (429): waiting 1.0 s before retrying PUT"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("GitHub secondary rate limit (403)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("GitHub primary rate limit (403)"),
        "{}",
        run.stderr
    );
    // The dropped POST may or may not have created the variable: either way it converged.
    gh.reset_log();
    sync(&repo, &[]).ok();
    assert!(gh.writes().is_empty(), "{:?}", gh.writes());
}

#[test]
fn a_variable_created_meanwhile_is_updated_after_409() {
    let gh = GitHub::start(&[]);
    // API_URL exists but the listing does not show it yet (a concurrent writer).
    gh.control(
        "seed",
        json!({"scope": REPO, "variables": {"API_URL": "old"}, "hidden": ["API_URL"]}),
    );
    let repo = standard(&gh);
    sync(&repo, &[]).ok();
    let requests: Vec<String> = gh.state()["log"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["path"].as_str().unwrap().contains("/variables"))
        .filter(|e| e["method"] != "GET")
        .map(|e| {
            format!(
                "{} {} {}",
                e["method"].as_str().unwrap(),
                e["path"].as_str().unwrap(),
                e["status"]
            )
        })
        .collect();
    assert_eq!(
        requests[..2],
        [
            "POST /repos/acme/app/actions/variables 409",
            "PATCH /repos/acme/app/actions/variables/API_URL 204",
        ]
    );
    assert_eq!(
        gh.variable(REPO, "API_URL").as_deref(),
        Some("https://api.example.com")
    );
}

#[test]
fn listings_follow_pagination() {
    let gh = GitHub::start(&[]);
    let mut env = String::new();
    let mut secrets = Vec::new();
    let mut outs = serde_json::Map::new();
    for i in 0..130 {
        env.push_str(&format!("  S{i:03}: s{i}\n"));
        secrets.push(format!("S{i:03}"));
        outs.insert(format!("s{i}"), json!(format!("secret-{i}")));
    }
    for i in 0..40 {
        env.push_str(&format!("  V{i:03}: v{i}\n"));
        outs.insert(format!("v{i}"), json!(format!("value-{i}")));
    }
    let mapping = format!(
        "stack: production\nenv:\n{env}github:\n  org: acme\n  secrets: [{}]\n",
        secrets.join(", ")
    );
    let repo = repo_with(
        &gh,
        &[("stacks/production.yaml", &mapping)],
        &Value::Object(outs),
    );
    sync(&repo, &[]).ok();
    let state = gh.state();
    assert_eq!(
        state["scopes"]["org:acme"]["secrets"]
            .as_object()
            .unwrap()
            .len(),
        130
    );
    assert_eq!(
        state["scopes"]["org:acme"]["variables"]
            .as_object()
            .unwrap()
            .len(),
        41
    );
    assert_eq!(gh.secret("org:acme", "S129").as_deref(), Some("secret-129"));

    gh.reset_log();
    sync(&repo, &[]).ok();
    assert_eq!(
        gh.requests(),
        [
            "GET /orgs/acme/actions/variables?per_page=30",
            "GET /orgs/acme/actions/variables?per_page=30&page=2",
            "GET /orgs/acme/actions/secrets?per_page=100",
            "GET /orgs/acme/actions/secrets?per_page=100&page=2",
        ],
        "four listing pages, nothing written"
    );
}

#[test]
fn api_failures_while_planning_exit_3() {
    let gh = GitHub::start(&[]);
    gh.control(
        "missing",
        json!({"paths": ["/repos/acme/app/environments/staging"]}),
    );
    let mapping = MAPPING.replace(
        "  repo: acme/app\n",
        "  repo: acme/app\n  environment: staging\n",
    );
    let repo = repo_with(
        &gh,
        &[("stacks/production.yaml", &mapping)],
        &outputs(CANARY, "https://api.example.com"),
    );
    let run = sync(&repo, &[]).code(3);
    assert!(
        run.stderr.contains(
            "GET /repos/acme/app/environments/staging/variables: 404 Not Found (not found, or not visible to the token)"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing was written"), "{}", run.stderr);

    let repo = standard(&gh);
    gh.control(
        "faults",
        json!([{"method": "GET", "path": "/variables$", "kind": "403", "times": -1}]),
    );
    let run = sync(&repo, &[]).code(3);
    assert!(
        run.stderr.contains(
            "403 Resource not accessible by personal access token (the token may not write here"
        ),
        "{}",
        run.stderr
    );
    let mut repo = standard(&gh);
    repo.set("GH_TOKEN", "ghp_wrong");
    gh.control("clear-faults", json!({}));
    let run = sync(&repo, &[]).code(3);
    assert!(run.stderr.contains("401 Bad credentials"), "{}", run.stderr);
    assert!(!run.stderr.contains("ghp_wrong"), "{}", run.stderr);
}

#[test]
fn an_empty_value_removes_the_name_stackwire_wrote() {
    let gh = GitHub::start(&[]);
    let mapping =
        "stack: production\nenv:\n  FLAG: { value: enabled }\ngithub:\n  repo: acme/app\n";
    let repo = repo_with(&gh, &[("stacks/production.yaml", mapping)], &json!({}));
    sync(&repo, &[]).ok();
    assert_eq!(gh.variable(REPO, "FLAG").as_deref(), Some("enabled"));
    repo.write(
        "stacks/production.yaml",
        &mapping.replace("{ value: enabled }", "{ value: \"\" }"),
    );
    gh.reset_log();
    let run = sync(&repo, &[]).ok();
    assert!(
        run.stdout.contains(
            "delete     variable  FLAG  empty value: GitHub stores none, and an unset name reads as empty"
        ),
        "{}",
        run.stdout
    );
    assert!(gh.variable(REPO, "FLAG").is_none());
    // The marker, now empty, is removed too.
    assert_eq!(
        gh.writes(),
        [
            "DELETE /repos/acme/app/actions/variables/FLAG",
            "DELETE /repos/acme/app/actions/variables/STACKWIRE_MANAGED_PRODUCTION",
        ]
    );
}
