//! Pulumi state documents: the `pulumi stack export` envelope and the DIY checkpoint file.
//!
//! Parsing is lazy where it matters: a 30 MB state is scanned with borrowed raw values and only
//! the `pulumi:pulumi:Stack` resource's outputs are turned into [`Value`]s. Secrets are resolved
//! through an [`Unseal`]: kept sealed, base64 (`b64` provider) or passphrase-decrypted.
//! Reading the DIY backend layout, decrypting and stack config files live in submodules.

pub(crate) mod diy;
pub(crate) mod passphrase;
pub(crate) mod stack_config;

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::value::{ConvertError, Unseal, Value};

/// Newest export/checkpoint version this reader understands.
const MAX_VERSION: i64 = 4;

/// Why a state document could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StateError {
    #[error("not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error(
        "not a Pulumi state: expected a `pulumi stack export` document ({{\"version\", \"deployment\"}}) or a DIY checkpoint ({{\"version\", \"checkpoint\"}})"
    )]
    UnknownShape,
    #[error(
        "state version {0} is newer than stackwire understands (at most {MAX_VERSION}); update stackwire"
    )]
    TooNew(i64),
    #[error("state version {0} is not a valid version")]
    BadVersion(i64),
    #[error("secret in {0}")]
    Secret(#[from] ConvertError),
}

/// The secrets provider recorded in a deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SecretsProvider {
    /// `passphrase`, with its salt string (`v1:<salt>:v1:<nonce>:<ct>`).
    Passphrase { salt: String },
    /// `b64`: ciphertext is base64 of the JSON text (pulumi's test provider).
    Base64,
    /// Any other provider (`service`, `awskms`, `azurekeyvault`, …): only the CLI can decrypt.
    Other(String),
}

/// What a state document says about a stack, with the stack outputs not yet converted.
pub(crate) struct Deployment<'a> {
    /// Document version (export or checkpoint).
    pub(crate) version: i64,
    /// Fully qualified or bare stack name, for checkpoints.
    pub(crate) stack: Option<String>,
    /// `manifest.time`, when deployed.
    pub(crate) time: Option<String>,
    pub(crate) secrets: Option<SecretsProvider>,
    /// Number of resources, as `pulumi stack ls` counts them.
    pub(crate) resource_count: usize,
    /// Raw `outputs` of the root `pulumi:pulumi:Stack` resource.
    stack_outputs: Option<&'a RawValue>,
}

/// A resource entry with only what stackwire reads parsed; the rest stays raw.
#[derive(Deserialize)]
struct RawResource<'a> {
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    #[serde(default, borrow)]
    parent: Option<Cow<'a, str>>,
    #[serde(default)]
    delete: bool,
    #[serde(default, borrow)]
    outputs: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default)]
    version: Option<i64>,
    #[serde(default, borrow)]
    deployment: Option<&'a RawValue>,
    #[serde(default, borrow)]
    checkpoint: Option<Checkpoint<'a>>,
    // Checkpoint version 0 has no wrapper: `{"stack", "latest"}`.
    #[serde(default)]
    stack: Option<String>,
    #[serde(default, borrow)]
    latest: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Checkpoint<'a> {
    #[serde(default)]
    stack: Option<String>,
    #[serde(default, borrow)]
    latest: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct DeploymentBody<'a> {
    #[serde(default)]
    manifest: Option<Manifest>,
    #[serde(default)]
    secrets_providers: Option<ProviderDoc>,
    #[serde(default, borrow)]
    resources: Vec<RawResource<'a>>,
}

#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    time: Option<String>,
}

#[derive(Deserialize)]
struct ProviderDoc {
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    state: Option<serde_json::Value>,
}

