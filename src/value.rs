//! Pulumi property values with their secret markers kept.
//!
//! Values come from stack outputs (export or checkpoint JSON, where secrets are signature
//! objects) and from stack config. [`Value::Secret`] wraps whatever pulumi marked secret, at any
//! depth; [`Value::Sealed`] stands for a secret whose plaintext was not read. This module only
//! converts and inspects values: it never decrypts, prints or reads files.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::gojson;

/// Key of the signature field that marks pulumi's special objects (`sig.Key`).
pub(crate) const SIG_KEY: &str = "4dabf18193072939515e22adb298388d";
/// Signature of a secret (`sig.Secret`).
pub(crate) const SIG_SECRET: &str = "1b47061264138c4ac30d75fd1eb44270";
/// Signature of an output value (`sig.OutputValue`).
pub(crate) const SIG_OUTPUT: &str = "d0e6a833031e9bbcd3f4e8bde6ca49a4";

/// A property value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    Object(BTreeMap<String, Value>),
    /// A value pulumi marked secret.
    Secret(Box<Value>),
    /// The plaintext of a secret that was not decrypted (only ever inside [`Value::Secret`]).
    Sealed,
}

/// What to do with a secret envelope's `ciphertext` while converting state JSON.
pub(crate) trait Unseal {
    /// Decrypt `ciphertext` to the JSON text of the value, or `Ok(None)` to leave it sealed.
    fn unseal(&self, ciphertext: &str) -> Result<Option<String>, String>;
}

/// Leaves every ciphertext sealed: for commands that print masked values only.
pub(crate) struct KeepSealed;

impl Unseal for KeepSealed {
    fn unseal(&self, _: &str) -> Result<Option<String>, String> {
        Ok(None)
    }
}

/// A malformed secret envelope or undecryptable ciphertext, with the JSON path at fault.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub(crate) struct ConvertError {
    pub(crate) path: String,
    pub(crate) message: String,
}

impl Value {
    /// Convert state JSON (export or checkpoint `outputs`) into a value, resolving secret
    /// envelopes with `unseal`. `path` names the position for error messages.
    pub(crate) fn from_state(
        json: &Json,
        unseal: &dyn Unseal,
        path: &str,
    ) -> Result<Self, ConvertError> {
        Ok(match json {
            Json::Null => Self::Null,
            Json::Bool(b) => Self::Bool(*b),
            Json::Number(n) => Self::Number(n.as_f64().unwrap_or(f64::NAN)),
            Json::String(s) => Self::String(s.clone()),
            Json::Array(items) => Self::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| Self::from_state(item, unseal, &format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            ),
            Json::Object(map) => match map.get(SIG_KEY).and_then(Json::as_str) {
                Some(SIG_SECRET) => Self::Secret(Box::new(secret_from_state(map, unseal, path)?)),
                Some(SIG_OUTPUT) => {
                    let inner = match map.get("value") {
                        Some(v) => Self::from_state(v, unseal, path)?,
                        None => Self::Null,
                    };
                    if map.get("secret").and_then(Json::as_bool) == Some(true) {
                        Self::Secret(Box::new(inner))
                    } else {
                        inner
                    }
                }
                _ => Self::Object(
                    map.iter()
                        .map(|(k, v)| {
                            Ok((
                                k.clone(),
                                Self::from_state(v, unseal, &format!("{path}.{k}"))?,
                            ))
                        })
                        .collect::<Result<_, ConvertError>>()?,
                ),
            },
        })
    }

    /// Convert plain JSON (no secret envelopes expected) into a value.
    pub(crate) fn from_plain(json: &Json) -> Self {
        Self::from_state(json, &KeepSealed, "").unwrap_or(Self::Sealed)
    }

    /// Whether this value is secret or holds a secret at any depth.
    pub(crate) fn contains_secret(&self) -> bool {
        match self {
            Self::Secret(_) | Self::Sealed => true,
            Self::Array(items) => items.iter().any(Self::contains_secret),
            Self::Object(map) => map.values().any(Self::contains_secret),
            _ => false,
        }
    }

