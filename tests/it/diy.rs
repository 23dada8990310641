//! Issue 3: a local DIY (`file://`) backend read directly, through the real binary.
//!
//! Every repository here has the stand-in pulumi on its children's PATH and logs each run of it,
//! so a test can prove that a direct read ran no pulumi process at all (the binary would give
//! the same outputs, so the outputs alone would not show that the backend was read directly).
//! States are built with `mkstate.py`; each stack's outputs name what was read (`which`).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use crate::support::{Repo, Run, manifest_dir};

const PASSPHRASE: &str = "correct horse battery staple";

/// A repository whose children find the stand-in as `pulumi` and log every run of it.
fn repo() -> Repo {
    let mut repo = Repo::new();
    repo.with_standin();
    repo.standin_log();
    repo
}

/// A spec for stack `proj/dev` whose outputs say `which` backend or file was read.
fn spec(which: &str) -> Value {
    json!({"project": "proj", "stack": "dev", "outputs": {"which": which}})
}

/// `spec(which)` with `extra` keys merged in.
fn spec_with(which: &str, extra: Value) -> Value {
    let mut spec = spec(which);
    for (k, v) in extra.as_object().unwrap() {
        spec[k] = v.clone();
    }
    spec
}

/// `stacks/dev.yaml` reading stack `dev` from the backend at `dir` (relative to the repo root),
/// with the project folder mkstate wrote there, mapping `WHICH` and any `extra_env` lines.
fn mapping(repo: &Repo, dir: &str, extra_env: &str) {
    let head = format!("stack: dev\nproject: {dir}/proj\nbackend: file://{dir}\n");
    repo.write(
        "stacks/dev.yaml",
        &format!("{head}env:\n  WHICH: which\n{extra_env}"),
    );
}

/// Run stackwire and check that it ran no pulumi process.
#[track_caller]
fn direct(repo: &Repo, args: &[&str]) -> Run {
    let run = repo.run(args);
    let calls = repo.invocations();
    assert!(
        calls.is_empty(),
        "a direct read must run no pulumi process, but it ran {calls:?}\nstderr:\n{}",
        run.stderr
    );
    run
}

/// `outputs --json`, read directly.
#[track_caller]
fn outputs(repo: &Repo) -> Value {
    direct(repo, &["outputs", "--json"]).ok().json()
}

/// Which backend or file the outputs came from.
#[track_caller]
fn which(repo: &Repo) -> String {
    outputs(repo)["which"].as_str().unwrap().to_owned()
}

/// Set a file's modification time to `secs` after an arbitrary fixed instant.
fn set_mtime(path: &Path, secs: u64) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs))
        .unwrap();
}

