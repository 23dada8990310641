//! Rule tests over small temporary repositories, and property tests: the workflow and script
//! scanners never panic on arbitrary input.

use super::stacks::{Mapped, Target, TargetScope};
use super::*;

/// A temporary repository with `files`.
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn run(dir: &tempfile::TempDir, stacks: Vec<StackFacts>) -> Report {
    let known = Known::load(dir.path()).unwrap();
    check(&Input {
        root: dir.path().to_owned(),
        workflows: workflow_files(dir.path()),
        stacks,
        known,
    })
}

/// `(id, file, line, column)` of every finding.
fn found(report: &Report) -> Vec<(&'static str, String, u32, u32)> {
    report
        .findings
        .iter()
        .map(|f| (f.id, f.file.clone(), f.line, f.column))
        .collect()
}

fn stack(name: &str, mapped: &[(&str, Option<bool>)], targets: Vec<Target>) -> StackFacts {
    StackFacts {
        name: name.into(),
        rel: format!("stacks/{name}.yaml"),
        selected: true,
        reported: true,
        mapped: mapped
            .iter()
            .map(|(n, s)| Mapped {
                name: (*n).into(),
                secret: *s,
            })
            .collect(),
        targets,
        ..StackFacts::default()
    }
}

fn repo_target(secrets: &[&str]) -> Target {
    Target {
        scope: TargetScope::Repo("acme/app".into()),
        secrets: secrets.iter().map(|s| (*s).to_owned()).collect(),
        exclude: Vec::new(),
    }
}

const W: &str = ".github/workflows/w.yml";

#[test]
fn build_push_action_paths() {
    let wf = "on: push
jobs:
  b:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: docker/build-push-action@v6
        with:
          context: ./app
          file: ./app/Dockerfile.prod
      - uses: docker/build-push-action@v6
        with:
          context: app
      - uses: docker/build-push-action@v6
        with:
          context: .
          file: Dockerfile.optimized
      - uses: docker/build-push-action@v6
        with:
          context: \"{{defaultContext}}:api\"
      - uses: docker/build-push-action@v6
        with:
          file: ${{ matrix.f }}
      - uses: docker/build-push-action@v6
        with:
          context: https://github.com/x/y.git
";
    let dir = repo(&[
        (W, wf),
        ("app/Dockerfile.prod", ""),
        ("Dockerfile.production", ""),
    ]);
    let r = run(&dir, Vec::new());
    assert_eq!(
        found(&r),
        [
            ("dockerfile-missing", W.into(), 13, 20),
            ("dockerfile-missing", W.into(), 17, 17),
            ("dockerfile-missing", W.into(), 20, 20),
            ("unresolved", W.into(), 23, 17),
        ],
        "{:#?}",
        r.findings
    );
    let msg = &r.findings[1].message;
    assert!(msg.contains("`Dockerfile.optimized`"), "{msg}");
    assert!(
        msg.contains("(nearest first): `Dockerfile.production`, `app/Dockerfile.prod`"),
        "{msg}"
    );
}

#[test]
fn docker_build_in_scripts_and_compose() {
    let wf = "on: push
jobs:
  b:
    runs-on: ubuntu-latest
    defaults:
      run:
        working-directory: svc
    env:
      DF: Dockerfile.ci
    steps:
      - uses: actions/checkout@v4
      - run: |
          docker build -f Dockerfile.uv .
          docker buildx build --file=$DF --push .
          cd ../other && docker build .
          docker build -f ${{ inputs.f }} .
          cp Dockerfile.ci Dockerfile.gen && docker build -f Dockerfile.gen .
      - run: docker compose -f ../compose.yaml build
        working-directory: svc
";
    let compose = "services:\n  web:\n    build:\n      context: ./svc\n      dockerfile: Dockerfile.web\n  db:\n    image: postgres\n  api:\n    build: ./api\n";
    let dir = repo(&[
        (W, wf),
        ("svc/Dockerfile.ci", ""),
        ("other/Dockerfile", ""),
        ("compose.yaml", compose),
        ("api/Dockerfile", ""),
    ]);
    let r = run(&dir, Vec::new());
    assert_eq!(
        found(&r),
        [
            ("dockerfile-missing", W.into(), 13, 27),
            ("unresolved", W.into(), 16, 27),
            ("dockerfile-missing", "compose.yaml".into(), 5, 19),
        ],
        "{:#?}",
        r.findings
    );
    assert!(
        r.findings[2].message.contains("`svc/Dockerfile.web`"),
        "{}",
        r.findings[2].message
    );
}