    /// Whether a secret at any depth was left sealed.
    pub(crate) fn contains_sealed(&self) -> bool {
        match self {
            Self::Sealed => true,
            Self::Secret(inner) => inner.contains_sealed(),
            Self::Array(items) => items.iter().any(Self::contains_sealed),
            Self::Object(map) => map.values().any(Self::contains_sealed),
            _ => false,
        }
    }

    /// JSON with every secret, at any depth, replaced by the string `"[secret]"` (what
    /// `pulumi stack output --json` prints without `--show-secrets`).
    pub(crate) fn masked_json(&self) -> Json {
        self.to_json(true)
    }

    /// JSON with secrets unwrapped; sealed secrets read `"[secret]"`.
    pub(crate) fn plain_json(&self) -> Json {
        self.to_json(false)
    }

    fn to_json(&self, mask: bool) -> Json {
        match self {
            Self::Null => Json::Null,
            Self::Bool(b) => Json::Bool(*b),
            Self::Number(n) => serde_json::Number::from_f64(*n).map_or(Json::Null, Json::Number),
            Self::String(s) => Json::String(s.clone()),
            Self::Array(items) => Json::Array(items.iter().map(|v| v.to_json(mask)).collect()),
            Self::Object(map) => Json::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), v.to_json(mask)))
                    .collect(),
            ),
            Self::Secret(inner) if !mask => inner.to_json(mask),
            Self::Secret(_) | Self::Sealed => Json::String(crate::vars::SECRET_MASK.to_owned()),
        }
    }

    /// The value as pulumi's `stringifyOutput` prints it: strings raw, anything else compact
    /// JSON in Go's encoding. Secrets are unwrapped; `None` if a needed secret is sealed.
    pub(crate) fn stringify(&self) -> Option<String> {
        if self.contains_sealed() {
            return None;
        }
        Some(match self {
            Self::String(s) => s.clone(),
            Self::Secret(inner) => return inner.stringify(),
            other => gojson::compact(&other.plain_json()),
        })
    }

    /// Follow `path` from this value. Returns the value reached and whether a secret was
    /// crossed on the way, or the index of the first segment that does not resolve. A path
    /// into a secret that was not decrypted reaches that [`Value::Sealed`]: whatever is inside
    /// is secret, as `pulumi stack output` shows the whole secret as `[secret]`.
    pub(crate) fn lookup<'a>(&'a self, path: &[Segment]) -> Result<(&'a Value, bool), usize> {
        let mut current = self;
        let mut secret = false;
        for (i, seg) in path.iter().enumerate() {
            while let Self::Secret(inner) = current {
                secret = true;
                current = inner;
            }
            current = match (current, seg) {
                (Self::Sealed, _) => return Ok((current, true)),
                (Self::Object(map), Segment::Key(k)) => map.get(k).ok_or(i)?,
                (Self::Array(items), Segment::Index(n)) => items.get(*n).ok_or(i)?,
                _ => return Err(i),
            };
        }
        Ok((current, secret || current.contains_secret()))
    }
}

/// Decode a secret envelope (`plaintext` or `ciphertext`, exactly one) into its value.
fn secret_from_state(
    map: &serde_json::Map<String, Json>,
    unseal: &dyn Unseal,
    path: &str,
) -> Result<Value, ConvertError> {
    let err = |message: String| ConvertError {
        path: path.to_owned(),
        message,
    };
    let text = match (map.get("plaintext"), map.get("ciphertext")) {
        (Some(Json::String(p)), None) => p.clone(),
        (None, Some(Json::String(c))) => match unseal.unseal(c).map_err(err)? {
            Some(text) => text,
            None => return Ok(Value::Sealed),
        },
        _ => {
            return Err(err(
                "secret value must hold exactly one string `plaintext` or `ciphertext`".into(),
            ));
        }
    };
    let json: Json = serde_json::from_str(&text)
        .map_err(|e| err(format!("secret plaintext is not valid JSON ({e})")))?;
    // Secrets nested in a secret are stored as plaintext envelopes: convert them too.
    Value::from_state(&json, unseal, path).map(|v| match v {
        Value::Secret(inner) => *inner,
        other => other,
    })
}

