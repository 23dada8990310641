//! What Pulumi manages: the Kubernetes resources of a stack's state, read lean.
//!
//! Accepts the `pulumi stack export` envelope and the DIY checkpoint (versions 0–4), and reads
//! only `resources[]`' identity fields and `outputs.metadata.{uid,namespace,name}`; everything
//! else (inputs, the live object copy, `__inputs`, secrets) is skipped unread. Secret-wrapped
//! outputs with a `plaintext` are unwrapped; ciphertexts fall back to the resource id.

use serde::Deserialize;

use super::kinds::{self, Token};
use super::loose::{Flag, Obj, Text};

/// Newest state version understood (as `state::parse`).
const MAX_VERSION: i64 = 4;

/// A Kubernetes object resource of the stack.
#[derive(Clone, Debug)]
pub(crate) struct StateResource {
    pub(crate) urn: String,
    pub(crate) type_token: String,
    pub(crate) token: Token,
    /// `None` when cluster-scoped.
    pub(crate) namespace: Option<String>,
    pub(crate) name: String,
    pub(crate) uid: Option<String>,
    /// Read with `.get()`: not managed.
    pub(crate) external: bool,
    pub(crate) protect: bool,
    pub(crate) retain_on_delete: bool,
}

/// A `kubernetes:helm.sh/v3:Release`: its objects are not in state.
#[derive(Clone, Debug)]
pub(crate) struct Release {
    pub(crate) urn: String,
    pub(crate) namespace: String,
    pub(crate) name: String,
}

/// A `pulumi:providers:kubernetes` resource.
#[derive(Clone, Debug)]
pub(crate) struct Provider {
    pub(crate) urn: String,
    /// The provider's logical name (last URN segment).
    pub(crate) name: String,
    /// A default provider (`default`, `default_4_18_1`).
    pub(crate) default: bool,
    /// How many Kubernetes resources use it.
    pub(crate) uses: usize,
}

/// The stack's Kubernetes resources.
#[derive(Debug, Default)]
pub(crate) struct StateIndex {
    pub(crate) resources: Vec<StateResource>,
    pub(crate) releases: Vec<Release>,
    pub(crate) providers: Vec<Provider>,
    /// Every `(type, logical name)` already in state, so imports do not collide with them.
    pub(crate) taken: std::collections::HashSet<(String, String)>,
    /// Resources in the document, all types.
    pub(crate) resource_count: usize,
    /// Resources pending deletion (`delete: true`), skipped.
    pub(crate) pending_delete: usize,
    pub(crate) version: i64,
}

impl StateIndex {
    /// The provider to name in import files: the one most Kubernetes resources use, an
    /// explicit provider winning a tie.
    pub(crate) fn import_provider(&self) -> Option<&Provider> {
        self.providers
            .iter()
            .max_by_key(|p| (p.uses, !p.default, std::cmp::Reverse(p.urn.clone())))
    }

    /// One line about the state, for `-v` and reports.
    pub(crate) fn describe(&self) -> String {
        let n = |count: usize, what: &str| {
            format!("{count} {what}{}", if count == 1 { "" } else { "s" })
        };
        format!(
            "state version {}, {}, {}, {}, {}",
            self.version,
            n(self.resource_count, "resource"),
            n(self.resources.len(), "Kubernetes object"),
            n(self.releases.len(), "Helm release"),
            n(self.providers.len(), "kubernetes provider")
        )
    }
}

/// Why the state could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StateReadError {
    #[error("the state is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("not a Pulumi state: expected a `pulumi stack export` document or a DIY checkpoint")]
    UnknownShape,
    #[error("state version {0} is not supported (0 to {MAX_VERSION})")]
    Version(i64),
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    version: Option<i64>,
    #[serde(default)]
    deployment: Option<Body>,
    #[serde(default)]
    checkpoint: Option<Checkpoint>,
    #[serde(default)]
    latest: Option<Body>,
    #[serde(default)]
    stack: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct Checkpoint {
    #[serde(default)]
    latest: Option<Body>,
}