#[test]
fn bake_files() {
    let wf = "on: push
jobs:
  b:
    runs-on: ubuntu-latest
    steps:
      - uses: docker/bake-action@v5
        with:
          targets: app
";
    let hcl = "target \"base\" {\n  context = \"images\"\n}\ntarget \"app\" {\n  inherits = [\"base\"]\n  dockerfile = \"Containerfile\"\n}\n";
    let dir = repo(&[(W, wf), ("docker-bake.hcl", hcl)]);
    let r = run(&dir, Vec::new());
    assert_eq!(
        found(&r),
        [("dockerfile-missing", "docker-bake.hcl".into(), 6, 16)],
        "{:#?}",
        r.findings
    );
    std::fs::create_dir_all(dir.path().join("images")).unwrap();
    std::fs::write(dir.path().join("images/Containerfile"), "").unwrap();
    assert!(run(&dir, Vec::new()).findings.is_empty());
}

#[test]
fn shell_variables_and_scripts() {
    let wf = "on: push
env:
  TOP: 1
jobs:
  d:
    runs-on: ubuntu-latest
    env:
      JOB: 1
    steps:
      - uses: actions/checkout@v4
      - run: |
          echo \"$TOP $JOB $GITHUB_SHA $HOME\"
          echo \"API=https://x\" >> \"$GITHUB_ENV\"
          local_var=1
          echo $local_var $UNSET_ONE ${MAYBE:-default}
      - run: ./scripts/health.sh
        env:
          STEP: 1
      - run: echo $API
";
    let script = "#!/usr/bin/env bash\nset -eu\nHOST=x\necho \"$STEP $HOST\"\ncurl \"http://${LAMBDA_LABS_INSTANCE_IP}:8000/health\"\n";
    let dir = repo(&[(W, wf), ("scripts/health.sh", script)]);
    let r = run(
        &dir,
        vec![stack(
            "prod",
            &[("LAMBDA_LABS_INSTANCE_IP", Some(false))],
            Vec::new(),
        )],
    );
    assert_eq!(
        found(&r),
        [
            ("undefined-variable", W.into(), 15, 27),
            ("undefined-variable", "scripts/health.sh".into(), 5, 14),
        ],
        "{:#?}",
        r.findings
    );
    let msg = &r.findings[1].message;
    assert!(
        msg.contains("stacks/prod.yaml maps `LAMBDA_LABS_INSTANCE_IP`"),
        "{msg}"
    );
    assert!(
        msg.contains("in `scripts/health.sh`, run by job `d`"),
        "{msg}"
    );
}

#[test]
fn stackwire_env_defines_mapped_names() {
    let wf = "on: push
jobs:
  d:
    runs-on: ubuntu-latest
    steps:
      - run: stackwire env --write-github-env --stack prod
      - run: ./scripts/health.sh
";
    let script = "curl \"http://${LAMBDA_LABS_INSTANCE_IP}:8000/health\"\n";
    let dir = repo(&[(W, wf), ("scripts/health.sh", script)]);
    let stacks = || {
        vec![stack(
            "prod",
            &[("LAMBDA_LABS_INSTANCE_IP", Some(false))],
            Vec::new(),
        )]
    };
    assert!(run(&dir, stacks()).findings.is_empty());
    // Another stack's names do not count.
    std::fs::write(
        dir.path().join(W),
        wf.replace("--stack prod", "--stack dev"),
    )
    .unwrap();
    assert_eq!(run(&dir, stacks()).findings.len(), 1);
}

