//! The real pulumi CLI (built from source by `scripts/install-pulumi`) for the tests: where it
//! is, the offline environment it runs in, and Pulumi YAML projects deployed with it.
//!
//! `scripts/test` installs it and sets `STACKWIRE_TEST_PULUMI_DIR`; a bare `cargo test` finds
//! it in `.tools/bin/` when it was installed before. A test that needs it and cannot find it
//! fails, naming the script that installs it: it never passes without having run it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use super::{Repo, Run, manifest_dir};

/// The folder holding `pulumi` and `pulumi-language-yaml`.
pub(crate) fn pulumi_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::var_os("STACKWIRE_TEST_PULUMI_DIR")
            .map_or_else(|| manifest_dir().join(".tools/bin"), PathBuf::from);
        for bin in ["pulumi", "pulumi-language-yaml"] {
            assert!(
                dir.join(bin).is_file(),
                "the real pulumi CLI is not installed: {} is missing.\n\
                 Run `scripts/install-pulumi` (or the whole suite with `scripts/test`), \
                 which builds it from the Go module proxy into .tools/bin/.",
                dir.join(bin).display()
            );
        }
        dir
    })
}

/// The real `pulumi` binary.
pub(crate) fn pulumi_bin() -> PathBuf {
    pulumi_dir().join("pulumi")
}

/// The version the real CLI reports, as pinned in `tools/pulumi-cli/go.mod`.
pub(crate) fn pinned_version() -> String {
    let gomod = std::fs::read_to_string(manifest_dir().join("tools/pulumi-cli/go.mod")).unwrap();
    gomod
        .lines()
        .map(str::split_whitespace)
        .find_map(|mut words| {
            (words.next() == Some("github.com/pulumi/pulumi/pkg/v3"))
                .then(|| words.next().map(str::to_owned))
                .flatten()
        })
        .expect("pulumi/pkg/v3 in tools/pulumi-cli/go.mod")
}

/// What keeps the real CLI offline and out of the user's `~/.pulumi`.
pub(crate) const OFFLINE: &[(&str, &str)] = &[
    ("PULUMI_SKIP_UPDATE_CHECK", "true"),
    ("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true"),
    ("PULUMI_DISABLE_REGISTRY_RESOLVE", "true"),
    ("PULUMI_SKIP_CONFIRMATIONS", "true"),
];

impl Repo {
    /// Put the real pulumi CLI (and its YAML language host) first on the children's PATH,
    /// offline, with its home (plugins, workspaces, logs) inside the repository.
    pub(crate) fn with_pulumi(&mut self) -> &mut Self {
        let mut path = pulumi_dir().as_os_str().to_owned();
        path.push(":");
        path.push(std::env::var_os("PATH").unwrap_or_default());
        self.env.insert("PATH".to_owned(), path);
        let home = self.path().join("home/.pulumi");
        self.env
            .insert("PULUMI_HOME".to_owned(), home.into_os_string());
        for (name, value) in OFFLINE {
            self.env.insert((*name).to_owned(), (*value).into());
        }
        self
    }

    /// An empty DIY backend in `backend/` as `PULUMI_BACKEND_URL`, and its passphrase.
    pub(crate) fn with_diy_backend(&mut self, passphrase: &str) -> &mut Self {
        std::fs::create_dir_all(self.path().join("backend")).unwrap();
        let url = format!("file://{}", self.path().join("backend").display());
        self.set("PULUMI_BACKEND_URL", url)
            .set("PULUMI_CONFIG_PASSPHRASE", passphrase)
    }

    /// `pulumi stack output --json --show-secrets` of `stack` in `dir`, parsed.
    #[track_caller]
    pub(crate) fn revealed_outputs(&self, dir: &str, stack: &str) -> serde_json::Value {
        let args = [
            "stack",
            "output",
            "--json",
            "--show-secrets",
            "--stack",
            stack,
        ];
        serde_json::from_str(&self.pulumi_ok(dir, &args)).unwrap()
    }