/// One step of an output path: `.name` / `["name"]` or `[n]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Segment {
    Key(String),
    Index(usize),
}

/// Parse an output path such as `db.host`, `nodes[0].ip` or `tags["a.b"]`.
/// The first segment is always a key (the output or config name).
pub(crate) fn parse_path(path: &str) -> Result<Vec<Segment>, String> {
    let mut segs = Vec::new();
    let mut rest = path;
    let mut expect_key = true;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            if after.starts_with('"') {
                // A quoted key: JSON string syntax, so `]`, `.` and escapes may appear inside.
                let close =
                    closing_quote(after).ok_or_else(|| format!("unclosed `\"` in `{path}`"))?;
                let key: String = serde_json::from_str(&after[..=close])
                    .map_err(|e| format!("bad quoted key in `{path}`: {e}"))?;
                rest = after[close + 1..]
                    .strip_prefix(']')
                    .ok_or_else(|| format!("expected `]` after the quoted key in `{path}`"))?;
                segs.push(Segment::Key(key));
            } else {
                let close = after
                    .find(']')
                    .ok_or_else(|| format!("unclosed `[` in `{path}`"))?;
                let inner = &after[..close];
                let n = inner.parse().map_err(|_| {
                    format!("`[{inner}]` in `{path}` is neither an index nor a quoted key")
                })?;
                segs.push(Segment::Index(n));
                rest = &after[close + 1..];
            }
            expect_key = false;
        } else if !expect_key {
            rest = rest
                .strip_prefix('.')
                .ok_or_else(|| format!("expected `.` or `[` in `{path}` before `{rest}`"))?;
            expect_key = true;
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            if end == 0 {
                return Err(format!("empty name in `{path}`"));
            }
            segs.push(Segment::Key(rest[..end].to_owned()));
            rest = &rest[end..];
            expect_key = false;
        }
    }
    if segs.is_empty() || expect_key || !matches!(segs[0], Segment::Key(_)) {
        return Err(format!("`{path}` is not a valid path"));
    }
    Ok(segs)
}

/// The index of the quote closing the JSON string that starts at `text[0]`.
fn closing_quote(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(i),
            _ => {}
        }
    }
    None
}