#[test]
fn secrets_and_vars_from_sync_targets() {
    let wf = "on: push
jobs:
  a:
    runs-on: ubuntu-latest
    environment: production
    steps:
      - run: echo ${{ secrets.DB_PASSWORD }} ${{ vars.INSTANCE_IP }} ${{ secrets.GITHUB_TOKEN }}
      - run: echo ${{ secrets.PULUMI_ACCESS_TOKEN }} ${{ vars.REGION }} ${{ secrets.API_KEY }}
      - run: echo ${{ secrets.PROD_ONLY }} ${{ vars.DB_PASSWORD }}
  b:
    runs-on: ubuntu-latest
    steps:
      - run: echo ${{ secrets.PROD_ONLY }} ${{ vars.UNKNOWN_STATE }} ${{ secrets.UNKNOWN_STATE }}
";
    let known = "secrets: [PULUMI_ACCESS_TOKEN]\nvars: [REGION]\n";
    let dir = repo(&[(W, wf), (".stackwire/known.yaml", known)]);
    let prod = stack(
        "prod",
        &[
            ("DB_PASSWORD", Some(true)),
            ("INSTANCE_IP", Some(false)),
            ("UNKNOWN_STATE", None),
        ],
        vec![repo_target(&[])],
    );
    let env_only = stack(
        "envs",
        &[("PROD_ONLY", Some(true))],
        vec![Target {
            scope: TargetScope::Environment("acme/app".into(), "Production".into()),
            secrets: Vec::new(),
            exclude: Vec::new(),
        }],
    );
    let r = run(&dir, vec![prod, env_only]);
    assert_eq!(
        found(&r),
        [
            ("undefined-variable", W.into(), 8, 77),
            ("undefined-variable", W.into(), 9, 48),
            ("undefined-variable", W.into(), 13, 23),
        ],
        "{:#?}",
        r.findings
    );
    assert!(r.findings[0].message.contains("undefined secret `API_KEY`"));
    assert!(
        r.findings[1]
            .message
            .contains("synced as a secret: use `secrets.DB_PASSWORD`"),
        "{}",
        r.findings[1].message
    );
    assert!(
        r.findings[2]
            .message
            .contains("only to environment `production`"),
        "{}",
        r.findings[2].message
    );
}

#[test]
fn reusable_workflows_declare_secrets() {
    let wf = "on:
  workflow_call:
    secrets:
      TOKEN:
        required: true
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: echo ${{ secrets.TOKEN }} ${{ secrets.OTHER }}
";
    let dir = repo(&[(W, wf)]);
    let r = run(&dir, Vec::new());
    assert_eq!(
        found(&r),
        [("undefined-variable", W.into(), 10, 44)],
        "{:#?}",
        r.findings
    );
    let open = wf.replace("    secrets:\n      TOKEN:\n        required: true\n", "");
    std::fs::write(dir.path().join(W), open).unwrap();
    assert!(run(&dir, Vec::new()).findings.is_empty());
}

#[test]
fn env_expressions() {
    let wf = "on: push
env:
  A: 1
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: echo X=1 >> $GITHUB_ENV
      - run: echo ${{ env.A }} ${{ env.X }} ${{ env.NOPE }} ${{ env.GITHUB_SHA }}
";
    let dir = repo(&[(W, wf)]);
    let r = run(&dir, Vec::new());
    let got: Vec<_> = r.findings.iter().map(|f| (f.severity, f.column)).collect();
    assert_eq!(
        got,
        [(Severity::Error, 49), (Severity::Warning, 65)],
        "{:#?}",
        r.findings
    );
}

