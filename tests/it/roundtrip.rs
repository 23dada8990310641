//! Round trip of adversarial values through the real binary.
//!
//! Every value printed by `tests/readers/adversarial.py` (quotes of every kind, `$`, `${X}`, `#`,
//! backslashes, tabs, CR/LF, leading/trailing blanks, `=`, Unicode line separators and spaces,
//! NUL, empty, 40 KB) is mapped from a stack output and rendered by
//! `stackwire env --format dotenv|shell|github-env`, one invocation per value. Each value must
//! either come back identical from every reader, or be refused (exit code 2, nothing on stdout, an
//! error naming the variable and the offending character).
//!
//! Readers: python-dotenv (`tests/readers/read_python_dotenv.py`) and node `dotenv` 16, 17 and 18
//! (`tests/readers/read_node_dotenv.js`), installed by `scripts/test`
//! (`pip install -r tests/requirements.txt`, `npm ci --prefix tests/readers`); bash and
//! dash `eval` for `shell`; a re-implementation of the runner's `$GITHUB_ENV` parser for
//! `github-env`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Number of values rendered concurrently (each worker has its own repository directory).
const WORKERS: usize = 8;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn name(index: usize) -> String {
    format!("V{index:03}")
}

fn output_name(index: usize) -> String {
    format!("v{index:03}")
}

/// Run a helper program from the repository root; its stdout must be JSON.
fn run_json(program: &str, args: &[&str], what: &str) -> serde_json::Value {
    let output = Command::new(program)
        .args(args)
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} for {what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}): {}\nInstall the readers with `pip install -r tests/requirements.txt` \
         and `npm ci --prefix tests/readers`.",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{what} printed bad JSON: {e}"))
}

fn adversarial_values() -> Vec<String> {
    let values = run_json(
        "python3",
        &["tests/readers/adversarial.py"],
        "adversarial.py",
    );
    let values: Vec<String> = serde_json::from_value(values).expect("a JSON list of strings");
    assert!(
        values.len() >= 100,
        "only {} adversarial values",
        values.len()
    );
    values
}

/// A `pulumi stack export --show-secrets`-shaped state file holding every value as an output
/// `v000`, `v001`, … of stack `rt`, and one repository directory per worker.
struct Fixture {
    _dir: tempfile::TempDir,
    state: PathBuf,
    repos: Vec<PathBuf>,
}

fn fixture(values: &[String]) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let outputs: serde_json::Map<String, serde_json::Value> = values
        .iter()
        .enumerate()
        .map(|(i, value)| (output_name(i), serde_json::Value::String(value.clone())))
        .collect();
    let state = serde_json::json!({
        "version": 3,
        "deployment": {
            "manifest": {"time": "2024-01-01T00:00:00Z", "magic": "", "version": "v3.140.0"},
            "secrets_providers": {"type": "b64", "state": {}},
            "resources": [{
                "urn": "urn:pulumi:rt::rt::pulumi:pulumi:Stack::rt-rt",
                "custom": false,
                "type": "pulumi:pulumi:Stack",
                "outputs": outputs,
            }],
        },
    });
    let state_path = dir.path().join("export.json");
    std::fs::write(&state_path, state.to_string()).expect("write state");
    let repos = (0..WORKERS)
        .map(|w| {
            let repo = dir.path().join(format!("repo{w}"));
            std::fs::create_dir_all(repo.join("stacks")).expect("mkdir");
            repo
        })
        .collect();
    Fixture {
        _dir: dir,
        state: state_path,
        repos,
    }
}

/// `stackwire env --format <format> --show-secrets` for a mapping of the single value `index`.
fn render_one(fixture: &Fixture, repo: &Path, index: usize, format: &str) -> Output {
    let mapping = format!("env:\n  {}: {}\n", name(index), output_name(index));
    std::fs::write(repo.join("stacks").join("rt.yaml"), mapping).expect("write mapping");
    Command::new(env!("CARGO_BIN_EXE_stackwire"))
        .arg("--state")
        .arg(&fixture.state)
        .arg("-C")
        .arg(repo)
        .args(["env", "--format", format, "--show-secrets"])
        .output()
        .expect("run stackwire")
}

