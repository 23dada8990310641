//! `stackwire check` (issue 6): the deployment-mess fixture and its fixed twin, real public
//! workflows, every output format (SARIF through the official validator), suppression, exit
//! codes and the PATH / `--stack` selection.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::{Repo, manifest_dir};

fn fixtures() -> PathBuf {
    manifest_dir().join("tests/fixtures/check")
}

/// A runner with no pulumi on PATH (the fixture's state is a DIY backend read directly).
fn repo() -> Repo {
    let mut repo = Repo::new();
    repo.set("PATH", "/usr/bin:/bin");
    repo
}

/// A fixture copied into the repository's temporary root.
fn fixture_copy(name: &str) -> Repo {
    let repo = repo();
    crate::support::copy_dir(&fixtures().join(name), repo.path());
    repo
}

/// `(id, file, line, column)` of each finding of a JSON report.
fn located(report: &Value) -> Vec<(String, String, u64, u64)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_owned(),
                f["file"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn owned(rows: &[(&str, &str, u64, u64)]) -> Vec<(String, String, u64, u64)> {
    rows.iter()
        .map(|(i, f, l, c)| ((*i).to_owned(), (*f).to_owned(), *l, *c))
        .collect()
}

/// Every finding of the deployment mess, where it is.
const MESS: &[(&str, &str, u64, u64)] = &[
    (
        "dockerfile-missing",
        ".github/workflows/deploy-lambda.yml",
        13,
        27,
    ),
    (
        "undefined-variable",
        ".github/workflows/deploy-lambda.yml",
        17,
        24,
    ),
    (
        "conflicting-deploy",
        ".github/workflows/deploy-lambda.yml",
        22,
        11,
    ),
    ("conflicting-deploy", ".github/workflows/deploy.yml", 8, 18),
    ("dockerfile-missing", ".github/workflows/deploy.yml", 18, 17),
    ("undefined-variable", "scripts/health_check.sh", 5, 24),
    ("output-missing", "stacks/production.yaml", 7, 3),
    ("health-undefined", "stacks/production.yaml", 12, 22),
];

#[test]
fn mess_repository_reports_every_finding_where_it_is() {
    let repo = fixture_copy("mess");
    let run = repo.run(&["check", "--format", "json"]).code(1);
    let report = run.json();
    assert_eq!(located(&report), owned(MESS), "{}", run.stdout);
    let message = |k: usize| {
        report["findings"][k]["message"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // The message lists the Dockerfiles that do exist.
    assert!(
        message(0).contains("`Dockerfile.uv` does not exist"),
        "{}",
        message(0)
    );
    assert!(
        message(4).contains("`Dockerfile.optimized` does not exist"),
        "{}",
        message(4)
    );
    assert!(
        message(4).contains("nearest first): `Dockerfile.production`"),
        "{}",
        message(4)
    );
    // The conflict names the other workflow; the script finding says where it runs and why.
    assert!(
        message(3).contains(".github/workflows/deploy-lambda.yml line 22"),
        "{}",
        message(3)
    );
    assert!(
        message(5).contains("run by job `deploy`, step \"Health check\""),
        "{}",
        message(5)
    );
    assert!(
        message(5).contains("stacks/production.yaml maps `LAMBDA_INSTANCE_IP`"),
        "{}",
        message(5)
    );
    assert!(
        message(1).contains("undefined secret `LAMBDA_SSH_KEY`"),
        "{}",
        message(1)
    );
    assert!(
        message(6).contains("stack output `inferenceUrl` does not exist"),
        "{}",
        message(6)
    );
    assert_eq!(report["summary"]["errors"], 8);
    assert_eq!(report["summary"]["workflows"], 2);
    assert_eq!(report["summary"]["stacks"], 1);
}

#[test]
fn mess_repository_text_format() {
    let repo = fixture_copy("mess");
    let run = repo.run(&["check"]).code(1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), MESS.len(), "{}", run.stdout);
    assert!(
        lines[4].starts_with(".github/workflows/deploy.yml:18:17: error[dockerfile-missing]: Dockerfile `Dockerfile.optimized`"),
        "{}",
        lines[4]
    );
    assert!(
        run.stderr
            .contains("8 errors, 0 warnings, 0 notes in 2 workflows and 1 stack"),
        "{}",
        run.stderr
    );
}

#[test]
fn fixed_repository_is_clean() {
    let repo = fixture_copy("fixed");
    let run = repo.run(&["check"]).ok();
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .contains("no problems found in 2 workflows and 1 stack"),
        "{}",
        run.stderr
    );
    let json = repo.run(&["check", "--format", "json"]).ok().json();
    assert_eq!(json["findings"].as_array().unwrap().len(), 0);
}

#[test]
fn health_script_variable_defined_only_by_the_mapping() {
    // Clean as fixed: `stackwire env --write-github-env` puts the mapped name in the job.
    let repo = fixture_copy("fixed");
    repo.run(&["check", ".github/workflows/deploy.yml"]).ok();
    // Without that step nothing defines it, and the script's read is reported.
    let wf = repo.read(".github/workflows/deploy.yml");
    let without = wf.replace(
        "      - name: Export the stack outputs\n        run: stackwire env --write-github-env --stack production\n",
        "",
    );
    assert_ne!(wf, without);
    repo.write(".github/workflows/deploy.yml", &without);
    let report = repo.run(&["check", "--format", "json"]).code(1).json();
    assert_eq!(
        located(&report),
        owned(&[("undefined-variable", "scripts/health_check.sh", 5, 24)]),
        "{report}"
    );
    let message = report["findings"][0]["message"].as_str().unwrap();
    assert!(message.contains("stacks/production.yaml maps `LAMBDA_LABS_INSTANCE_IP`: run `stackwire env --write-github-env`"), "{message}");
    // Another stack's `stackwire env` does not define it either.
    repo.write(
        ".github/workflows/deploy.yml",
        &wf.replace("--stack production", "--stack staging"),
    );
    assert_eq!(
        repo.run(&["check", "--format", "json"]).code(1).json()["findings"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn github_annotations() {
    let repo = fixture_copy("mess");
    let run = repo.run(&["check", "--format", "github"]).code(1);
    let first = run.stdout.lines().next().unwrap();
    assert!(
        first.starts_with("::error file=.github/workflows/deploy-lambda.yml,line=13,col=27,endColumn=40,title=stackwire check [dockerfile-missing]::Dockerfile `Dockerfile.uv` does not exist"),
        "{first}"
    );
    assert_eq!(
        run.stdout
            .lines()
            .filter(|l| l.starts_with("::error "))
            .count(),
        MESS.len()
    );
}

#[test]
fn warnings_and_notes_exit_zero() {
    let repo = repo();
    repo.write(
        ".github/workflows/ci.yml",
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ env.GITHUB_SHA }}\n      - uses: docker/build-push-action@v6\n        with:\n          file: ${{ inputs.dockerfile }}\n",
    );
    let run = repo.run(&["check", "--format", "json"]).ok();
    let report = run.json();
    let severities: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["severity"].as_str().unwrap())
        .collect();
    assert_eq!(severities, ["warning", "info"], "{report}");
    assert_eq!(report["findings"][1]["id"], "unresolved");
}

#[test]
fn invalid_input_exits_two() {
    let repo = fixture_copy("fixed");
    let run = repo.run(&["check", "no/such/path"]).code(2);
    assert!(run.stderr.contains("no/such/path"), "{}", run.stderr);
    let run = repo.run(&["check", "--stack", "staging"]).code(2);
    assert!(
        run.stderr.contains("stacks found: production"),
        "{}",
        run.stderr
    );
    repo.write(".stackwire/known.yaml", "ignore: [no-such-check]\n");
    let run = repo.run(&["check"]).code(2);
    assert!(
        run.stderr.contains(".stackwire/known.yaml:1:"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("not a check id"), "{}", run.stderr);
    std::fs::remove_file(repo.path().join(".stackwire/known.yaml")).unwrap();
    let outside = tempfile::tempdir().unwrap();
    let run = repo
        .run(&["check", outside.path().to_str().unwrap()])
        .code(2);
    assert!(
        run.stderr.contains("not inside the repository root"),
        "{}",
        run.stderr
    );
}

#[test]
fn suppression_inline_and_in_known_yaml() {
    let repo = fixture_copy("mess");
    let wf = repo.read(".github/workflows/deploy.yml");
    repo.write(
        ".github/workflows/deploy.yml",
        &wf.replace(
            "file: Dockerfile.optimized",
            "file: Dockerfile.optimized # stackwire: ignore[dockerfile-missing]",
        ),
    );
    repo.write(
        ".stackwire/known.yaml",
        "secrets: [PULUMI_ACCESS_TOKEN, LAMBDA_SSH_KEY]\nignore:\n  - conflicting-deploy\n  - \"dockerfile-missing:.github/workflows/deploy-*.yml\"\n",
    );
    let report = repo.run(&["check", "--format", "json"]).code(1).json();
    assert_eq!(
        located(&report),
        owned(&[
            ("undefined-variable", "scripts/health_check.sh", 5, 24),
            ("output-missing", "stacks/production.yaml", 7, 3),
            ("health-undefined", "stacks/production.yaml", 12, 22),
        ]),
        "{report}"
    );
    assert_eq!(report["summary"]["suppressed"], 4);
}

#[test]
fn paths_and_stacks_select_what_is_checked() {
    let repo = fixture_copy("mess");
    // One workflow: its own findings and the script it runs; no conflict, no stack findings.
    let report = repo
        .run(&["check", "--format", "json", ".github/workflows/deploy.yml"])
        .code(1)
        .json();
    assert_eq!(
        located(&report),
        owned(&[
            ("dockerfile-missing", ".github/workflows/deploy.yml", 18, 17),
            ("undefined-variable", "scripts/health_check.sh", 5, 24),
        ]),
        "{report}"
    );
    // Only the stacks folder.
    let report = repo
        .run(&["check", "--format", "json", "stacks"])
        .code(1)
        .json();
    assert_eq!(
        located(&report),
        owned(&[
            ("output-missing", "stacks/production.yaml", 7, 3),
            ("health-undefined", "stacks/production.yaml", 12, 22)
        ]),
        "{report}"
    );
    // --stack names the stack whose mapping and sync targets count.
    let all = repo
        .run(&["check", "--format", "json", "--stack", "production"])
        .code(1)
        .json();
    assert_eq!(located(&all), owned(MESS));
}

#[test]
fn unreadable_state_skips_output_missing_with_a_note() {
    let repo = fixture_copy("mess");
    std::fs::remove_dir_all(repo.path().join("state")).unwrap();
    let run = repo
        .run(&["-v", "check", "--format", "json", "stacks"])
        .code(1);
    let report = run.json();
    assert_eq!(
        located(&report),
        owned(&[("health-undefined", "stacks/production.yaml", 12, 22)]),
        "{report}"
    );
    let notes = report["summary"]["notes"].to_string();
    assert!(notes.contains("`output-missing` not checked"), "{notes}");
    assert!(
        run.stderr
            .contains("note: stacks/production.yaml: `output-missing` not checked"),
        "{}",
        run.stderr
    );
}

/// The SARIF Multitool from `tests/tools` (`npm ci --prefix tests/tools`), run directly (the
/// npm shim passes its arguments through a shell).
fn sarif_multitool() -> PathBuf {
    let tool = manifest_dir()
        .join("tests/tools/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool");
    assert!(
        tool.exists(),
        "the SARIF validator is not installed: run `npm ci --prefix tests/tools` (scripts/test does)"
    );
    tool
}

/// Validate `sarif` with the official SARIF Multitool; the results it reports.
fn validate(sarif: &Path) -> Vec<Value> {
    let out = sarif.with_extension("validation.sarif");
    let status = Command::new(sarif_multitool())
        .arg("validate")
        .arg(sarif)
        .arg("--output")
        .arg(&out)
        .arg("--level")
        .arg("Error;Warning")
        .output()
        .expect("run the SARIF Multitool");
    assert!(
        status.status.success(),
        "sarif-multitool failed:\n{}\n{}",
        String::from_utf8_lossy(&status.stdout),
        String::from_utf8_lossy(&status.stderr)
    );
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    log["runs"][0]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn sarif_passes_the_official_validator() {
    let repo = fixture_copy("mess");
    let run = repo.run(&["check", "--format", "sarif"]).code(1);
    let sarif: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), MESS.len());
    let location = &results[4]["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"]["uri"],
        ".github/workflows/deploy.yml"
    );
    assert_eq!(location["region"]["startLine"], 18);
    assert_eq!(location["region"]["startColumn"], 17);
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(
        rules
            .iter()
            .all(|r| r["help"]["text"].as_str().is_some_and(|t| !t.is_empty()))
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mess.sarif");
    std::fs::write(&file, &run.stdout).unwrap();
    let problems = validate(&file);
    assert!(problems.is_empty(), "the validator reports: {problems:#?}");
    // The validator is not vacuous: a broken log is reported.
    let mut broken = sarif.clone();
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        0.into();
    let bad = dir.path().join("broken.sarif");
    std::fs::write(&bad, broken.to_string()).unwrap();
    let problems = validate(&bad);
    assert!(
        problems.iter().any(|r| r["level"] == "error"),
        "{problems:#?}"
    );
    // A clean run is valid SARIF too.
    let clean = fixture_copy("fixed")
        .run(&["check", "--format", "sarif"])
        .ok();
    let file = dir.path().join("fixed.sarif");
    std::fs::write(&file, &clean.stdout).unwrap();
    assert!(validate(&file).is_empty());
}

/// Real public workflows (tests/fixtures/check/public/SOURCES.md) and, for each, a Dockerfile
/// they build from.
const PUBLIC: &[(&str, &str)] = &[
    ("AppFlowy-IO+AppFlowy-Cloud", "admin_frontend/Dockerfile"),
    ("benbusby+whoogle-search", "Dockerfile"),
    ("dani-garcia+vaultwarden", "docker/Dockerfile.debian"),
    ("docmost+docmost", "Dockerfile"),
    ("frappe+frappe_docker", "images/bench/Dockerfile"),
    ("frappe+frappe_docker", "images/production/Containerfile"),
    ("gethomepage+homepage", "Dockerfile"),
    ("hoppscotch+hoppscotch", "prod.Dockerfile"),
    ("mealie-recipes+mealie", "docker/Dockerfile"),
    ("paperless-ngx+paperless-ngx", "Dockerfile"),
    ("requarks+wiki", "dev/build/Dockerfile"),
    ("sissbruecker+linkding", "docker/alpine.Dockerfile"),
    ("umami-software+umami", "Dockerfile"),
    ("usememos+memos", "scripts/Dockerfile"),
    ("wg-easy+wg-easy", "Dockerfile"),
];

/// The repository's tree as it was: workflows, compose/bake files, every Dockerfile (empty).
fn public_tree(name: &str) -> Repo {
    let src = fixtures().join("public").join(name);
    let repo = repo();
    crate::support::copy_dir(
        &src.join("workflows"),
        &repo.path().join(".github/workflows"),
    );
    if src.join("files").is_dir() {
        crate::support::copy_dir(&src.join("files"), repo.path());
    }
    for path in std::fs::read_to_string(src.join("dockerfiles.txt"))
        .unwrap()
        .lines()
    {
        repo.write(path, "FROM scratch\n");
    }
    repo
}

fn dockerfile_findings(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == "dockerfile-missing")
        .map(|f| format!("{}:{}: {}", f["file"], f["line"], f["message"]))
        .collect()
}