#[test]
fn conflicting_deploys() {
    let a = "on:
  push:
    branches: [main]
jobs:
  deploy:
    runs-on: ubuntu-latest
    environment: production
    steps:
      - run: pulumi up --yes --stack prod
";
    let b = "on:
  push:
    branches: [main, 'release/**']
jobs:
  ship:
    runs-on: ubuntu-latest
    steps:
      - run: rsync -az dist/ ubuntu@example.com:/srv/app
";
    let c = "on:
  push:
    branches: [develop]
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - run: kubectl apply -f k8s/
";
    let dir = repo(&[
        (".github/workflows/a.yml", a),
        (".github/workflows/b.yml", b),
        (".github/workflows/c.yml", c),
    ]);
    let r = run(&dir, Vec::new());
    assert_eq!(
        found(&r),
        [
            (
                "conflicting-deploy",
                ".github/workflows/a.yml".into(),
                7,
                18
            ),
            (
                "conflicting-deploy",
                ".github/workflows/b.yml".into(),
                8,
                14
            ),
        ],
        "{:#?}",
        r.findings
    );
    assert!(
        r.findings[0]
            .message
            .contains(".github/workflows/b.yml line 8"),
        "{}",
        r.findings[0].message
    );
    // A shared literal group serialises them.
    let grouped = b.replace(
        "jobs:\n  ship:\n",
        "jobs:\n  ship:\n    concurrency: deploy-production\n",
    );
    std::fs::write(dir.path().join(".github/workflows/b.yml"), grouped).unwrap();
    let a2 = a.replace(
        "jobs:\n",
        "concurrency:\n  group: deploy-production\njobs:\n",
    );
    std::fs::write(dir.path().join(".github/workflows/a.yml"), a2).unwrap();
    assert!(
        run(&dir, Vec::new()).findings.is_empty(),
        "{:#?}",
        run(&dir, Vec::new()).findings
    );
}

#[test]
fn suppression() {
    let wf = "on: push
jobs:
  b:
    runs-on: ubuntu-latest
    steps:
      - uses: docker/build-push-action@v6
        with:
          file: Dockerfile.a # stackwire: ignore[dockerfile-missing]
      - uses: docker/build-push-action@v6
        with:
          file: Dockerfile.b
";
    let dir = repo(&[(W, wf), (".github/workflows/legacy.yml", wf)]);
    let r = run(&dir, Vec::new());
    assert_eq!(r.findings.len(), 2);
    assert_eq!(r.suppressed, 2);
    std::fs::create_dir_all(dir.path().join(".stackwire")).unwrap();
    std::fs::write(
        dir.path().join(".stackwire/known.yaml"),
        "ignore: [\"dockerfile-missing:.github/workflows/legacy.yml\"]\n",
    )
    .unwrap();
    let r = run(&dir, Vec::new());
    assert_eq!(found(&r), [("dockerfile-missing", W.into(), 11, 17)]);
    assert_eq!(r.suppressed, 3);
}

#[test]
fn invalid_workflows_are_findings() {
    let dir = repo(&[(W, "on: push\njobs: [\n")]);
    let r = run(&dir, Vec::new());
    assert_eq!(r.findings.len(), 1);
    assert_eq!(r.findings[0].id, "invalid-workflow");
}

#[test]
fn repository_identity() {
    let dir = repo(&[(
        ".git/config",
        "[core]\n\tbare = false\n[remote \"origin\"]\n\turl = git@github.com:Acme/App.git\n",
    )]);
    assert_eq!(repository(dir.path()).as_deref(), Some("Acme/App"));
    let dir = repo(&[(
        ".git/config",
        "[remote \"origin\"]\n\turl = https://github.com/acme/app\n",
    )]);
    assert_eq!(repository(dir.path()).as_deref(), Some("acme/app"));
}

mod fuzz {
    //! No panic on arbitrary input, bounded in time (`PROPTEST_CASES` overrides the count).
    use proptest::prelude::*;

    use super::super::{expr, shell, workflow, yaml};

