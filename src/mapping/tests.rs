use std::path::Path;

use super::*;

fn parse(text: &str) -> Result<Mapping, MappingError> {
    Mapping::parse(text, Path::new("stacks/dev.yaml"), Path::new("/repo"))
}

#[test]
fn full_example_parses_in_order() {
    let m = parse(
        r#"
stack: dev
project: infra
env:
  LAMBDA_LABS_INSTANCE_IP: instanceIp
  DB_PASSWORD: { output: db.password }
  API_URL: { template: "http://{{ outputs.instanceIp }}:8000" }
  SNOWFLAKE_ACCOUNT: { config: "sophia:snowflakeAccount" }
  LOG_LEVEL: { value: info }
  PORT: { value: 8080 }
  FEATURE_FLAG: { output: flag, required: false }
  API_TOKEN: { output: token, secret: true }
  FIRST_NODE: nodes[0].ip
files:
  - path: .env.production
  - path: deploy/app-secret.yaml
    template: templates/k8s-secret.yaml.tera
"#,
    )
    .unwrap();
    assert_eq!(m.stack, "dev");
    assert_eq!(m.project_dir, Path::new("/repo/infra"));
    let names: Vec<&str> = m.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "LAMBDA_LABS_INSTANCE_IP",
            "DB_PASSWORD",
            "API_URL",
            "SNOWFLAKE_ACCOUNT",
            "LOG_LEVEL",
            "PORT",
            "FEATURE_FLAG",
            "API_TOKEN",
            "FIRST_NODE"
        ]
    );
    assert_eq!(m.entries[0].line, 5);
    assert_eq!(m.entries[5].source, Source::Value("8080".into()));
    assert!(!m.entries[6].required);
    assert!(m.entries[7].secret);
    assert!(m.uses_config());
    assert_eq!(
        m.files[1].template.as_deref(),
        Some("templates/k8s-secret.yaml.tera")
    );
    assert_eq!(m.files[0].path, Path::new("/repo/.env.production"));
}

#[test]
fn stack_defaults_to_the_file_stem() {
    assert_eq!(parse("env: {}").unwrap().stack, "dev");
    assert_eq!(parse("").unwrap().stack, "dev");
}

#[test]
fn unknown_keys_are_rejected_with_position() {
    let e = parse("stack: dev\nenvs:\n  A: b\n").unwrap_err();
    assert_eq!(e.line, 2, "{e}");
    assert!(e.to_string().starts_with("stacks/dev.yaml:2:"), "{e}");
    assert!(e.message.contains("envs"), "{e}");
    let e = parse("env:\n  A: { output: x, secrte: true }\n").unwrap_err();
    assert_eq!(e.line, 2, "{e}");
    assert!(e.message.contains("secrte"), "{e}");
}

#[test]
fn invalid_names_are_rejected_with_position() {
    let e = parse("env:\n  OK: a\n  1BAD: b\n").unwrap_err();
    assert_eq!((e.line, e.column), (3, 3), "{e}");
    assert!(e.message.contains("1BAD"), "{e}");
    let e = parse("env:\n  BAD-NAME: b\n").unwrap_err();
    assert_eq!(e.line, 2, "{e}");
}

#[test]
fn entries_need_exactly_one_source() {
    let e = parse("env:\n  A: { required: false }\n").unwrap_err();
    assert!(e.message.contains("one of"), "{e}");
    let e = parse("env:\n  A: { output: a, value: b }\n").unwrap_err();
    assert!(e.message.contains("only one"), "{e}");
    let e = parse("env:\n  A: { output: 'a[' }\n").unwrap_err();
    assert_eq!(e.line, 2, "{e}");
}

#[test]
fn duplicates_are_rejected() {
    let e = parse("env:\n  A: a\n  A: b\n").unwrap_err();
    assert!(
        e.message.contains("twice") || e.message.contains("duplicate"),
        "{e}"
    );
    let e = parse("files:\n  - path: .env\n  - path: .env\n").unwrap_err();
    assert!(e.message.contains("twice"), "{e}");
}

#[test]
fn names_follow_the_rule() {
    for ok in ["A", "_a", "A_1", "lower"] {
        assert!(valid_name(ok), "{ok}");
    }
    for bad in ["", "1A", "A-B", "A.B", "Ä"] {
        assert!(!valid_name(bad), "{bad}");
    }
}