/// Parse an export document or a DIY checkpoint (any version 0–4).
pub(crate) fn parse(text: &str) -> Result<Deployment<'_>, StateError> {
    let env: Envelope<'_> = serde_json::from_str(text)?;
    let (version, stack, latest) = match (env.deployment, env.checkpoint) {
        (Some(dep), None) => (env.version.unwrap_or(3), None, Some(dep)),
        (None, Some(cp)) => (env.version.unwrap_or(0), cp.stack, cp.latest),
        (None, None) if env.version.is_some() => (env.version.unwrap_or(0), None, None),
        (None, None) if env.stack.is_some() || env.latest.is_some() => (0, env.stack, env.latest),
        _ => return Err(StateError::UnknownShape),
    };
    if version > MAX_VERSION {
        return Err(StateError::TooNew(version));
    }
    if version < 0 {
        return Err(StateError::BadVersion(version));
    }
    // `"deployment": null` is how a never-deployed stack exports.
    let latest = latest.filter(|raw| raw.get() != "null");
    let Some(latest) = latest else {
        return Ok(Deployment {
            version,
            stack,
            time: None,
            secrets: None,
            resource_count: 0,
            stack_outputs: None,
        });
    };
    let body: DeploymentBody<'_> = serde_json::from_str(latest.get())?;
    let stack_outputs = body
        .resources
        .iter()
        .find(|r| r.ty == "pulumi:pulumi:Stack" && r.parent.is_none() && !r.delete)
        .and_then(|r| r.outputs);
    Ok(Deployment {
        version,
        stack,
        time: body
            .manifest
            .and_then(|m| m.time)
            .filter(|t| !t.starts_with("0001-01-01")),
        secrets: body.secrets_providers.map(|p| provider(&p)),
        resource_count: body.resources.len(),
        stack_outputs,
    })
}

fn provider(doc: &ProviderDoc) -> SecretsProvider {
    match doc.ty.as_str() {
        "passphrase" => SecretsProvider::Passphrase {
            salt: doc
                .state
                .as_ref()
                .and_then(|s| s.get("salt"))
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        },
        "b64" => SecretsProvider::Base64,
        other => SecretsProvider::Other(other.to_owned()),
    }
}

impl Deployment<'_> {
    /// One line about the document, for `-v`: its kind, version, stack and size.
    pub(crate) fn describe(&self) -> String {
        let stack = self
            .stack
            .as_deref()
            .map(|s| format!(" of `{s}`"))
            .unwrap_or_default();
        format!(
            "state version {}{stack}, {} resources",
            self.version, self.resource_count
        )
    }

    /// Whether the stack outputs hold any `ciphertext` secret (decryption would be needed).
    pub(crate) fn outputs_have_ciphertext(&self) -> bool {
        // A cheap scan: the secret signature and a `ciphertext` key (a false positive only
        // means a passphrase is asked for without need).
        self.stack_outputs.is_some_and(|raw| {
            let text = raw.get();
            text.contains(crate::value::SIG_SECRET) && text.contains("\"ciphertext\"")
        })
    }

    /// The stack outputs, with secrets resolved by `unseal`.
    pub(crate) fn outputs(
        &self,
        unseal: &dyn Unseal,
    ) -> Result<BTreeMap<String, Value>, StateError> {
        let Some(raw) = self.stack_outputs else {
            return Ok(BTreeMap::new());
        };
        let json: serde_json::Value = serde_json::from_str(raw.get())?;
        match Value::from_state(&json, unseal, "outputs")? {
            Value::Object(map) => Ok(map),
            Value::Null => Ok(BTreeMap::new()),
            _ => Err(StateError::UnknownShape),
        }
    }
}

/// Unseals `b64` provider ciphertexts: base64 of the value's JSON text.
pub(crate) struct Base64Unseal;

impl Unseal for Base64Unseal {
    fn unseal(&self, ciphertext: &str) -> Result<Option<String>, String> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(ciphertext)
            .map_err(|e| format!("b64 ciphertext is not base64 ({e})"))?;
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| "b64 ciphertext is not UTF-8".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::KeepSealed;