    fn config() -> ProptestConfig {
        let cases = std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(512);
        ProptestConfig {
            cases,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    /// Shell-ish text: the characters the scanner treats specially, plus words.
    fn shellish() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("$".to_owned()),
                Just("${".to_owned()),
                Just("${{".to_owned()),
                Just("}}".to_owned()),
                Just("$(".to_owned()),
                Just("$((".to_owned()),
                Just("))".to_owned()),
                Just("(".to_owned()),
                Just(")".to_owned()),
                Just("{".to_owned()),
                Just("}".to_owned()),
                Just("`".to_owned()),
                Just("'".to_owned()),
                Just("\"".to_owned()),
                Just("\\".to_owned()),
                Just("\n".to_owned()),
                Just(" ".to_owned()),
                Just(";".to_owned()),
                Just(";;".to_owned()),
                Just("|".to_owned()),
                Just("&&".to_owned()),
                Just("<<EOF\n".to_owned()),
                Just("<<-'X'\n".to_owned()),
                Just("EOF\n".to_owned()),
                Just(">>$GITHUB_ENV".to_owned()),
                Just("case x in".to_owned()),
                Just("esac".to_owned()),
                Just("do".to_owned()),
                Just("done".to_owned()),
                Just("[[".to_owned()),
                Just("]]".to_owned()),
                Just("f()".to_owned()),
                Just("export A=1".to_owned()),
                Just("docker build -f".to_owned()),
                Just("stackwire env -s".to_owned()),
                "[A-Za-z_=:#!*@?0-9./-]{1,6}",
                any::<char>().prop_map(|c| c.to_string()),
            ],
            0..60,
        )
        .prop_map(|parts| parts.concat())
    }

    /// YAML-ish text built from workflow-shaped lines.
    fn yamlish() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("on: push\n".to_owned()),
                Just("jobs:\n".to_owned()),
                Just("  a:\n".to_owned()),
                Just("    steps:\n".to_owned()),
                Just("      - run: |\n".to_owned()),
                Just("          echo $X ${{ secrets.A }}\n".to_owned()),
                Just("      - uses: docker/build-push-action@v6\n".to_owned()),
                Just("        with: {file: x, context: .}\n".to_owned()),
                Just("    environment: prod\n".to_owned()),
                Just("&a ".to_owned()),
                Just("*a\n".to_owned()),
                Just("<<: *a\n".to_owned()),
                Just("- ".to_owned()),
                Just(">-\n".to_owned()),
                Just("'".to_owned()),
                Just("\"".to_owned()),
                Just("[".to_owned()),
                Just("{".to_owned()),
                Just("\t".to_owned()),
                "[ a-z:#|>-]{1,8}\n?",
                any::<char>().prop_map(|c| c.to_string()),
            ],
            0..40,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn shell_scanner_never_panics(text in shellish()) {
            let scan = shell::scan(&text);
            for r in &scan.refs {
                prop_assert!(r.offset < text.len().max(1));
            }
            let _ = shell::expand(&text, &|_| Some("x".into()));
        }

        #[test]
        fn shell_scanner_takes_any_text(text in "\\PC{0,200}") {
            let _ = shell::scan(&text);
        }

        #[test]
        fn expressions_never_panic(text in "\\PC{0,120}") {
            let _ = expr::template_references(&text);
            let _ = expr::condition_references(&text);
        }

        #[test]
        fn workflows_never_panic(text in yamlish()) {
            if let Ok(root) = yaml::parse(&text) {
                let mut scalars = Vec::new();
                root.walk_scalars(&mut scalars);
                for s in scalars {
                    let st = s.text(&text);
                    for k in 0..=st.text.len() {
                        let _ = st.pos(k);
                    }
                }
            }
            if let Ok(wf) = workflow::Workflow::parse("w.yml", text.clone()) {
                let _ = wf.triggers();
                let _ = wf.call_secrets();
                for job in wf.jobs() {
                    let _ = job.on_windows();
                    for step in job.steps() {
                        if let Some(run) = step.run() {
                            let _ = shell::scan(&run.text(&wf.src).text);
                        }
                    }
                }
            }
        }

        #[test]
        fn yaml_takes_any_text(text in "\\PC{0,200}") {
            let _ = yaml::parse(&text);
        }
    }

    /// The whole check over arbitrary workflow files: no panic.
    #[test]
    fn check_survives_garbage_workflows() {
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
        let mut runner = TestRunner::deterministic();
        for k in 0..64 {
            let text = yamlish().new_tree(&mut runner).unwrap().current();
            let script = shellish().new_tree(&mut runner).unwrap().current();
            std::fs::write(
                dir.path().join(format!(".github/workflows/w{k}.yml")),
                &text,
            )
            .unwrap();
            std::fs::write(
                dir.path().join(format!(".github/workflows/s{k}.yml")),
                format!(
                    "on: push\njobs:\n  a:\n    steps:\n      - run: {}\n",
                    serde_json::to_string(&script).unwrap()
                ),
            )
            .unwrap();
        }
        let report = super::run(&dir, Vec::new());
        assert_eq!(report.workflows, 128);
    }
}
