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
        self.stack_outputs
            .is_some_and(|raw| raw.get().contains("\"ciphertext\""))
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