#[derive(Deserialize, Default)]
struct Body {
    #[serde(default)]
    resources: Vec<RawResource>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawResource {
    urn: Text,
    #[serde(rename = "type")]
    ty: Text,
    id: Text,
    custom: Flag,
    external: Flag,
    delete: Flag,
    protect: Flag,
    retain_on_delete: Flag,
    provider: Text,
    outputs: Obj<RawOutputs>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawOutputs {
    metadata: Obj<RawMeta>,
    name: Text,
    namespace: Text,
    status: Obj<RawReleaseStatus>,
    /// A secret-wrapped value's plaintext (JSON text).
    plaintext: Text,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawMeta {
    uid: Text,
    namespace: Text,
    name: Text,
    plaintext: Text,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawReleaseStatus {
    name: Text,
    namespace: Text,
}

/// Unwrap a `{sig, plaintext}` secret into what it holds.
fn unwrap_outputs(outputs: RawOutputs) -> RawOutputs {
    match outputs.plaintext.0.as_deref() {
        Some(text) => serde_json::from_str(text).unwrap_or_default(),
        None => outputs,
    }
}

fn unwrap_meta(meta: RawMeta) -> RawMeta {
    match meta.plaintext.0.as_deref() {
        Some(text) => serde_json::from_str(text).unwrap_or_default(),
        None => meta,
    }
}

/// Split a Kubernetes id: `ns/name` → (Some(ns), name); `name` → (None, name).
fn split_id(id: &str) -> (Option<String>, String) {
    match id.split_once('/') {
        Some((ns, name)) if !ns.is_empty() => (Some(ns.to_owned()), name.to_owned()),
        Some((_, name)) => (None, name.to_owned()),
        None => (None, id.to_owned()),
    }
}

/// The `(type, name)` of a URN: `urn:pulumi:s::p::a$b::name` → (`b`, `name`).
pub(crate) fn urn_type_name(urn: &str) -> Option<(&str, &str)> {
    let mut parts = urn.splitn(4, "::");
    let _stack = parts.next()?;
    let _project = parts.next()?;
    let types = parts.next()?;
    let name = parts.next()?;
    Some((types.rsplit('$').next()?, name))
}

/// Read the Kubernetes side of a state document.
pub(crate) fn index(text: &str) -> Result<StateIndex, StateReadError> {
    let env: Envelope = serde_json::from_str(text)?;
    let (version, body) = match (env.deployment, env.checkpoint) {
        (Some(dep), None) => (env.version.unwrap_or(3), Some(dep)),
        (None, Some(cp)) => (env.version.unwrap_or(0), cp.latest),
        (None, None) if env.latest.is_some() || env.stack.is_some() => (0, env.latest),
        (None, None) if env.version.is_some() => (env.version.unwrap_or(0), None),
        _ => return Err(StateReadError::UnknownShape),
    };
    if !(0..=MAX_VERSION).contains(&version) {
        return Err(StateReadError::Version(version));
    }
    let mut out = StateIndex {
        version,
        ..StateIndex::default()
    };
    let Some(body) = body else {
        return Ok(out);
    };
    out.resource_count = body.resources.len();
    let mut provider_refs: Vec<String> = Vec::new();
    for r in body.resources {
        let (Some(urn), Some(ty)) = (r.urn.0, r.ty.0) else {
            continue;
        };
        if let Some((t, n)) = urn_type_name(&urn) {
            out.taken.insert((t.to_owned(), n.to_owned()));
        }
        if r.delete.0 == Some(true) {
            out.pending_delete += 1;
            continue;
        }
        if ty == "pulumi:providers:kubernetes" {
            let name = urn_type_name(&urn)
                .map(|(_, n)| n.to_owned())
                .unwrap_or_default();
            out.providers.push(Provider {
                default: name == "default" || name.starts_with("default_"),
                name,
                urn,
                uses: 0,
            });
            continue;
        }
        if r.custom.0 != Some(true) {
            continue; // components: ConfigFile, ConfigGroup, Chart, Directory
        }
        let Some(token) = kinds::parse_token(&ty) else {
            continue;
        };
        if let Some(p) = r.provider.0 {
            provider_refs.push(p);
        }
        let outputs = r.outputs.0.map(unwrap_outputs).unwrap_or_default();
        let id = r.id.0.unwrap_or_default();
        if token.group == "helm.sh" {
            if token.kind == "Release" {
                let status = outputs.status.0.unwrap_or_default();
                let (id_ns, id_name) = split_id(&id);
                let name = outputs.name.take().or_else(|| status.name.take());
                let namespace = outputs.namespace.take().or_else(|| status.namespace.take());
                out.releases.push(Release {
                    urn,
                    namespace: namespace.or(id_ns).unwrap_or_else(|| "default".into()),
                    name: name.unwrap_or(id_name),
                });
            }
            continue;
        }
        let meta = outputs.metadata.0.map(unwrap_meta).unwrap_or_default();
        let (id_ns, id_name) = split_id(&id);
        let name = meta.name.take().unwrap_or(id_name);
        if name.is_empty() {
            continue;
        }
        out.resources.push(StateResource {
            urn,
            type_token: ty,
            token,
            namespace: meta.namespace.take().or(id_ns),
            name,
            uid: meta.uid.take(),
            external: r.external.0 == Some(true),
            protect: r.protect.0 == Some(true),
            retain_on_delete: r.retain_on_delete.0 == Some(true),
        });
    }
    for p in &mut out.providers {
        let prefix = format!("{}::", p.urn);
        p.uses = provider_refs
            .iter()
            .filter(|r| r.starts_with(&prefix))
            .count();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIG: &str = "4dabf18193072939515e22adb298388d";
    const SECRET: &str = "1b47061264138c4ac30d75fd1eb44270";

    #[test]
    fn export_and_checkpoint() {
        let resources = format!(
            r#"[
  {{"urn":"urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev","custom":false,"type":"pulumi:pulumi:Stack"}},
  {{"urn":"urn:pulumi:dev::p::pulumi:providers:kubernetes::k8s","custom":true,"type":"pulumi:providers:kubernetes","id":"abc"}},
  {{"urn":"urn:pulumi:dev::p::kubernetes:apps/v1:Deployment::web","custom":true,"type":"kubernetes:apps/v1:Deployment","id":"apps/web-1",
    "provider":"urn:pulumi:dev::p::pulumi:providers:kubernetes::k8s::abc","protect":true,
    "outputs":{{"__inputs":{{"{SIG}":"{SECRET}","ciphertext":"xyz"}},"metadata":{{"name":"web-1","namespace":"apps","uid":"u-1"}}}}}},
  {{"urn":"urn:pulumi:dev::p::kubernetes:core/v1:Namespace::apps","custom":true,"type":"kubernetes:core/v1:Namespace","id":"apps",
    "outputs":{{"{SIG}":"{SECRET}","plaintext":"{{\"metadata\":{{\"name\":\"apps\",\"uid\":\"u-ns\"}}}}"}}}},
  {{"urn":"urn:pulumi:dev::p::kubernetes:core/v1:ConfigMap::cfg","custom":true,"type":"kubernetes:core/v1:ConfigMap","id":"apps/cfg","external":true}},
  {{"urn":"urn:pulumi:dev::p::kubernetes:core/v1:ConfigMap::old","custom":true,"type":"kubernetes:core/v1:ConfigMap","id":"apps/old","delete":true}},
  {{"urn":"urn:pulumi:dev::p::kubernetes:helm.sh/v3:Release::db","custom":true,"type":"kubernetes:helm.sh/v3:Release","id":"data/db-1a2b",
    "outputs":{{"name":"db-1a2b","namespace":"data","status":{{"name":"db-1a2b"}}}}}},
  {{"urn":"urn:pulumi:dev::p::kubernetes:yaml:ConfigFile::f","custom":false,"type":"kubernetes:yaml:ConfigFile"}}
]"#
        );
        let export = format!(r#"{{"version":3,"deployment":{{"resources":{resources}}}}}"#);
        let checkpoint = format!(
            r#"{{"version":3,"checkpoint":{{"stack":"organization/p/dev","latest":{{"resources":{resources}}}}}}}"#
        );
        for text in [export, checkpoint] {
            let idx = index(&text).unwrap();
            assert_eq!(idx.resource_count, 8);
            assert_eq!(idx.pending_delete, 1);
            assert_eq!(idx.resources.len(), 3);
            let web = &idx.resources[0];
            assert_eq!(
                (
                    web.namespace.as_deref(),
                    web.name.as_str(),
                    web.uid.as_deref()
                ),
                (Some("apps"), "web-1", Some("u-1"))
            );
            assert!(web.protect);
            let ns = &idx.resources[1];
            assert_eq!(
                (ns.namespace.as_deref(), ns.uid.as_deref()),
                (None, Some("u-ns"))
            );
            assert!(idx.resources[2].external);
            assert_eq!(idx.releases[0].name, "db-1a2b");
            assert_eq!(idx.releases[0].namespace, "data");
            let p = idx.import_provider().unwrap();
            assert_eq!((p.name.as_str(), p.uses), ("k8s", 1));
            assert!(
                idx.taken
                    .contains(&("kubernetes:apps/v1:Deployment".to_owned(), "web".to_owned()))
            );
        }
    }

    #[test]
    fn empty_and_bad_documents() {
        assert!(
            index(r#"{"version":3,"deployment":null}"#)
                .unwrap()
                .resources
                .is_empty()
        );
        assert!(index(r#"{"version":0,"checkpoint":{"stack":"organization/p/dev"}}"#).is_ok());
        assert!(matches!(index("{}"), Err(StateReadError::UnknownShape)));
        assert!(matches!(
            index(r#"{"version":9,"deployment":{}}"#),
            Err(StateReadError::Version(9))
        ));
        assert!(matches!(index("nope"), Err(StateReadError::Json(_))));
    }
}