#[test]
fn real_public_workflows_have_no_false_dockerfile_missing() {
    let dirs: std::collections::BTreeSet<&str> = PUBLIC.iter().map(|(d, _)| *d).collect();
    let on_disk = std::fs::read_dir(fixtures().join("public"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_type().unwrap().is_dir())
        .count();
    assert_eq!(dirs.len(), on_disk, "every public fixture has a case");
    let mut workflows = 0;
    for dir in &dirs {
        let repo = public_tree(dir);
        workflows += std::fs::read_dir(repo.path().join(".github/workflows"))
            .unwrap()
            .count();
        let run = repo.run(&["check", "--format", "json"]);
        assert!(run.code == 0 || run.code == 1, "{dir}: {}", run.stderr);
        let missing = dockerfile_findings(&run.json());
        assert!(
            missing.is_empty(),
            "{dir}: false positives:\n{}",
            missing.join("\n")
        );
    }
    assert!(workflows >= 10, "only {workflows} workflows");
}

#[test]
fn real_public_workflows_catch_a_removed_dockerfile() {
    for (dir, dockerfile) in PUBLIC {
        let repo = public_tree(dir);
        std::fs::remove_file(repo.path().join(dockerfile)).unwrap();
        let run = repo.run(&["check", "--format", "json"]).code(1);
        let missing = dockerfile_findings(&run.json());
        assert!(
            missing
                .iter()
                .any(|m| m.contains(&format!("`{dockerfile}` does not exist"))),
            "{dir}: removing {dockerfile} is not reported:\n{}",
            missing.join("\n")
        );
    }
}