    /// [`Repo::with_pulumi`] behind the spy (`tests/pulumi-spy/pulumi`), first on PATH, which
    /// logs each run as the stand-in does ([`Repo::invocations`]) and then execs the real CLI.
    pub(crate) fn with_pulumi_spy(&mut self) -> &mut Self {
        self.with_pulumi();
        let bin = self.path().join("spy");
        std::fs::create_dir_all(&bin).unwrap();
        let link = bin.join("pulumi");
        if !link.exists() {
            std::os::unix::fs::symlink(manifest_dir().join("tests/pulumi-spy/pulumi"), &link)
                .unwrap();
        }
        let mut path = bin.into_os_string();
        path.push(":");
        path.push(&self.env["PATH"]);
        self.env.insert("PATH".to_owned(), path);
        self.env
            .insert("PULUMI_SPY_REAL".to_owned(), pulumi_bin().into_os_string());
        self.standin_log();
        self
    }

    /// Run the real pulumi with `args` in `dir` (relative to the repository), with the
    /// repository's environment: what the user would type.
    pub(crate) fn pulumi(&self, dir: &str, args: &[&str]) -> Run {
        let out = Command::new(pulumi_bin())
            .arg("--non-interactive")
            .args(args)
            .current_dir(self.path().join(dir))
            .env_clear()
            .envs(&self.env)
            .stdin(Stdio::null())
            .output()
            .expect("run the real pulumi");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// [`Repo::pulumi`], which must succeed; its stdout.
    #[track_caller]
    pub(crate) fn pulumi_ok(&self, dir: &str, args: &[&str]) -> String {
        let run = self.pulumi(dir, args);
        assert_eq!(
            run.code, 0,
            "pulumi {args:?} in {dir} failed\nstdout:\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        );
        run.stdout
    }

    /// Write `program` as `dir/Pulumi.yaml`, create `stack` there when it does not exist,
    /// set `config` (`(key, value, secret)`, `--path` keys allowed) and `pulumi up` it.
    #[track_caller]
    pub(crate) fn deploy_yaml(
        &self,
        dir: &str,
        stack: &str,
        program: &str,
        config: &[(&str, &str, bool)],
    ) {
        self.write(&format!("{dir}/Pulumi.yaml"), program);
        let listed = self.pulumi_ok(dir, &["stack", "ls", "--json"]);
        let short = stack.rsplit('/').next().unwrap_or(stack);
        if !listed.contains(&format!("\"name\": \"{short}\"")) {
            self.pulumi_ok(dir, &["stack", "init", stack]);
        }
        self.set_config(dir, stack, config);
        self.pulumi_ok(dir, &["up", "--yes", "--skip-preview", "--stack", stack]);
    }

    /// `pulumi config set [--secret] [--path] KEY VALUE` for each entry.
    #[track_caller]
    pub(crate) fn set_config(&self, dir: &str, stack: &str, config: &[(&str, &str, bool)]) {
        for (key, value, secret) in config {
            let mut args = vec!["config", "set", "--stack", stack];
            if *secret {
                args.push("--secret");
            }
            if key.contains('.') || key.contains('[') {
                args.push("--path");
            }
            args.extend(["--", key, value]);
            self.pulumi_ok(dir, &args);
        }
    }

    /// `pulumi stack import` of a `stack export` document with `outputs` as the Stack
    /// resource's outputs (plaintext secrets as `{sig, plaintext}`), for shapes a YAML program
    /// cannot produce (a secret inside a plain object): the CLI encrypts them itself.
    #[track_caller]
    pub(crate) fn import_outputs(&self, dir: &str, stack: &str, outputs: &serde_json::Value) {
        let text = self.pulumi_ok(dir, &["stack", "export", "--stack", stack]);
        let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let resources = doc["deployment"]["resources"].as_array_mut().unwrap();
        let root = resources
            .iter_mut()
            .find(|r| r["type"] == "pulumi:pulumi:Stack")
            .expect("a Stack resource: deploy the project first");
        root["outputs"] = outputs.clone();
        let file = self
            .path()
            .join(format!("{}.import.json", stack.replace('/', "_")));
        std::fs::write(&file, doc.to_string()).unwrap();
        let file = file.display().to_string();
        self.pulumi_ok(dir, &["stack", "import", "--stack", stack, "--file", &file]);
    }
}

/// `name: <project>, runtime: yaml` and the rest of a Pulumi YAML program.
pub(crate) fn yaml_program(project: &str, body: &str) -> String {
    format!("name: {project}\nruntime: yaml\n{body}")
}
