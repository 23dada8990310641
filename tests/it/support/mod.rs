//! Shared test support: a temporary repository, the stackwire binary run as a child with a
//! scrubbed environment, the real pulumi CLI (`pulumi.rs`) or the stand-in `pulumi` put on the
//! child's PATH only.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

mod pulumi;
pub(crate) use pulumi::*;

/// The signature key and secret signature of pulumi's secret envelopes.
pub(crate) const SIG_KEY: &str = "4dabf18193072939515e22adb298388d";
pub(crate) const SIG_SECRET: &str = "1b47061264138c4ac30d75fd1eb44270";

/// The project root.
pub(crate) fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The stand-in pulumi script.
pub(crate) fn standin() -> PathBuf {
    manifest_dir().join("tests/pulumi-stand-in/pulumi")
}

/// A finished stackwire run.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    #[track_caller]
    pub(crate) fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub(crate) fn code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// A temporary repository root with `stacks/`, and the environment its children get.
pub(crate) struct Repo {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) env: BTreeMap<String, OsString>,
}

impl Repo {
    pub(crate) fn new() -> Self {
        Self::in_dir(tempfile::tempdir().expect("tempdir"))
    }

    /// A repository in `dir`.
    pub(crate) fn in_dir(dir: tempfile::TempDir) -> Self {
        std::fs::create_dir_all(dir.path().join("stacks")).unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        let mut env = BTreeMap::new();
        env.insert(
            "PATH".to_owned(),
            std::env::var_os("PATH").unwrap_or_default(),
        );
        env.insert("HOME".to_owned(), dir.path().join("home").into_os_string());
        env.insert("LANG".to_owned(), "C.UTF-8".into());
        Self { dir, env }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Write `content` to `rel` under the repository, creating folders.
    pub(crate) fn write(&self, rel: &str, content: &str) -> PathBuf {
        let path = self.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path
    }

    pub(crate) fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    /// Set a variable for the children.
    pub(crate) fn set(&mut self, name: &str, value: impl Into<OsString>) -> &mut Self {
        self.env.insert(name.to_owned(), value.into());
        self
    }

    /// Put the stand-in pulumi first on the children's PATH as `pulumi`.
    pub(crate) fn with_standin(&mut self) -> &mut Self {
        let bin = self.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let link = bin.join("pulumi");
        if !link.exists() {
            std::os::unix::fs::symlink(standin(), &link).unwrap();
        }
        let mut path = bin.into_os_string();
        path.push(":");
        path.push(std::env::var_os("PATH").unwrap_or_default());
        self.env.insert("PATH".to_owned(), path);
        self
    }

    /// A log file the stand-in appends its invocations to.
    pub(crate) fn standin_log(&mut self) -> PathBuf {
        let log = self.path().join("standin.log");
        self.set("STANDIN_LOG", log.clone());
        log
    }

    /// The stand-in invocations logged so far (argv of each).
    pub(crate) fn invocations(&self) -> Vec<Vec<String>> {
        let Ok(text) = std::fs::read_to_string(self.path().join("standin.log")) else {
            return Vec::new();
        };
        text.lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                v["argv"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_owned())
                    .collect()
            })
            .collect()
    }

    /// Run stackwire with `args` in the repository root.
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, None)
    }

    /// [`Repo::run`] with no pulumi anywhere on PATH: what stackwire does then cannot involve it.
    pub(crate) fn run_without_pulumi(&self, args: &[&str]) -> Run {
        let mut env = self.env.clone();
        env.insert("PATH".to_owned(), "/usr/bin:/bin".into());
        self.run_in(args, None, &env)
    }

    pub(crate) fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Run {
        self.run_in(args, stdin, &self.env)
    }

    fn run_in(&self, args: &[&str], stdin: Option<&str>, env: &BTreeMap<String, OsString>) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_stackwire"));
        cmd.args(args)
            .current_dir(self.path())
            .env_clear()
            .envs(env);
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn stackwire");
        if let Some(input) = stdin {
            use std::io::Write as _;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Build a DIY backend (and project files) with the stand-in's `mkstate.py`.
    pub(crate) fn mkstate(&self, spec: &Value, out: &str) -> PathBuf {
        let dir = self.path().join(out);
        let spec_file = self
            .path()
            .join(format!("{}.spec.json", out.replace('/', "_")));
        std::fs::write(&spec_file, serde_json::to_string(spec).unwrap()).unwrap();
        let status = Command::new("python3")
            .arg(manifest_dir().join("tests/pulumi-stand-in/mkstate.py"))
            .arg(&spec_file)
            .arg(&dir)
            .status()
            .expect("run mkstate.py");
        assert!(status.success(), "mkstate.py failed for {spec}");
        dir
    }
}

/// A secret envelope with its plaintext (as `stack export --show-secrets` writes it).
pub(crate) fn secret(value: Value) -> Value {
    json!({SIG_KEY: SIG_SECRET, "plaintext": value.to_string()})
}

/// A `pulumi stack export`-shaped document whose Stack resource has `outputs`.
pub(crate) fn export_doc(outputs: Value) -> Value {
    json!({
        "version": 3,
        "deployment": {
            "manifest": {"time": "2026-11-01T10:00:00.000Z", "magic": "", "version": "v3.259.0"},
            "secrets_providers": {"type": "passphrase", "state": {"salt": "v1:ThS5UPxP9qc=:v1:UZYAXF+ylaJ0rGhv:9OTvBnOEDFgxs7btjzSu+LZ470vLpg=="}},
            "resources": [
                {"urn": "urn:pulumi:dev::app::pulumi:pulumi:Stack::app-dev", "custom": false, "type": "pulumi:pulumi:Stack", "outputs": outputs},
                {"urn": "urn:pulumi:dev::app::pulumi:providers:aws::default_6_0_0", "custom": true, "id": "0c1f3a2e", "type": "pulumi:providers:aws"}
            ]
        }
    })
}

/// Copy the folder `from` into `to`, recursively.
pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