    const EXPORT: &str = r#"{"version":3,"deployment":{"manifest":{"time":"2026-01-02T03:04:05Z"},
        "secrets_providers":{"type":"b64","state":{}},
        "resources":[
          {"urn":"urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev","custom":false,"type":"pulumi:pulumi:Stack",
           "outputs":{"ip":"203.0.113.10","pw":{"4dabf18193072939515e22adb298388d":"1b47061264138c4ac30d75fd1eb44270","ciphertext":"Imh1bnRlcjIi"}}},
          {"urn":"urn:pulumi:dev::p::pulumi:providers:aws::default","custom":true,"type":"pulumi:providers:aws","id":"x"}]}}"#;

    #[test]
    fn export_outputs_and_secrets() {
        let dep = parse(EXPORT).unwrap();
        assert_eq!(dep.version, 3);
        assert_eq!(dep.resource_count, 2);
        assert_eq!(dep.secrets, Some(SecretsProvider::Base64));
        assert!(dep.outputs_have_ciphertext());
        let sealed = dep.outputs(&KeepSealed).unwrap();
        assert_eq!(sealed["pw"], Value::Secret(Box::new(Value::Sealed)));
        let open = dep.outputs(&Base64Unseal).unwrap();
        assert_eq!(
            open["pw"],
            Value::Secret(Box::new(Value::String("hunter2".into())))
        );
        assert_eq!(open["ip"], Value::String("203.0.113.10".into()));
    }

    #[test]
    fn checkpoint_forms() {
        let cp = format!(
            r#"{{"version":4,"features":["refreshBeforeUpdate"],"checkpoint":{{"stack":"organization/p/dev","latest":{}}}}}"#,
            &EXPORT[EXPORT.find("{\"manifest").unwrap()..EXPORT.len() - 1]
        );
        let dep = parse(&cp).unwrap();
        assert_eq!(dep.stack.as_deref(), Some("organization/p/dev"));
        assert_eq!(dep.outputs(&Base64Unseal).unwrap().len(), 2);
        let never = parse(r#"{"version":0,"checkpoint":{"stack":"organization/p/dev"}}"#).unwrap();
        assert!(never.outputs(&KeepSealed).unwrap().is_empty());
        let null = parse(r#"{"version":3,"deployment":null}"#).unwrap();
        assert!(null.outputs(&KeepSealed).unwrap().is_empty());
    }

    #[test]
    fn bad_documents_are_errors() {
        assert!(matches!(parse("{}"), Err(StateError::UnknownShape)));
        assert!(matches!(
            parse(r#"{"version":9,"deployment":{}}"#),
            Err(StateError::TooNew(9))
        ));
        assert!(matches!(
            parse(r#"{"version":3,"deployment":{"resources":7}}"#),
            Err(StateError::Json(_))
        ));
        assert!(matches!(parse("[1,"), Err(StateError::Json(_))));
    }
}

/// Fuzzing the state parser (issue 3, acceptance 3): arbitrary text, and pulumi's real
/// checkpoints mutated as text and as JSON trees, go through [`parse`] and
/// [`Deployment::outputs`] without a panic; valid documents built around arbitrary outputs, in
/// every envelope form, still parse to exactly those outputs.
#[cfg(test)]
mod proptests {
    use std::sync::OnceLock;

    use base64::Engine as _;
    use proptest::prelude::*;
    use proptest::sample::Index;
    use serde_json::{Value as Json, json};

    use super::*;
    use crate::value::proptests::{arb_envelope, arb_plain_json, arb_state_json, config};
    use crate::value::{KeepSealed, SIG_KEY, SIG_SECRET};

    const V3: &str = include_str!("../../tests/fixtures/pulumi/checkpoint-v3.json");
    const V4: &str = include_str!("../../tests/fixtures/pulumi/checkpoint-v4.json");
    const SECRETS: &str = include_str!("../../tests/fixtures/pulumi/checkpoint-secrets.json");

    fn b64(text: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    /// A root Stack resource whose outputs hold plain values and secrets of every stored form.
    fn stack_resource() -> Json {
        json!({
            "urn": "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev",
            "custom": false,
            "type": "pulumi:pulumi:Stack",
            "outputs": {
                "ip": "203.0.113.10",
                "port": 5432,
                "db": {
                    "host": "h",
                    "password": {SIG_KEY: SIG_SECRET, "ciphertext": b64("\"hunter2\"")},
                },
                "nodes": [
                    {"ip": "10.0.0.1"},
                    {SIG_KEY: SIG_SECRET, "plaintext": "{\"ip\":\"10.0.0.2\"}"},
                ],
                "nested": {SIG_KEY: SIG_SECRET, "ciphertext": b64(&json!({
                    "inner": {SIG_KEY: SIG_SECRET, "plaintext": "[1,2]"}
                }).to_string())},
            },
        })
    }

    /// Seeds for mutation: the three real checkpoints as they are (no Stack resource), and each
    /// with a Stack resource added, as checkpoint and as export, minified and indented.
    fn seeds() -> &'static [(String, Json)] {
        static SEEDS: OnceLock<Vec<(String, Json)>> = OnceLock::new();
        SEEDS.get_or_init(|| {
            let mut out = Vec::new();
            for text in [V3, V4, SECRETS] {
                let doc: Json = serde_json::from_str(text).unwrap();
                out.push((text.to_owned(), doc.clone()));
                let mut with_stack = doc.clone();
                let latest = &mut with_stack["checkpoint"]["latest"];
                latest["resources"]
                    .as_array_mut()
                    .unwrap()
                    .insert(0, stack_resource());
                let export = json!({"version": 3, "deployment": latest.clone()});
                for doc in [with_stack, export] {
                    out.push((serde_json::to_string(&doc).unwrap(), doc.clone()));
                    out.push((serde_json::to_string_pretty(&doc).unwrap(), doc));
                }
            }
            out
        })
    }

    /// Everything stackwire does with a parsed document: no panic, whatever it holds.
    fn exercise(text: &str) {
        let Ok(dep) = parse(text) else { return };
        let _ = dep.describe();
        let _ = dep.outputs_have_ciphertext();
        let _ = dep.outputs(&KeepSealed);
        if let Ok(outputs) = dep.outputs(&Base64Unseal) {
            for v in outputs.values() {
                let _ = (v.masked_json(), v.plain_json(), v.stringify());
            }
        }
    }

    /// Seed documents parse, and the added Stack outputs come out with their secrets.
    #[test]
    fn seeds_parse() {
        for (text, doc) in seeds() {
            let dep = parse(text).unwrap();
            assert_eq!(
                dep.resource_count,
                doc.to_string().matches("\"urn\"").count()
            );
            let outputs = dep.outputs(&Base64Unseal).unwrap();
            if outputs.is_empty() {
                assert!(!dep.outputs_have_ciphertext());
                continue;
            }
            assert!(dep.outputs_have_ciphertext());
            let shown = Json::Object(
                outputs
                    .iter()
                    .map(|(k, v)| (k.clone(), v.plain_json()))
                    .collect(),
            );
            assert_eq!(
                shown,
                json!({"db": {"host": "h", "password": "hunter2"}, "ip": "203.0.113.10",
                       "nested": {"inner": [1.0, 2.0]},
                       "nodes": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}],
                       "port": 5432.0})
            );
            let sealed = dep.outputs(&KeepSealed).unwrap();
            assert!(sealed["db"].contains_sealed() && !sealed["nodes"].contains_sealed());
        }
    }

    /// A text edit of a seed: what, where, how long, and what to put there.
    #[derive(Clone, Debug)]
    enum TextEdit {
        Delete(Index, usize),
        Duplicate(Index, usize),
        Replace(Index, usize, &'static str),
        Insert(Index, &'static str),
        Truncate(Index),
    }

    /// Fragments likely to make a document odd rather than merely invalid.
    const FRAGMENTS: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        "\"",
        ",",
        ":",
        "null",
        "true",
        "0",
        "-1",
        "1e400",
        "\"\\ud800\"",
        "\\",
        "\"version\":9,",
        "\"version\":-1,",
        "\"latest\":null,",
        "\"deployment\":null,",
        "\"type\":\"pulumi:pulumi:Stack\",",
        "\"outputs\":",
        "\"delete\":true,",
        "\"parent\":\"x\",",
        concat!(
            "{\"4dabf18193072939515e22adb298388d\":\"1b47061264138c4ac30d75fd1eb44270\",",
            "\"ciphertext\":\"!!\"}"
        ),
        concat!(
            "{\"4dabf18193072939515e22adb298388d\":\"1b47061264138c4ac30d75fd1eb44270\",",
            "\"plaintext\":\"{\"}"
        ),
        "{\"4dabf18193072939515e22adb298388d\":\"1b47061264138c4ac30d75fd1eb44270\"}",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        "\u{feff}",
        "\u{0}",
        "é",
    ];

    fn arb_text_edit() -> impl Strategy<Value = TextEdit> {
        let fragment = prop::sample::select(FRAGMENTS);
        prop_oneof![
            (any::<Index>(), 1usize..200).prop_map(|(at, n)| TextEdit::Delete(at, n)),
            (any::<Index>(), 1usize..200).prop_map(|(at, n)| TextEdit::Duplicate(at, n)),
            (any::<Index>(), 0usize..20, fragment.clone())
                .prop_map(|(at, n, f)| TextEdit::Replace(at, n, f)),
            (any::<Index>(), fragment).prop_map(|(at, f)| TextEdit::Insert(at, f)),
            any::<Index>().prop_map(TextEdit::Truncate),
        ]
    }

    fn apply_text_edit(bytes: &mut Vec<u8>, edit: &TextEdit) {
        let len = bytes.len();
        let at = |i: &Index| if len == 0 { 0 } else { i.index(len + 1) };
        let span = |start: usize, n: usize| start..(start + n).min(len);
        match edit {
            TextEdit::Delete(i, n) => {
                bytes.drain(span(at(i), *n));
            }
            TextEdit::Duplicate(i, n) => {
                let range = span(at(i), *n);
                let copy = bytes[range.clone()].to_vec();
                bytes.splice(range.end..range.end, copy);
            }
            TextEdit::Replace(i, n, f) => {
                bytes.splice(span(at(i), *n), f.bytes());
            }
            TextEdit::Insert(i, f) => {
                let start = at(i);
                bytes.splice(start..start, f.bytes());
            }
            TextEdit::Truncate(i) => bytes.truncate(at(i)),
        }
    }

    /// A change to one node of a seed's JSON tree.
    #[derive(Clone, Debug)]
    enum TreeEdit {
        /// Replace the node with arbitrary JSON (often another type).
        Replace(Json),
        /// Remove one of the node's children.
        Delete(Index),
        /// Copy one of the node's children (arrays: in place; objects: under a meaningful key).
        Duplicate(Index, &'static str),
        /// Set a meaningful key of the node (made an object if it is not one).
        Set(&'static str, Json),
        /// Replace the node with a secret or output-value envelope, well-formed or not.
        Envelope(Json),
        /// Keep the content, change the type: object ↔ array, number ↔ string, bool → number.
        Retype,
    }

    /// Keys stackwire or pulumi give a meaning to.
    const KEYS: &[&str] = &[
        "version",
        "features",
        "checkpoint",
        "deployment",
        "stack",
        "latest",
        "manifest",
        "time",
        "secrets_providers",
        "type",
        "state",
        "salt",
        "resources",
        "urn",
        "parent",
        "delete",
        "outputs",
        "4dabf18193072939515e22adb298388d",
        "ciphertext",
        "plaintext",
        "value",
        "secret",
    ];

    fn arb_tree_edit() -> impl Strategy<Value = TreeEdit> {
        let key = prop::sample::select(KEYS);
        let special = prop_oneof![
            Just(json!(null)),
            Just(json!(9)),
            Just(json!(-1)),
            Just(json!("pulumi:pulumi:Stack")),
            Just(json!("passphrase")),
            Just(json!("b64")),
            Just(json!(1e300)),
            Just(json!(u64::MAX)),
        ];
        prop_oneof![
            arb_state_json().prop_map(TreeEdit::Replace),
            any::<Index>().prop_map(TreeEdit::Delete),
            (any::<Index>(), key.clone()).prop_map(|(i, k)| TreeEdit::Duplicate(i, k)),
            (key, prop_oneof![special, arb_state_json()]).prop_map(|(k, v)| TreeEdit::Set(k, v)),
            arb_envelope(arb_plain_json().boxed()).prop_map(TreeEdit::Envelope),
            Just(TreeEdit::Retype),
        ]
    }

    /// The node reached by following `path` (each step picks a child), stopping at a leaf.
    fn node<'a>(mut at: &'a mut Json, path: &[Index]) -> &'a mut Json {
        for step in path {
            let len = match &*at {
                Json::Array(items) => items.len(),
                Json::Object(map) => map.len(),
                _ => 0,
            };
            if len == 0 {
                break;
            }
            at = match at {
                Json::Array(items) => &mut items[step.index(len)],
                Json::Object(map) => map.values_mut().nth(step.index(len)).unwrap(),
                _ => unreachable!(),
            };
        }
        at
    }

    fn apply_tree_edit(target: &mut Json, edit: TreeEdit) {
        match (edit, &mut *target) {
            (TreeEdit::Replace(v) | TreeEdit::Envelope(v), _) => *target = v,
            (TreeEdit::Delete(i), Json::Array(items)) if !items.is_empty() => {
                items.remove(i.index(items.len()));
            }
            (TreeEdit::Delete(i), Json::Object(map)) if !map.is_empty() => {
                let key = map.keys().nth(i.index(map.len())).unwrap().clone();
                map.remove(&key);
            }
            (TreeEdit::Duplicate(i, _), Json::Array(items)) if !items.is_empty() => {
                let at = i.index(items.len());
                items.insert(at, items[at].clone());
            }
            (TreeEdit::Duplicate(i, key), Json::Object(map)) if !map.is_empty() => {
                let copy = map.values().nth(i.index(map.len())).unwrap().clone();
                map.insert(key.to_owned(), copy);
            }
            (TreeEdit::Set(key, v), Json::Object(map)) => {
                map.insert(key.to_owned(), v);
            }
            (TreeEdit::Set(key, v), _) => *target = json!({key: v}),
            (TreeEdit::Retype, Json::Object(map)) => {
                *target = Json::Array(map.values().cloned().collect());
            }
            (TreeEdit::Retype, Json::Array(items)) => {
                *target = Json::Object(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, v)| (i.to_string(), v.clone()))
                        .collect(),
                );
            }
            (TreeEdit::Retype, Json::String(s)) => {
                *target = s.parse::<f64>().map_or(json!(s.len()), |n| json!(n));
            }
            (TreeEdit::Retype, Json::Number(n)) => *target = json!(n.to_string()),
            (TreeEdit::Retype, Json::Bool(b)) => *target = json!(u8::from(*b)),
            (TreeEdit::Retype, Json::Null) => *target = json!({}),
            _ => {}
        }
    }

    /// Where edits land: anywhere in the document, or inside the Stack resource's outputs
    /// (when the seed has one), where secrets are decoded.
    fn edit_root(doc: &mut Json, in_outputs: bool) -> &mut Json {
        if !in_outputs {
            return doc;
        }
        let has_outputs =
            |r: &Json| r.get("outputs").is_some() && r["type"] == "pulumi:pulumi:Stack";
        let resources = if doc.get("deployment").is_some() {
            &doc["deployment"]["resources"]
        } else {
            &doc["checkpoint"]["latest"]["resources"]
        };
        let Some(i) = resources
            .as_array()
            .and_then(|r| r.iter().position(has_outputs))
        else {
            return doc;
        };
        if doc.get("deployment").is_some() {
            &mut doc["deployment"]["resources"][i]["outputs"]
        } else {
            &mut doc["checkpoint"]["latest"]["resources"][i]["outputs"]
        }
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn arbitrary_text_never_panics(text in any::<String>()) {
            exercise(&text);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            exercise(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn json_like_text_never_panics(text in "[\\[\\]{}\":,0-9a-z \\\\-]{0,80}") {
            exercise(&text);
        }

        #[test]
        fn arbitrary_envelopes_never_panic(
            version in prop_oneof![
                Just(json!(0)),
                Just(json!(3)),
                Just(json!(4)),
                arb_plain_json(),
            ],
            stack in arb_plain_json(),
            latest in arb_state_json(),
            outputs in arb_state_json(),
            form in 0..4usize,
        ) {
            // Shapes around a body: arbitrary, and a body whose Stack outputs are arbitrary.
            let body = json!({"resources": [{"type": "pulumi:pulumi:Stack", "outputs": outputs}]});
            for latest in [latest, body] {
                let doc = match form {
                    0 => json!({"version": version, "deployment": latest}),
                    1 => json!({
                        "version": version,
                        "checkpoint": {"stack": stack, "latest": latest},
                    }),
                    2 => json!({"stack": stack, "latest": latest}),
                    _ => json!({"version": version, "features": stack, "checkpoint": latest}),
                };
                exercise(&doc.to_string());
            }
        }

        #[test]
        fn text_mutations_of_real_checkpoints_never_panic(
            seed in any::<Index>(),
            edits in prop::collection::vec(arb_text_edit(), 1..6),
        ) {
            let (text, _) = seed.get(seeds());
            let mut bytes = text.as_bytes().to_vec();
            for edit in &edits {
                apply_text_edit(&mut bytes, edit);
            }
            exercise(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn tree_mutations_of_real_checkpoints_never_panic(
            seed in any::<Index>(),
            edits in prop::collection::vec(
                (any::<bool>(), prop::collection::vec(any::<Index>(), 0..8), arb_tree_edit()),
                1..4,
            ),
            pretty in any::<bool>(),
        ) {
            let (_, doc) = seed.get(seeds());
            let mut doc = doc.clone();
            for (in_outputs, path, edit) in edits {
                apply_tree_edit(node(edit_root(&mut doc, in_outputs), &path), edit);
            }
            let text = if pretty {
                serde_json::to_string_pretty(&doc).unwrap()
            } else {
                serde_json::to_string(&doc).unwrap()
            };
            exercise(&text);
        }

        #[test]
        fn valid_documents_parse_to_their_outputs(
            plain in prop::collection::btree_map("[a-r][a-zA-Z0-9_]{0,8}", arb_plain_json(), 0..6),
            secrets in prop::collection::btree_map("s[a-zA-Z0-9_]{0,8}", arb_plain_json(), 0..4),
            form in 0..5usize,
            pretty in any::<bool>(),
        ) {
            let mut outputs = serde_json::Map::new();
            let mut sealed = BTreeMap::new();
            let mut open = BTreeMap::new();
            // Expected values come from the same JSON text the document holds.
            let reparse = |j: &Json| serde_json::from_str::<Json>(&j.to_string()).unwrap();
            for (k, v) in &plain {
                let v = reparse(v);
                sealed.insert(k.clone(), Value::from_plain(&v));
                open.insert(k.clone(), Value::from_plain(&v));
                outputs.insert(k.clone(), v);
            }
            for (i, (k, v)) in secrets.iter().enumerate() {
                let v = reparse(v);
                let stored = if i % 2 == 0 {
                    json!({SIG_KEY: SIG_SECRET, "ciphertext": b64(&v.to_string())})
                } else {
                    json!({SIG_KEY: SIG_SECRET, "plaintext": v.to_string()})
                };
                let inner = if i % 2 == 0 { Value::Sealed } else { Value::from_plain(&v) };
                sealed.insert(k.clone(), Value::Secret(Box::new(inner)));
                open.insert(k.clone(), Value::Secret(Box::new(Value::from_plain(&v))));
                outputs.insert(k.clone(), stored);
            }
            let latest = json!({
                "manifest": {"time": "2026-01-02T03:04:05Z"},
                "secrets_providers": {"type": "b64", "state": {}},
                "resources": [
                    {
                        "urn": "urn:pulumi:dev::p::pulumi:providers:aws::default",
                        "type": "pulumi:providers:aws",
                    },
                    {
                        "urn": "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev",
                        "type": "pulumi:pulumi:Stack",
                        "outputs": outputs,
                    },
                ],
            });
            let stack = "organization/p/dev";
            let doc = match form {
                0 => json!({"version": 3, "deployment": latest}),
                1 => json!({"version": 3, "checkpoint": {"stack": stack, "latest": latest}}),
                2 => json!({"version": 4, "features": ["refreshBeforeUpdate"],
                            "checkpoint": {"stack": stack, "latest": latest}}),
                3 => json!({"version": 1, "checkpoint": {"stack": stack, "latest": latest}}),
                _ => json!({"stack": stack, "latest": latest}),
            };
            let text = if pretty {
                serde_json::to_string_pretty(&doc).unwrap()
            } else {
                serde_json::to_string(&doc).unwrap()
            };
            let dep = parse(&text).unwrap();
            prop_assert_eq!(dep.resource_count, 2);
            prop_assert_eq!(dep.secrets.clone(), Some(SecretsProvider::Base64));
            prop_assert_eq!(dep.time.as_deref(), Some("2026-01-02T03:04:05Z"));
            prop_assert_eq!(dep.stack.is_some(), form != 0);
            prop_assert_eq!(dep.outputs_have_ciphertext(), !secrets.is_empty());
            prop_assert_eq!(dep.outputs(&KeepSealed).unwrap(), sealed);
            prop_assert_eq!(dep.outputs(&Base64Unseal).unwrap(), open);
        }
    }
}