/// What stackwire did with each value: `Ok(stdout)` or `Err(stderr)` (exit code 2).
fn render_all(values: &[String], format: &str) -> Vec<Result<String, String>> {
    let fixture = fixture(values);
    let mut results: Vec<Option<Result<String, String>>> = vec![None; values.len()];
    std::thread::scope(|scope| {
        let handles: Vec<_> = fixture
            .repos
            .iter()
            .enumerate()
            .map(|(worker, repo)| {
                let fixture = &fixture;
                scope.spawn(move || {
                    (worker..values.len())
                        .step_by(WORKERS)
                        .map(|i| (i, render_one(fixture, repo, i, format)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for handle in handles {
            for (i, output) in handle.join().expect("worker panicked") {
                let stdout = String::from_utf8(output.stdout).expect("stdout is UTF-8");
                let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
                results[i] = Some(match output.status.code() {
                    Some(0) => Ok(stdout),
                    Some(2) => {
                        assert!(
                            stdout.is_empty(),
                            "{format} {}: refused but printed {stdout:?}",
                            name(i)
                        );
                        Err(stderr)
                    }
                    _ => panic!(
                        "{format} {}: unexpected {}: {stderr}",
                        name(i),
                        output.status
                    ),
                });
            }
        }
    });
    results
        .into_iter()
        .map(|r| r.expect("every value rendered"))
        .collect()
}

/// Descriptions of which at least one must appear in the error refusing `value`.
fn refusal_reasons(value: &str, format: &str) -> Vec<&'static str> {
    let mut reasons = Vec::new();
    let mut add = |cond: bool, reason: &'static str| {
        if cond {
            reasons.push(reason);
        }
    };
    add(value.contains('\0'), "NUL (U+0000)");
    add(value.contains('\r'), "carriage return (U+000D)");
    if format == "dotenv" {
        add(value.contains("${"), "${");
        add(value.contains('\''), "single quote (')");
        add(value.contains('\\'), "backslash");
        add(value.contains('"'), "double quote (\")");
        add(value.contains('$'), "dollar sign ($)");
    }
    reasons
}

/// Values every format must accept (the dotenv rules guarantee these; others may be refused).
fn must_accept(value: &str, format: &str) -> bool {
    if value.contains(['\0', '\r']) {
        return false;
    }
    format != "dotenv"
        || !value.contains("${")
            && !value.contains('\\')
            && (!value.contains('\'') || !value.contains(['"', '$']))
}

/// Check refusals and acceptances; return the accepted `(index, stdout)` pairs.
fn check_outcomes(
    values: &[String],
    results: Vec<Result<String, String>>,
    format: &str,
) -> Vec<(usize, String)> {
    let mut accepted = Vec::new();
    let mut failures = String::new();
    for (i, result) in results.into_iter().enumerate() {
        let value = &values[i];
        match result {
            Ok(stdout) => accepted.push((i, stdout)),
            Err(stderr) => {
                if must_accept(value, format) {
                    writeln!(
                        failures,
                        "{}: refused a value it must accept: {stderr}",
                        name(i)
                    )
                    .unwrap();
                }
                let reasons = refusal_reasons(value, format);
                if !stderr.contains(&name(i)) || !reasons.iter().any(|r| stderr.contains(r)) {
                    writeln!(
                        failures,
                        "{}: refusal must name the variable and one of {reasons:?}: {stderr}",
                        name(i)
                    )
                    .unwrap();
                }
            }
        }
    }
    assert!(failures.is_empty(), "{format}:\n{failures}");
    assert!(
        accepted.len() * 4 >= values.len() * 3,
        "{format}: only {} of {} values accepted",
        accepted.len(),
        values.len()
    );
    accepted
}

/// Compare what a reader read with what was written, exactly, with no extra keys.
fn compare(
    reader: &str,
    read: &BTreeMap<String, Option<String>>,
    expected: &BTreeMap<String, &String>,
) -> String {
    let mut failures = String::new();
    for (key, value) in expected {
        match read.get(key) {
            Some(Some(got)) if got == *value => {}
            got => writeln!(failures, "{reader}: {key} wrote {value:?}, read {got:?}").unwrap(),
        }
    }
    for key in read.keys().filter(|k| !expected.contains_key(*k)) {
        writeln!(failures, "{reader}: read an extra key {key:?}").unwrap();
    }
    failures
}

#[test]
fn dotenv_values_read_back_identically_by_python_dotenv_and_node_dotenv() {
    let values = adversarial_values();
    let accepted = check_outcomes(&values, render_all(&values, "dotenv"), "dotenv");

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("roundtrip.env");
    let text: String = accepted.iter().map(|(_, stdout)| stdout.as_str()).collect();
    std::fs::write(&file, &text).expect("write .env");
    let expected: BTreeMap<String, &String> = accepted
        .iter()
        .map(|(i, _)| (name(*i), &values[*i]))
        .collect();

    let file = file.to_str().expect("UTF-8 temp path");
    let mut parsed = BTreeMap::new();
    for (program, script) in [
        ("python3", "tests/readers/read_python_dotenv.py"),
        ("node", "tests/readers/read_node_dotenv.js"),
    ] {
        let by_reader: BTreeMap<String, BTreeMap<String, Option<String>>> =
            serde_json::from_value(run_json(program, &[script, file], script))
                .expect("reader JSON");
        parsed.extend(by_reader);
    }
    // dotenvy, the Rust reader, in-process.
    let dotenvy_read: BTreeMap<String, Option<String>> = dotenvy::from_path_iter(file)
        .expect("dotenvy opens the file")
        .map(|item| {
            item.map(|(k, v)| (k, Some(v)))
                .expect("dotenvy parses every line")
        })
        .collect();
    parsed.insert("dotenvy@0.15".to_owned(), dotenvy_read);
    assert!(
        parsed.keys().any(|r| r.starts_with("python-dotenv@")),
        "{:?}",
        parsed.keys()
    );
    assert!(
        parsed.keys().any(|r| r.starts_with("dotenv@")),
        "{:?}",
        parsed.keys()
    );
    let failures: String = parsed
        .iter()
        .map(|(reader, read)| compare(reader, read, &expected))
        .collect();
    assert!(failures.is_empty(), "dotenv round trip failed:\n{failures}");
}

#[test]
fn shell_values_read_back_identically_through_eval() {
    let values = adversarial_values();
    let accepted = check_outcomes(&values, render_all(&values, "shell"), "shell");

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("roundtrip.sh");
    let text: String = accepted.iter().map(|(_, stdout)| stdout.as_str()).collect();
    std::fs::write(&file, &text).expect("write script");
    let names: Vec<String> = accepted.iter().map(|(i, _)| name(*i)).collect();

    // Print each variable followed by NUL (no accepted value contains NUL).
    let script = r#"eval "$(cat "$1")"; shift; for n; do eval "printf '%s\0' \"\${$n}\""; done"#;
    for shell in ["bash", "sh"] {
        let output = Command::new(shell)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .args(["-c", script, shell])
            .arg(&file)
            .args(&names)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {shell}: {e}"));
        assert!(
            output.status.success() && output.stderr.is_empty(),
            "{shell}: {} {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let mut read: Vec<&[u8]> = output.stdout.split(|b| *b == 0).collect();
        assert_eq!(
            read.pop(),
            Some(&b""[..]),
            "{shell}: output must end with NUL"
        );
        assert_eq!(
            read.len(),
            accepted.len(),
            "{shell}: one value per variable"
        );
        let mut failures = String::new();
        for ((i, _), got) in accepted.iter().zip(read) {
            if got != values[*i].as_bytes() {
                writeln!(
                    failures,
                    "{shell}: {} wrote {:?}, read {:?}",
                    name(*i),
                    values[*i],
                    String::from_utf8_lossy(got)
                )
                .unwrap();
            }
        }
        assert!(failures.is_empty(), "shell round trip failed:\n{failures}");
    }
}

/// Parse `$GITHUB_ENV` text as actions/runner's `SetEnvFileCommand` does on Linux: lines end at
/// LF; `NAME=value`, or `NAME<<DELIMITER` followed by value lines and a line equal to DELIMITER.
fn parse_github_env(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = text
        .split_inclusive('\n')
        .map(|l| l.strip_suffix('\n').unwrap_or(l));
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        match (line.find('='), line.find("<<")) {
            (Some(eq), heredoc) if heredoc.is_none_or(|h| eq < h) => {
                out.push((line[..eq].to_owned(), line[eq + 1..].to_owned()));
            }
            (_, Some(h)) => {
                let (name, delimiter) = (&line[..h], &line[h + 2..]);
                assert!(
                    !name.is_empty() && !delimiter.is_empty(),
                    "bad heredoc line {line:?}"
                );
                let mut value: Vec<&str> = Vec::new();
                loop {
                    let next = lines
                        .next()
                        .unwrap_or_else(|| panic!("delimiter {delimiter} not found"));
                    if next == delimiter {
                        break;
                    }
                    value.push(next);
                }
                out.push((name.to_owned(), value.join("\n")));
            }
            _ => panic!("invalid $GITHUB_ENV line {line:?}"),
        }
    }
    out
}

#[test]
fn github_env_values_read_back_identically_by_the_runner_parser() {
    let values = adversarial_values();
    let accepted = check_outcomes(&values, render_all(&values, "github-env"), "github-env");
    let mut failures = String::new();
    for (i, stdout) in &accepted {
        let parsed = parse_github_env(stdout);
        if parsed != [(name(*i), values[*i].clone())] {
            writeln!(
                failures,
                "{}: wrote {:?}, runner reads {parsed:?}",
                name(*i),
                values[*i]
            )
            .unwrap();
        }
    }
    assert!(
        failures.is_empty(),
        "github-env round trip failed:\n{failures}"
    );
}