/// The checkpoint file of `proj/dev` in the project layout of the backend at `dir`.
fn checkpoint(repo: &Repo, dir: &str, ext: &str) -> PathBuf {
    repo.path()
        .join(dir)
        .join(format!(".pulumi/stacks/proj/dev.{ext}"))
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

// ---------------------------------------------------------------------------------------------
// Layouts, compression, versions, formatting
// ---------------------------------------------------------------------------------------------

#[test]
fn project_layout_is_read_without_pulumi() {
    let repo = repo();
    repo.mkstate(&spec("project layout"), "backend");
    assert!(checkpoint(&repo, "backend", "json").is_file());
    mapping(&repo, "backend", "");
    assert_eq!(which(&repo), "project layout");
    let env = direct(&repo, &["env"]).ok();
    assert_eq!(env.stdout, "WHICH='project layout'\n");
}

#[test]
fn legacy_layout_without_meta_yaml_is_read() {
    let repo = repo();
    repo.mkstate(&spec_with("legacy", json!({"layout": "legacy"})), "backend");
    assert!(
        repo.path()
            .join("backend/.pulumi/stacks/dev.json")
            .is_file()
    );
    assert!(!repo.path().join("backend/.pulumi/meta.yaml").exists());
    mapping(&repo, "backend", "");
    assert_eq!(which(&repo), "legacy");
}

#[test]
fn meta_yaml_version_decides_the_layout() {
    // One backend holding both a legacy and a project-scoped `dev`: `meta.yaml` picks one.
    let repo = repo();
    repo.mkstate(&spec_with("legacy", json!({"layout": "legacy"})), "backend");
    repo.mkstate(&spec("project"), "backend");
    mapping(&repo, "backend", "");
    let meta = repo.path().join("backend/.pulumi/meta.yaml");
    assert_eq!(std::fs::read_to_string(&meta).unwrap(), "version: 1\n");
    assert_eq!(which(&repo), "project");
    std::fs::write(&meta, "version: 0\n").unwrap();
    assert_eq!(which(&repo), "legacy");
    std::fs::remove_file(&meta).unwrap();
    assert_eq!(
        which(&repo),
        "legacy",
        "no meta.yaml, legacy stacks present"
    );
}

#[test]
fn plain_gzip_and_zstd_checkpoints_are_read() {
    let repo = repo();
    for (compression, ext) in [("none", "json"), ("gzip", "json.gz"), ("zstd", "json.zst")] {
        let dir = format!("b-{compression}");
        repo.mkstate(
            &spec_with(compression, json!({"compression": compression})),
            &dir,
        );
        let file = checkpoint(&repo, &dir, ext);
        assert!(file.is_file(), "{}", file.display());
        mapping(&repo, &dir, "");
        assert_eq!(which(&repo), compression);
    }
}

#[test]
fn newest_of_plain_gzip_and_zstd_wins() {
    let repo = repo();
    for compression in ["none", "gzip", "zstd"] {
        repo.mkstate(
            &spec_with(compression, json!({"compression": compression})),
            "backend",
        );
    }
    mapping(&repo, "backend", "");
    let files = [
        ("none", checkpoint(&repo, "backend", "json")),
        ("gzip", checkpoint(&repo, "backend", "json.gz")),
        ("zstd", checkpoint(&repo, "backend", "json.zst")),
    ];
    // Each in turn is the newest, whatever the order of the names.
    for newest in ["gzip", "none", "zstd", "none"] {
        for (compression, file) in &files {
            set_mtime(file, if *compression == newest { 200 } else { 100 });
        }
        assert_eq!(which(&repo), newest);
    }
}

#[test]
fn checkpoint_versions_3_and_4_are_read() {
    let repo = repo();
    for (version, extra) in [
        ("3", json!({"checkpoint_version": 3})),
        ("4", json!({"features": ["refreshBeforeUpdate"]})),
    ] {
        let dir = format!("b{version}");
        repo.mkstate(&spec_with(&format!("v{version}"), extra), &dir);
        let text = std::fs::read_to_string(checkpoint(&repo, &dir, "json")).unwrap();
        assert!(
            text.starts_with(&format!("{{\"version\":{version},")),
            "{text}"
        );
        mapping(&repo, &dir, "");
        assert_eq!(which(&repo), format!("v{version}"));
        let verbose = direct(&repo, &["-v", "outputs", "--json"]).ok();
        assert!(
            verbose.stderr.contains(&format!(
                "state version {version} of `organization/proj/dev`"
            )),
            "{}",
            verbose.stderr
        );
    }
}

#[test]
fn minified_and_indented_checkpoints_read_alike() {
    let repo = repo();
    let outputs_spec = json!({
        "which": "same",
        "db": {"host": "db.internal", "port": 5432, "tags": ["a", "b"]},
        "ratio": 0.25,
        "secret": {"$secret": "hush"},
    });
    let mut seen = Vec::new();
    for minified in [true, false] {
        let dir = format!("b-{minified}");
        let mut spec = spec_with("", json!({"minified": minified}));
        spec["outputs"] = outputs_spec.clone();
        repo.mkstate(&spec, &dir);
        let text = std::fs::read_to_string(checkpoint(&repo, &dir, "json")).unwrap();
        assert_eq!(
            text.contains("\n    "),
            !minified,
            "minified={minified}: {text}"
        );
        mapping(&repo, &dir, "");
        let run = direct(&repo, &["outputs", "--json", "--show-secrets"]).ok();
        seen.push(run.stdout);
    }
    assert_eq!(seen[0], seen[1]);
    let v: Value = serde_json::from_str(&seen[0]).unwrap();
    assert_eq!(v["db"]["port"], 5432);
    assert_eq!(v["secret"], "hush");
}

#[test]
fn never_deployed_stack_has_no_outputs() {
    let repo = repo();
    // The current CLI writes version 0 with no `latest`; older ones wrote version 3.
    for version in [0, 3] {
        let dir = format!("b{version}");
        repo.mkstate(
            &spec_with(
                "",
                json!({"never_deployed": true, "checkpoint_version": version}),
            ),
            &dir,
        );
        mapping(&repo, &dir, "");
        let run = direct(&repo, &["outputs", "--json"]).ok();
        assert_eq!(run.stdout, "{}\n", "version {version}");
        let table = direct(&repo, &["outputs"]).ok();
        assert!(
            table.stdout.contains("No output values"),
            "{}",
            table.stdout
        );
        let stacks = direct(&repo, &["stacks", "--json"]).ok().json();
        assert_eq!(
            stacks,
            json!([{"name": "dev", "current": false}]),
            "version {version}"
        );
    }
}

#[test]
fn short_stack_name_uses_the_project_of_pulumi_yaml() {
    let repo = repo();
    repo.mkstate(
        &json!({"stack": "dev", "stacks": [
            {"project": "web", "outputs": {"which": "web"}},
            {"project": "api", "outputs": {"which": "api"}},
        ]}),
        "backend",
    );
    repo.write(
        "stacks/dev.yaml",
        "stack: dev\nproject: backend/api\nbackend: file://backend\nenv:\n  WHICH: which\n",
    );
    assert_eq!(which(&repo), "api");
}

#[test]
fn qualified_stack_name_picks_its_project_without_pulumi_yaml() {
    let repo = repo();
    repo.mkstate(
        &json!({"stack": "dev", "project_dir": null, "stacks": [
            {"project": "web", "outputs": {"which": "web"}},
            {"project": "api", "outputs": {"which": "api"}},
        ]}),
        "backend",
    );
    for project in ["web", "api"] {
        repo.write(
            "stacks/dev.yaml",
            &format!(
                "stack: organization/{project}/dev\nbackend: file://backend\nenv:\n  WHICH: which\n"
            ),
        );
        assert!(!repo.path().join("Pulumi.yaml").exists());
        assert_eq!(which(&repo), project);
    }
}

// ---------------------------------------------------------------------------------------------
// Backend precedence and --via-cli
// ---------------------------------------------------------------------------------------------

/// Four backends with the same stack `proj/dev`, each saying which it is, and a repository root
/// `root/` (run with `-C root`, so the cwd is not the root) whose project folder `root/app` has
/// `backend.url` pointing at the `project` one. Returns the absolute URLs of `flag` and `env`.
fn precedence_repo() -> (Repo, String, String) {
    let repo = repo();
    for which in ["mapping", "flag", "env", "project"] {
        let out = if which == "mapping" {
            "root/b-mapping".to_owned()
        } else {
            format!("b-{which}")
        };
        let project_dir = if which == "project" {
            json!("../root/app")
        } else {
            json!(null)
        };
        repo.mkstate(
            &spec_with(
                which,
                json!({"project_dir": project_dir, "backend_url_in_project": which == "project"}),
            ),
            &out,
        );
    }
    assert!(repo.read("root/app/Pulumi.yaml").contains("b-project"));
    let url = |which: &str| format!("file://{}", repo.path().join(which).display());
    let (flag, env) = (url("b-flag"), url("b-env"));
    (repo, flag, env)
}

/// The root's mapping, with `backend: file://b-mapping` (relative to the root) or none.
fn precedence_mapping(repo: &Repo, pinned: bool) {
    let backend = if pinned {
        "backend: file://b-mapping\n"
    } else {
        ""
    };
    repo.write(
        "root/stacks/dev.yaml",
        &format!("stack: dev\nproject: app\n{backend}env:\n  WHICH: which\n"),
    );
}

#[track_caller]
fn which_in_root(repo: &Repo, args: &[&str]) -> String {
    let mut all = vec!["-C", "root"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["outputs", "--json"]);
    direct(repo, &all).ok().json()["which"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn pulumi_yaml_backend_url_is_used_when_nothing_else_is_set() {
    let (repo, _, _) = precedence_repo();
    precedence_mapping(&repo, false);
    assert_eq!(which_in_root(&repo, &[]), "project");
}

#[test]
fn pulumi_backend_url_beats_pulumi_yaml() {
    let (mut repo, _, env) = precedence_repo();
    precedence_mapping(&repo, false);
    repo.set("PULUMI_BACKEND_URL", env);
    assert_eq!(which_in_root(&repo, &[]), "env");
}

#[test]
fn backend_flag_beats_pulumi_backend_url() {
    let (mut repo, flag, env) = precedence_repo();
    precedence_mapping(&repo, false);
    repo.set("PULUMI_BACKEND_URL", env);
    assert_eq!(which_in_root(&repo, &["--backend", &flag]), "flag");
}

#[test]
fn mapping_backend_beats_the_flag_and_is_relative_to_the_repo_root() {
    let (mut repo, flag, env) = precedence_repo();
    precedence_mapping(&repo, true);
    repo.set("PULUMI_BACKEND_URL", env);
    assert!(
        !repo.path().join("b-mapping").exists(),
        "only root/b-mapping exists, so the cwd cannot be the base"
    );
    assert_eq!(which_in_root(&repo, &["--backend", &flag]), "mapping");
}

#[test]
fn via_cli_forces_the_pulumi_binary() {
    let repo = repo();
    repo.mkstate(&spec("cli"), "backend");
    mapping(&repo, "backend", "");
    assert_eq!(which(&repo), "cli");
    let run = repo.run(&["--via-cli", "outputs", "--json"]).ok();
    assert_eq!(run.json()["which"], "cli");
    let calls = repo.invocations();
    assert!(
        calls
            .iter()
            .any(|argv| argv.windows(2).any(|w| w == ["stack", "export"])),
        "{calls:?}"
    );
}

#[test]
fn non_file_backend_uses_the_pulumi_binary() {
    let mut repo = repo();
    repo.mkstate(&spec("unused"), "backend");
    repo.write(
        "stacks/dev.yaml",
        "stack: dev\nproject: backend/proj\nenv:\n  WHICH: which\n",
    );
    repo.set("PULUMI_BACKEND_URL", "s3://bucket/prefix");
    let run = repo.run(&["outputs", "--json"]);
    assert!(!repo.invocations().is_empty(), "{}", run.stderr);
}

// ---------------------------------------------------------------------------------------------
// Real pulumi checkpoint files
// ---------------------------------------------------------------------------------------------

/// The backend of the three real checkpoints, copied verbatim as stacks `v3`, `v4`, `secrets`.
fn fixture_repo() -> Repo {
    let repo = repo();
    let fixture = |name: &str| {
        manifest_dir()
            .join("tests/fixtures/pulumi")
            .join(name)
            .display()
            .to_string()
    };
    repo.mkstate(
        &json!({"project": "proj", "stacks": [
            {"stack": "v3", "checkpoint_file": fixture("checkpoint-v3.json")},
            {"stack": "v4", "checkpoint_file": fixture("checkpoint-v4.json")},
            {"stack": "secrets", "checkpoint_file": fixture("checkpoint-secrets.json")},
        ]}),
        "backend",
    );
    for stack in ["v3", "v4", "secrets"] {
        repo.write(
            &format!("stacks/{stack}.yaml"),
            "project: backend/proj\nbackend: file://backend\nenv: {}\n",
        );
    }
    repo
}

#[test]
fn real_checkpoints_are_listed_with_their_resource_counts() {
    let repo = fixture_repo();
    let run = direct(&repo, &["-s", "v3", "stacks", "--json"]).ok();
    // Zero-valued manifest times: no `lastUpdate`, as `pulumi stack ls --json` leaves it out.
    assert_eq!(
        run.json(),
        json!([
            {"name": "secrets", "current": false, "resourceCount": 30},
            {"name": "v3", "current": false, "resourceCount": 30},
            {"name": "v4", "current": false, "resourceCount": 30},
        ])
    );
}

#[test]
fn real_checkpoints_have_no_stack_outputs() {
    let repo = fixture_repo();
    for stack in ["v3", "v4", "secrets"] {
        let run = direct(&repo, &["-s", stack, "outputs", "--json"]).ok();
        assert_eq!(run.stdout, "{}\n", "{stack}");
        let shown = direct(&repo, &["-s", stack, "outputs", "--json", "--show-secrets"]).ok();
        assert_eq!(shown.stdout, "{}\n", "{stack}");
    }
}

// ---------------------------------------------------------------------------------------------
// Passphrase secrets
// ---------------------------------------------------------------------------------------------

/// A passphrase-encrypted stack with a secret output and a secret config value, and a mapping
/// with two file targets, `.env.deploy` (existing) and `out/app.env` (not yet).
fn secret_repo() -> Repo {
    let repo = repo();
    repo.mkstate(
        &spec_with(
            "secret",
            json!({
                "passphrase": PASSPHRASE,
                "outputs": {"which": "secret", "token": {"$secret": "tok-Canary-123"}},
                "config": {"proj:apiKey": {"$secret": "key-Canary-456"}},
            }),
        ),
        "backend",
    );
    mapping(
        &repo,
        "backend",
        concat!(
            "  TOKEN: token\n  API_KEY: { config: apiKey }\n",
            "files:\n  - path: .env.deploy\n  - path: out/app.env\n",
        ),
    );
    repo.write(".env.deploy", "# kept as is\nKEEP=1\n");
    repo
}

fn without_passphrase(repo: &mut Repo) {
    repo.env.remove("PULUMI_CONFIG_PASSPHRASE");
    repo.env.remove("PULUMI_CONFIG_PASSPHRASE_FILE");
}

fn with_wrong_passphrase(repo: &mut Repo) {
    repo.set("PULUMI_CONFIG_PASSPHRASE", "not the passphrase");
}

/// Changes a repository's environment.
type Setting = fn(&mut Repo);

/// The passphrase settings that cannot decrypt.
const BAD_PASSPHRASES: [(&str, Setting); 2] = [
    ("missing", without_passphrase),
    ("wrong", with_wrong_passphrase),
];

#[track_caller]
fn assert_passphrase_error(run: &Run, case: &str) {
    assert_eq!(run.code, 2, "{case}: {}", run.stderr);
    assert!(
        run.stderr.contains("PULUMI_CONFIG_PASSPHRASE"),
        "{case}: the error names the variable to set: {}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(!run.stdout.contains("Canary"), "{}", run.stdout);
}

#[test]
fn show_secrets_without_the_right_passphrase_is_a_clear_error() {
    let mut repo = secret_repo();
    for (case, set) in BAD_PASSPHRASES {
        set(&mut repo);
        for args in [
            &["env", "--show-secrets"][..],
            &["outputs", "--json", "--show-secrets"],
        ] {
            let run = direct(&repo, args);
            assert_passphrase_error(&run, case);
            assert!(run.stdout.is_empty(), "{case} {args:?}: {}", run.stdout);
        }
    }
}

#[test]
fn render_without_the_right_passphrase_writes_nothing() {
    let mut repo = secret_repo();
    let before = std::fs::read(repo.path().join(".env.deploy")).unwrap();
    for (case, set) in BAD_PASSPHRASES {
        set(&mut repo);
        let run = direct(&repo, &["render"]);
        assert_passphrase_error(&run, case);
        assert_eq!(
            std::fs::read(repo.path().join(".env.deploy")).unwrap(),
            before,
            "{case}: an existing target is left byte-identical"
        );
        assert!(!repo.path().join("out").exists(), "{case}: nothing created");
    }
    // The same render with the passphrase writes both files.
    repo.set("PULUMI_CONFIG_PASSPHRASE", PASSPHRASE);
    direct(&repo, &["render"]).ok();
    assert!(repo.read("out/app.env").contains("tok-Canary-123"));
    assert!(repo.read(".env.deploy").contains("key-Canary-456"));
}

#[test]
fn printing_needs_no_passphrase() {
    let mut repo = secret_repo();
    for (case, set) in BAD_PASSPHRASES {
        set(&mut repo);
        let outputs = direct(&repo, &["outputs", "--json"]).ok().json();
        assert_eq!(
            outputs,
            json!({"which": "secret", "token": "[secret]"}),
            "{case}"
        );
        let env = direct(&repo, &["env", "--format", "json"]).ok().json();
        assert_eq!(
            env,
            json!({"WHICH": "secret", "TOKEN": "[secret]", "API_KEY": "[secret]"}),
            "{case}"
        );
    }
}

#[test]
fn passphrase_is_decrypted_from_the_environment() {
    let mut repo = secret_repo();
    repo.set("PULUMI_CONFIG_PASSPHRASE", PASSPHRASE);
    let env = direct(&repo, &["env", "--format", "json", "--show-secrets"])
        .ok()
        .json();
    assert_eq!(env["TOKEN"], "tok-Canary-123");
    assert_eq!(env["API_KEY"], "key-Canary-456");
}

#[test]
fn passphrase_file_is_read() {
    let mut repo = secret_repo();
    let file = repo.write("phrase.txt", &format!("{PASSPHRASE}\n"));
    repo.env.remove("PULUMI_CONFIG_PASSPHRASE");
    repo.set("PULUMI_CONFIG_PASSPHRASE_FILE", file);
    let env = direct(&repo, &["env", "--format", "json", "--show-secrets"])
        .ok()
        .json();
    assert_eq!(env["TOKEN"], "tok-Canary-123");
    assert_eq!(env["API_KEY"], "key-Canary-456");
}

// ---------------------------------------------------------------------------------------------
// Stack config
// ---------------------------------------------------------------------------------------------

/// A stack (b64 provider, so no passphrase) with the given config and mapped variables.
fn config_repo(config: Value, env: &str) -> Repo {
    let repo = repo();
    repo.mkstate(&spec_with("config", json!({"config": config})), "backend");
    mapping(&repo, "backend", env);
    repo
}

#[test]
fn config_plain_value_by_namespaced_key() {
    let repo = config_repo(
        json!({"proj:region": "eu-west-1", "aws:region": "us-east-1"}),
        "  REGION: { config: \"proj:region\" }\n  AWS_REGION: { config: \"aws:region\" }\n",
    );
    let env = direct(&repo, &["env", "--format", "json"]).ok().json();
    assert_eq!(env["REGION"], "eu-west-1");
    assert_eq!(env["AWS_REGION"], "us-east-1");
}

#[test]
fn config_nested_object_is_reached_with_dots() {
    let repo = config_repo(
        json!({"proj:db": {"host": "db.internal", "port": 5432, "replicas": [{"zone": "b"}]}}),
        concat!(
            "  DB_HOST: { config: \"proj:db.host\" }\n",
            "  DB_PORT: { config: db.port }\n",
            "  DB: { config: db }\n",
        ),
    );
    let env = direct(&repo, &["env", "--format", "json"]).ok().json();
    assert_eq!(env["DB_HOST"], "db.internal");
    assert_eq!(env["DB_PORT"], "5432");
    assert_eq!(
        env["DB"],
        r#"{"host":"db.internal","port":5432,"replicas":[{"zone":"b"}]}"#
    );
}

#[test]
fn config_bare_keys_are_in_the_project_namespace() {
    // A bare key in the mapping and a bare key in the stack config file both mean `proj:`.
    let repo = config_repo(
        json!({"proj:region": "eu-west-1", "owner": "team-a"}),
        "  REGION: { config: region }\n  OWNER: { config: \"proj:owner\" }\n",
    );
    let env = direct(&repo, &["env", "--format", "json"]).ok().json();
    assert_eq!(env["REGION"], "eu-west-1");
    assert_eq!(env["OWNER"], "team-a");
}

#[test]
fn config_secure_value_is_decrypted_only_when_shown() {
    let mut repo = secret_repo();
    let masked = direct(&repo, &["env", "--format", "json"]).ok().json();
    assert_eq!(masked["API_KEY"], "[secret]");
    repo.set("PULUMI_CONFIG_PASSPHRASE", PASSPHRASE);
    let shown = direct(&repo, &["env", "--format", "json", "--show-secrets"])
        .ok()
        .json();
    assert_eq!(shown["API_KEY"], "key-Canary-456");
    assert!(
        repo.read("backend/proj/Pulumi.dev.yaml")
            .contains("secure: v1:"),
        "the config file holds ciphertext"
    );
}

#[test]
fn esc_environment_imports_warn_that_they_need_pulumi() {
    let repo = config_repo(json!({}), "  REGION: { config: region }\n");
    repo.write(
        "backend/proj/Pulumi.dev.yaml",
        "environment:\n  - acme/shared-settings\nconfig:\n  proj:region: eu-west-1\n",
    );
    let run = direct(&repo, &["env", "--format", "json"]).ok();
    assert_eq!(run.json()["REGION"], "eu-west-1");
    assert!(
        run.stderr.contains("acme/shared-settings")
            && run.stderr.contains("ESC")
            && run.stderr.contains("pulumi binary"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Secrets providers only pulumi can use
// ---------------------------------------------------------------------------------------------

/// A stack whose checkpoint says its secrets are encrypted by the Pulumi Cloud `service`
/// provider, with one (opaque) ciphertext secret output.
fn service_provider_repo() -> Repo {
    let repo = repo();
    repo.mkstate(
        &spec_with(
            "service",
            json!({"outputs": {"which": "service", "token": {"$secret": "t"}}}),
        ),
        "backend",
    );
    let file = checkpoint(&repo, "backend", "json");
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let latest = &mut doc["checkpoint"]["latest"];
    latest["secrets_providers"] = json!({"type": "service", "state": {
        "url": "https://api.pulumi.com", "owner": "acme", "project": "proj", "stack": "dev"}});
    let token = &mut latest["resources"][0]["outputs"]["token"];
    assert!(token["ciphertext"].is_string(), "{token}");
    token["ciphertext"] = json!("AAABAMn0d8wDq6/bzS8hXpY2LRcmgTmRUc2VjcmV0");
    std::fs::write(&file, serde_json::to_string(&doc).unwrap()).unwrap();
    mapping(&repo, "backend", "  TOKEN: token\n");
    repo
}

#[test]
fn service_provider_stack_prints_masked_values_directly() {
    let repo = service_provider_repo();
    assert_eq!(
        outputs(&repo),
        json!({"which": "service", "token": "[secret]"})
    );
}

#[test]
fn service_provider_stack_falls_back_to_pulumi_for_plaintext_and_says_why() {
    let repo = service_provider_repo();
    let run = repo.run(&["outputs", "--json", "--show-secrets"]);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let calls = repo.invocations();
    assert!(
        calls
            .iter()
            .any(|argv| argv.windows(2).any(|w| w == ["stack", "export"])),
        "pulumi must run: {calls:?}\n{}",
        run.stderr
    );
    // Whether or not pulumi then succeeds (the stand-in has no `service` provider), the user is
    // told why the binary was used.
    assert!(
        run.stderr.contains("`service`") && run.stderr.contains("only pulumi can decrypt"),
        "the fallback must say why (exit {}):\n{}",
        run.code,
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Broken state files: clear errors naming the file, exit 2, never a panic
// ---------------------------------------------------------------------------------------------

/// A valid `proj/dev` backend whose state file `name` (`dev.json`, `dev.json.gz`, …) is then
/// rewritten by `breaks`; returns the repository and the path of the broken file.
fn broken_repo(name: &str, breaks: fn(&[u8]) -> Vec<u8>) -> (Repo, PathBuf) {
    let repo = repo();
    let compression = match name.rsplit('.').next() {
        Some("gz") => "gzip",
        Some("zst") => "zstd",
        _ => "none",
    };
    repo.mkstate(
        &spec_with("broken", json!({"compression": compression})),
        "backend",
    );
    mapping(&repo, "backend", "");
    let file = repo.path().join("backend/.pulumi/stacks/proj").join(name);
    let good = std::fs::read(&file).unwrap();
    std::fs::write(&file, breaks(&good)).unwrap();
    (repo, file)
}

fn not_json(_: &[u8]) -> Vec<u8> {
    b"{\"version\": 3, oops".to_vec()
}

fn first_half(good: &[u8]) -> Vec<u8> {
    good[..good.len() / 2].to_vec()
}

fn version_9(good: &[u8]) -> Vec<u8> {
    let text = String::from_utf8(good.to_vec()).unwrap();
    assert!(text.starts_with("{\"version\":3,"), "{text}");
    text.replacen("{\"version\":3,", "{\"version\":9,", 1)
        .into_bytes()
}

/// The compression header kept, then bytes that are no valid stream.
fn junk_after_magic(good: &[u8]) -> Vec<u8> {
    let mut junk = good[..4].to_vec();
    junk.extend_from_slice(&[0xff; 32]);
    junk
}

/// `outputs` and `env` fail with exit 2, an error naming `file` and saying `expect`, no panic.
#[track_caller]
fn assert_clear_error(repo: &Repo, file: &Path, expect: &str) {
    for args in [&["outputs", "--json"][..], &["env", "--show-secrets"]] {
        let run = direct(repo, args);
        assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
        assert!(
            run.stderr.contains(&file.display().to_string()),
            "{args:?}: the error names {}: {}",
            file.display(),
            run.stderr
        );
        assert!(
            run.stderr.contains(expect),
            "{args:?}: expected {expect:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn corrupt_state_file_is_a_clear_error() {
    let (repo, file) = broken_repo("dev.json", not_json);
    assert_clear_error(&repo, &file, "not valid JSON");
}

#[test]
fn truncated_state_file_is_a_clear_error() {
    let (repo, file) = broken_repo("dev.json", first_half);
    assert_clear_error(&repo, &file, "not valid JSON");
}

#[test]
fn empty_state_file_is_a_clear_error() {
    let (repo, file) = broken_repo("dev.json", |_| Vec::new());
    assert_clear_error(&repo, &file, "not valid JSON");
}

#[test]
fn binary_state_file_is_a_clear_error() {
    let (repo, file) = broken_repo("dev.json", |_| vec![0xff, 0xfe, 0x00, 0x7b]);
    assert_clear_error(&repo, &file, "not UTF-8");
}

#[test]
fn state_file_of_a_newer_version_is_a_clear_error() {
    let (repo, file) = broken_repo("dev.json", version_9);
    assert_clear_error(
        &repo,
        &file,
        "state version 9 is newer than stackwire understands",
    );
}

#[test]
fn state_file_that_is_not_a_checkpoint_is_a_clear_error() {
    let (repo, file) = broken_repo("dev.json", |_| b"{\"hello\": [1, 2]}".to_vec());
    assert_clear_error(&repo, &file, "not a Pulumi state");
}

#[test]
fn corrupt_gzip_state_file_is_a_clear_error() {
    let (repo, file) = broken_repo("dev.json.gz", junk_after_magic);
    assert_clear_error(&repo, &file, "not a valid gzip file");
}

#[test]
fn truncated_gzip_state_file_is_a_clear_error() {
    let (repo, file) = broken_repo("dev.json.gz", first_half);
    assert_clear_error(&repo, &file, "not a valid gzip file");
}

#[test]
fn corrupt_zstd_state_file_is_a_clear_error() {
    let (repo, file) = broken_repo("dev.json.zst", junk_after_magic);
    assert_clear_error(&repo, &file, "not a valid zstd file");
}

#[test]
fn truncated_zstd_state_file_is_a_clear_error() {
    let (repo, file) = broken_repo("dev.json.zst", first_half);
    assert_clear_error(&repo, &file, "not a valid zstd file");
}

#[test]
fn unreadable_state_file_is_a_clear_error() {
    use std::os::unix::fs::PermissionsExt as _;
    let (repo, file) = broken_repo("dev.json", <[u8]>::to_vec);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).unwrap();
    if is_root() {
        // chmod 000 does not stop root from reading: the stack reads normally, without a panic.
        assert_eq!(which(&repo), "broken");
        return;
    }
    assert_clear_error(&repo, &file, "cannot read");
}

#[test]
fn stacks_with_a_broken_state_file_is_a_clear_error() {
    for (name, breaks, expect) in [
        (
            "dev.json",
            not_json as fn(&[u8]) -> Vec<u8>,
            "not valid JSON",
        ),
        ("dev.json", version_9, "state version 9"),
        ("dev.json.gz", junk_after_magic, "not a valid gzip file"),
        ("dev.json.gz", first_half, "not a valid gzip file"),
        ("dev.json.zst", junk_after_magic, "not a valid zstd file"),
        ("dev.json.zst", first_half, "not a valid zstd file"),
    ] {
        let (repo, file) = broken_repo(name, breaks);
        let run = direct(&repo, &["stacks", "--json"]);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert!(
            run.stderr.contains(&file.display().to_string()) && run.stderr.contains(expect),
            "{name}: {}",
            run.stderr
        );
        assert_eq!(run.code, 2, "{name} ({expect}): {}", run.stderr);
    }
}
