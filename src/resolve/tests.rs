use std::path::Path;

use serde_json::json;

use super::*;
use crate::value::{KeepSealed, SIG_KEY, SIG_SECRET};

fn data(outputs: serde_json::Value) -> StackData {
    let Value::Object(outputs) = Value::from_state(&outputs, &KeepSealed, "outputs").unwrap()
    else {
        panic!("outputs must be an object")
    };
    StackData {
        outputs,
        project: "proj".into(),
        ..StackData::default()
    }
}

fn mapping(text: &str) -> Mapping {
    Mapping::parse(text, Path::new("stacks/dev.yaml"), Path::new("/repo")).unwrap()
}

fn secret(v: &str) -> serde_json::Value {
    json!({SIG_KEY: SIG_SECRET, "plaintext": serde_json::Value::String(v.to_owned()).to_string()})
}

#[test]
fn outputs_paths_literals_and_templates() {
    let d = data(json!({
        "instanceIp": "203.0.113.10",
        "db": {"host": "db.internal", "port": 5432, "password": secret("hunter2")},
        "nodes": [{"ip": "10.0.0.1"}],
        "flags": {"a": true}
    }));
    let m = mapping(
        r#"env:
  IP: instanceIp
  PORT: db.port
  PW: db.password
  NODE: nodes[0].ip
  FLAGS: flags
  URL: { template: "postgres://app:{{ outputs.db.password | urlencode }}@{{ outputs.db.host }}/app" }
  API: { template: "http://{{ env.IP }}:8000" }
  LEVEL: { value: info }
  OPT: { output: nope, required: false }
  FORCED: { output: instanceIp, secret: true }
"#,
    );
    let vars = resolve(&m, &d).unwrap();
    let got: Vec<(&str, Option<&str>, bool)> = vars
        .iter()
        .map(|v| (v.name.as_str(), v.value.as_deref(), v.secret))
        .collect();
    assert_eq!(
        got,
        [
            ("IP", Some("203.0.113.10"), false),
            ("PORT", Some("5432"), false),
            ("PW", Some("hunter2"), true),
            ("NODE", Some("10.0.0.1"), false),
            ("FLAGS", Some(r#"{"a":true}"#), false),
            ("URL", Some("postgres://app:hunter2@db.internal/app"), true),
            ("API", Some("http://203.0.113.10:8000"), false),
            ("LEVEL", Some("info"), false),
            ("FORCED", Some("203.0.113.10"), true),
        ]
    );
}

#[test]
fn missing_outputs_are_all_reported_with_nearest_names() {
    let d = data(json!({"instanceIp": "1.2.3.4", "dbHost": "h", "db": {"host": "x"}}));
    let m = mapping(
        "env:\n  A: instanceIP\n  B: db.hots\n  C: { template: '{{ outputs.nope }}' }\n  D: { config: 'proj:missing' }\n",
    );
    let err = resolve(&m, &d).unwrap_err();
    assert_eq!(err.problems.len(), 4, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("stacks/dev.yaml:2: A: stack output `instanceIP` does not exist"),
        "{text}"
    );
    assert!(text.contains("(nearest first): `instanceIp`"), "{text}");
    assert!(text.contains("`db` has no key `hots`"), "{text}");
    assert!(text.contains("`outputs.nope`"), "{text}");
    assert!(
        text.contains("config key `proj:missing` is not set"),
        "{text}"
    );
}

#[test]
fn sealed_secrets_stay_unknown_but_marked() {
    let d = data(json!({"pw": {SIG_KEY: SIG_SECRET, "ciphertext": "v1:x:y"}, "host": "h"}));
    let m = mapping(
        "env:\n  PW: pw\n  URL: { template: 'x://{{ outputs.pw }}@{{ outputs.host }}' }\n  H: host\n",
    );
    let vars = resolve(&m, &d).unwrap();
    assert_eq!(vars[0].value, None);
    assert!(vars[0].secret);
    assert_eq!(
        vars[1].value, None,
        "a template over a sealed secret has no value"
    );
    assert!(vars[1].secret);
    assert_eq!(vars[2].value.as_deref(), Some("h"));
}

#[test]
fn config_keys_namespaces_and_paths() {
    let mut d = data(json!({}));
    d.config
        .insert("proj:account".into(), Value::String("acme".into()));
    d.config
        .insert("proj:db".into(), Value::from_plain(&json!({"port": 5432})));
    d.config
        .insert("other:a.b".into(), Value::String("flat".into()));
    d.config.insert(
        "proj:pw".into(),
        Value::Secret(Box::new(Value::String("s3".into()))),
    );
    let m = mapping(
        "env:\n  A: { config: account }\n  B: { config: 'proj:db.port' }\n  C: { config: 'other:a.b' }\n  D: { config: pw }\n  E: { template: '{{ config.account }}-{{ config[\"proj:pw\"] }}' }\n",
    );
    let vars = resolve(&m, &d).unwrap();
    let got: Vec<(Option<&str>, bool)> = vars
        .iter()
        .map(|v| (v.value.as_deref(), v.secret))
        .collect();
    assert_eq!(
        got,
        [
            (Some("acme"), false),
            (Some("5432"), false),
            (Some("flat"), false),
            (Some("s3"), true),
            (Some("acme-s3"), true)
        ]
    );
}

#[test]
fn reading_inside_a_secret_that_was_not_decrypted_gives_a_masked_secret() {
    // Pulumi YAML makes a whole object secret when one of its values is.
    let sealed = json!({SIG_KEY: SIG_SECRET, "ciphertext": "v1:AAAA:BBBB"});
    let d = data(json!({"db": sealed, "host": "h"}));
    let m = mapping(
        r#"env:
  DB_HOST: db.host
  URL: { template: "postgres://{{ outputs.db.user }}@{{ outputs.host }}/app" }
"#,
    );
    let vars = resolve(&m, &d).unwrap();
    let got: Vec<(&str, Option<&str>, bool)> = vars
        .iter()
        .map(|v| (v.name.as_str(), v.value.as_deref(), v.secret))
        .collect();
    assert_eq!(got, [("DB_HOST", None, true), ("URL", None, true)]);

    // What it reads outside the secret must still exist, and the template must parse.
    let m = mapping("env:\n  URL: { template: \"{{ outputs.db.user }}@{{ outputs.hots }}\" }\n");
    let err = resolve(&m, &d).unwrap_err().to_string();
    assert!(
        err.contains("template uses `outputs.hots`, which is not defined"),
        "{err}"
    );
    assert!(err.contains("`host`"), "{err}");
    let m = mapping("env:\n  URL: { template: \"{{ outputs.db.user \" }\n");
    let err = resolve(&m, &d).unwrap_err().to_string();
    assert!(err.contains("template error"), "{err}");
}