/// Render a path back to text, as the user would write it.
pub(crate) fn display_path(path: &[Segment]) -> String {
    let mut out = String::new();
    for (i, seg) in path.iter().enumerate() {
        match seg {
            Segment::Key(k) if i == 0 => out.push_str(k),
            Segment::Key(k)
                if !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_alphanumeric() || c == '_' || c == '-') =>
            {
                out.push('.');
                out.push_str(k);
            }
            Segment::Key(k) => out.push_str(&format!("[{}]", Json::String(k.clone()))),
            Segment::Index(n) => out.push_str(&format!("[{n}]")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_kept_at_any_depth() {
        let state = json!({"db": {"host": "h", "password": {SIG_KEY: SIG_SECRET, "plaintext": "\"hunter2\""}}});
        let v = Value::from_state(&state, &KeepSealed, "outputs").unwrap();
        assert_eq!(
            v.masked_json(),
            json!({"db": {"host": "h", "password": "[secret]"}})
        );
        assert_eq!(
            v.plain_json(),
            json!({"db": {"host": "h", "password": "hunter2"}})
        );
        let path = parse_path("db.password").unwrap();
        let (found, secret) = v.lookup(&path).unwrap();
        assert!(secret);
        assert_eq!(found.stringify().as_deref(), Some("hunter2"));
        let (_, secret) = v.lookup(&parse_path("db.host").unwrap()).unwrap();
        assert!(!secret);
        let (db, secret) = v.lookup(&parse_path("db").unwrap()).unwrap();
        assert!(secret, "an object holding a secret is secret");

        // Not decrypted: a path into the secret reaches it, secret and without a value.
        let sealed = json!({"whole": {SIG_KEY: SIG_SECRET, "ciphertext": "v1:x:y"}});
        let v = Value::from_state(&sealed, &KeepSealed, "outputs").unwrap();
        let (inside, secret) = v.lookup(&parse_path("whole.a[2].b").unwrap()).unwrap();
        assert!(secret);
        assert_eq!(inside, &Value::Sealed);
        assert_eq!(inside.stringify(), None);
        assert_eq!(
            db.stringify().unwrap(),
            r#"{"host":"h","password":"hunter2"}"#
        );
    }

    #[test]
    fn ciphertext_stays_sealed_without_a_key() {
        let state = json!({SIG_KEY: SIG_SECRET, "ciphertext": "v1:abc:def"});
        let v = Value::from_state(&state, &KeepSealed, "o").unwrap();
        assert_eq!(v, Value::Secret(Box::new(Value::Sealed)));
        assert_eq!(v.stringify(), None);
        assert_eq!(v.masked_json(), json!("[secret]"));
    }

    #[test]
    fn malformed_envelope_is_an_error_with_its_path() {
        let state = json!({"a": {SIG_KEY: SIG_SECRET}});
        let err = Value::from_state(&state, &KeepSealed, "outputs").unwrap_err();
        assert_eq!(err.path, "outputs.a");
    }

    #[test]
    fn stringify_follows_pulumi() {
        assert_eq!(Value::from_plain(&json!(42)).stringify().unwrap(), "42");
        assert_eq!(Value::from_plain(&json!(true)).stringify().unwrap(), "true");
        assert_eq!(Value::from_plain(&json!(1.5)).stringify().unwrap(), "1.5");
        assert_eq!(
            Value::from_plain(&json!(["x", 1])).stringify().unwrap(),
            r#"["x",1]"#
        );
        assert_eq!(Value::from_plain(&json!(null)).stringify().unwrap(), "null");
    }

    #[test]
    fn paths_parse_and_display() {
        let p = parse_path(r#"nodes[0].ip"#).unwrap();
        assert_eq!(
            p,
            vec![
                Segment::Key("nodes".into()),
                Segment::Index(0),
                Segment::Key("ip".into())
            ]
        );
        let p = parse_path(r#"tags["a.b"]"#).unwrap();
        assert_eq!(
            p,
            vec![Segment::Key("tags".into()), Segment::Key("a.b".into())]
        );
        assert_eq!(display_path(&p), r#"tags["a.b"]"#);
        for bad in ["", ".a", "a.", "a[", "a[x]", "a..b", "[0]"] {
            assert!(parse_path(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}

/// Property tests (issue 3, acceptance 3): secret envelopes of every shape go through
/// [`Value::from_state`] without a panic, and well-formed values convert faithfully. The
/// strategies are shared with the state and passphrase property tests.
#[cfg(test)]
pub(crate) mod proptests {
    use proptest::prelude::*;
    use serde_json::{Value as Json, json};

    use super::*;
    use crate::state::Base64Unseal;

    /// 256 cases per property (a few seconds in all, debug build), or `PROPTEST_CASES`.
    pub(crate) fn config() -> ProptestConfig {
        let cases = std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(256);
        ProptestConfig {
            cases,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    /// Numbers that survive a trip through JSON text exactly.
    fn arb_number() -> impl Strategy<Value = Json> {
        prop_oneof![
            any::<i32>().prop_map(|n| json!(n)),
            any::<u64>().prop_map(|n| json!(n)),
            (any::<i16>(), 1u8..=8).prop_map(|(n, d)| json!(f64::from(n) / f64::from(d))),
        ]
    }

    /// Object keys: short, with punctuation, never the 32-hex signature key.
    fn arb_key() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9_ .:\\[\\]\"-]{0,8}"
    }

    /// Arbitrary JSON without secret envelopes (what a plain output can be).
    pub(crate) fn arb_plain_json() -> impl Strategy<Value = Json> {
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::Bool),
            arb_number(),
            any::<String>().prop_map(Json::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
                prop::collection::btree_map(arb_key(), inner, 0..6)
                    .prop_map(|m| Json::Object(m.into_iter().collect())),
            ]
        })
    }

    /// A string field of an envelope: JSON text, junk, or base64 of either.
    fn arb_envelope_text() -> impl Strategy<Value = Json> {
        use base64::Engine as _;
        let b64 = |s: String| base64::engine::general_purpose::STANDARD.encode(s);
        prop_oneof![
            arb_plain_json().prop_map(|j| Json::String(j.to_string())),
            any::<String>().prop_map(Json::String),
            arb_plain_json().prop_map(move |j| Json::String(b64(j.to_string()))),
            any::<String>().prop_map(move |s| Json::String(b64(s))),
        ]
    }

    /// An object that is, or looks like, a secret or output-value envelope: right or wrong
    /// signature, `plaintext`/`ciphertext`/`value`/`secret` present or not, of any type.
    pub(crate) fn arb_envelope(inner: BoxedStrategy<Json>) -> impl Strategy<Value = Json> {
        let sig = prop_oneof![
            Just(json!(SIG_SECRET)),
            Just(json!(SIG_OUTPUT)),
            Just(json!("5cf8f73096256a8f31e491e813e4eb8e")),
            Just(json!(null)),
            Just(json!(7)),
        ];
        let field = |s: BoxedStrategy<Json>| prop::option::weighted(0.6, s);
        (
            sig,
            field(arb_envelope_text().boxed()),
            field(arb_envelope_text().boxed()),
            field(inner),
            field(any::<bool>().prop_map(Json::Bool).boxed()),
        )
            .prop_map(|(sig, plaintext, ciphertext, value, secret)| {
                let mut map = serde_json::Map::new();
                map.insert(SIG_KEY.to_owned(), sig);
                for (key, v) in [
                    ("plaintext", plaintext),
                    ("ciphertext", ciphertext),
                    ("value", value),
                    ("secret", secret),
                ] {
                    if let Some(v) = v {
                        map.insert(key.to_owned(), v);
                    }
                }
                Json::Object(map)
            })
    }

    /// Arbitrary JSON with envelopes of every shape at any depth.
    pub(crate) fn arb_state_json() -> impl Strategy<Value = Json> {
        arb_plain_json().prop_recursive(3, 32, 4, |inner| {
            prop_oneof![
                arb_envelope(inner.clone().boxed()),
                prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
                prop::collection::btree_map(arb_key(), inner, 0..4)
                    .prop_map(|m| Json::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Unseals some ciphertexts, refuses others and returns junk for the rest, by their text.
    struct ChaosUnseal;

    impl Unseal for ChaosUnseal {
        fn unseal(&self, ciphertext: &str) -> Result<Option<String>, String> {
            match ciphertext.len() % 4 {
                0 => Ok(None),
                1 => Err("refused".into()),
                2 => Ok(Some(ciphertext.to_owned())),
                _ => Base64Unseal.unseal(ciphertext),
            }
        }
    }

    /// Everything a command does with a converted value; checks the invariants between them.
    fn use_value(v: &Value) {
        let masked = v.masked_json();
        let plain = v.plain_json();
        if !v.contains_secret() {
            assert_eq!(masked, plain, "no secret: masking changes nothing");
        }
        if v.contains_sealed() {
            assert!(v.contains_secret(), "sealed only inside a secret");
            assert_eq!(v.stringify(), None, "sealed plaintext is never printed");
        } else {
            let _ = v.stringify();
        }
        let _ = v.lookup(&[Segment::Key("a".into()), Segment::Index(0)]);
    }

    /// `a` and `b` are the same JSON, numbers compared by value (the conversion keeps f64).
    fn same_json(a: &Json, b: &Json) -> bool {
        match (a, b) {
            (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
            (Json::Array(x), Json::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
            }
            (Json::Object(x), Json::Object(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y)
                        .all(|((kx, x), (ky, y))| kx == ky && same_json(x, y))
            }
            _ => a == b,
        }
    }

    /// Numbers keep every bit through JSON text, as Go's parser keeps them: pulumi prints
    /// `902.7142857142857` back as stored. (serde_json's default float parsing can be one ULP
    /// off; its `float_roundtrip` feature is exact.)
    #[test]
    fn numbers_keep_every_bit() {
        for text in [
            "902.7142857142857",
            "-452.14285714285717",
            "0.1",
            "1.2345678901234567",
            "2.2250738585072014e-308",
            "1.7976931348623157e308",
        ] {
            let exact: f64 = text.parse().unwrap();
            let json: Json = serde_json::from_str(text).unwrap();
            assert_eq!(Value::from_plain(&json), Value::Number(exact), "{text}");
        }
        let v = Value::from_plain(&serde_json::from_str("902.7142857142857").unwrap());
        assert_eq!(v.stringify().as_deref(), Some("902.7142857142857"));
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn from_state_never_panics(json in arb_state_json()) {
            for unseal in [&KeepSealed as &dyn Unseal, &Base64Unseal, &ChaosUnseal] {
                if let Ok(v) = Value::from_state(&json, unseal, "outputs") {
                    use_value(&v);
                }
            }
        }

        #[test]
        fn plain_values_convert_faithfully(json in arb_plain_json()) {
            let v = Value::from_state(&json, &KeepSealed, "outputs").unwrap();
            prop_assert!(!v.contains_secret());
            prop_assert!(same_json(&v.plain_json(), &json), "{json}");
            prop_assert_eq!(Value::from_plain(&json), v);
        }

        #[test]
        fn secret_envelopes_unwrap_to_their_value(json in arb_plain_json()) {
            use base64::Engine as _;
            let want = Value::Secret(Box::new(Value::from_plain(&json)));
            let text = json.to_string();
            let plaintext = json!({SIG_KEY: SIG_SECRET, "plaintext": text});
            prop_assert_eq!(&Value::from_state(&plaintext, &KeepSealed, "o").unwrap(), &want);
            let ciphertext = json!({
                SIG_KEY: SIG_SECRET,
                "ciphertext": base64::engine::general_purpose::STANDARD.encode(&text),
            });
            prop_assert_eq!(&Value::from_state(&ciphertext, &Base64Unseal, "o").unwrap(), &want);
            prop_assert_eq!(
                Value::from_state(&ciphertext, &KeepSealed, "o").unwrap(),
                Value::Secret(Box::new(Value::Sealed))
            );
            // A secret nested in a secret is stored as a plaintext envelope: one `Secret` layer.
            let nested = json!({SIG_KEY: SIG_SECRET, "plaintext": plaintext.to_string()});
            prop_assert_eq!(&Value::from_state(&nested, &KeepSealed, "o").unwrap(), &want);
            let masked = want.masked_json();
            prop_assert_eq!(masked, json!("[secret]"));
        }

        #[test]
        fn bad_secret_plaintext_is_an_error_with_its_path(text in any::<String>()) {
            prop_assume!(serde_json::from_str::<Json>(&text).is_err());
            let state = json!({"db": [{SIG_KEY: SIG_SECRET, "plaintext": text}]});
            let err = Value::from_state(&state, &KeepSealed, "outputs").unwrap_err();
            prop_assert_eq!(err.path, "outputs.db[0]");
        }

        #[test]
        fn parse_path_never_panics(path in any::<String>()) {
            if let Ok(segs) = parse_path(&path) {
                prop_assert!(matches!(segs.first(), Some(Segment::Key(_))));
                let _ = display_path(&segs);
            }
        }

        #[test]
        fn displayed_paths_parse_back(
            first in "[A-Za-z_][A-Za-z0-9_-]{0,6}",
            rest in prop::collection::vec(
                prop_oneof![
                    any::<String>().prop_map(Segment::Key),
                    (0usize..100).prop_map(Segment::Index),
                ],
                0..5,
            ),
        ) {
            let mut segs = vec![Segment::Key(first)];
            segs.extend(rest);
            let shown = display_path(&segs);
            prop_assert_eq!(parse_path(&shown), Ok(segs), "{}", shown);
        }
    }
}
