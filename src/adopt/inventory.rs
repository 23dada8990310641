//! What exists: Kubernetes objects from `kubectl get -o json` output (a `List`, a single object
//! or concatenated documents), multi-document YAML manifests, and folders of them.
//!
//! Reading streams: JSON goes through [`jsonstream`](super::jsonstream) one object at a time,
//! YAML through serde-saphyr's document iterator, and each object is reduced at once to an
//! [`Object`]: identity, ownership signals and the references that order adoption. The rest of
//! the object (status, managedFields' field sets, last-applied text) is skipped unread.

use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};

use super::jsonstream::{Piece, ScanError, Scanner};
use super::kinds;
use super::loose::{AllKeys, Flag, KeyFilter, List, Obj, Pairs, Seen, Text};

/// An inventory object, reduced to what adoption reads.
#[derive(Clone, Debug, Default)]
pub(crate) struct Object {
    pub(crate) api_version: String,
    /// `""` for the core group.
    pub(crate) group: String,
    pub(crate) version: String,
    pub(crate) kind: String,
    /// `None` when cluster-scoped.
    pub(crate) namespace: Option<String>,
    pub(crate) name: String,
    pub(crate) uid: Option<String>,
    /// Index into [`Inventory::sources`].
    pub(crate) source: usize,
    /// Read from a live cluster (has server fields), not from a manifest.
    pub(crate) live: bool,
    /// Ownership-relevant labels only.
    pub(crate) labels: Vec<(String, String)>,
    /// Ownership-relevant annotations only (last-applied: key only).
    pub(crate) annotations: Vec<(String, String)>,
    /// `metadata.managedFields[].manager`, deduplicated.
    pub(crate) managers: Vec<String>,
    /// The `controller: true` ownerReference.
    pub(crate) controller: Option<OwnerRef>,
    /// A Secret's `type`.
    pub(crate) secret_type: Option<String>,
    /// A Service's `spec.type`.
    pub(crate) service_type: Option<String>,
    /// Service selector, or a workload's / PDB's `selector.matchLabels`.
    pub(crate) selector: Vec<(String, String)>,
    /// A workload's pod template labels.
    pub(crate) pod_labels: Vec<(String, String)>,
    /// Objects this one names (PodSpec references, backends, role refs, …).
    pub(crate) refs: Vec<Ref>,
    /// A StatefulSet's `volumeClaimTemplates[].metadata.name`.
    pub(crate) claim_templates: Vec<String>,
    /// A CustomResourceDefinition's group, kind and scope.
    pub(crate) crd: Option<CrdInfo>,
}

impl Object {
    pub(crate) fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `Kind namespace/name` or `Kind name`, for messages.
    pub(crate) fn display(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }
}

/// The controlling owner of an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OwnerRef {
    pub(crate) kind: String,
    pub(crate) name: String,
}

/// A reference from one object to another, by kind and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ref {
    pub(crate) kind: &'static str,
    /// `None`: the referrer's namespace (or cluster-scoped).
    pub(crate) namespace: Option<String>,
    pub(crate) name: String,
    /// Where the reference is (`serviceAccountName`, `envFrom`, …).
    pub(crate) via: &'static str,
}

/// What a CustomResourceDefinition defines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CrdInfo {
    pub(crate) group: String,
    pub(crate) kind: String,
    pub(crate) cluster_scoped: bool,
}

/// Every object read, with where it came from.
#[derive(Debug, Default)]
pub(crate) struct Inventory {
    pub(crate) objects: Vec<Object>,
    /// Source labels (file paths, the kubectl command), indexed by [`Object::source`].
    pub(crate) sources: Vec<String>,
    /// Things the user should know (skipped documents, duplicates).
    pub(crate) notes: Vec<String>,
}

/// Why the inventory could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InventoryError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("{path}: not valid JSON at byte {offset}: {message}")]
    Json {
        path: String,
        offset: u64,
        message: String,
    },
    #[error("{path}: not valid YAML: {message}")]
    Yaml { path: String, message: String },
}

// ---------------------------------------------------------------------------------------------
// Raw, tolerant shapes of what is read.

struct OwnLabels;
impl KeyFilter for OwnLabels {
    fn keep(key: &str) -> Option<bool> {
        const KEYS: &[&str] = &[
            "app.kubernetes.io/managed-by",
            "app.kubernetes.io/instance",
            "kubernetes.io/bootstrapping",
            "endpointslice.kubernetes.io/managed-by",
            "kube-aggregator.kubernetes.io/automanaged",
            "owner",
            "name",
        ];
        const PREFIXES: &[&str] = &[
            "addonmanager.kubernetes.io/",
            "kustomize.toolkit.fluxcd.io/",
            "helm.toolkit.fluxcd.io/",
        ];
        (KEYS.contains(&key) || PREFIXES.iter().any(|p| key.starts_with(p))).then_some(true)
    }
}

struct OwnAnnotations;
impl KeyFilter for OwnAnnotations {
    fn keep(key: &str) -> Option<bool> {
        match key {
            "kubectl.kubernetes.io/last-applied-configuration" => Some(false),
            "meta.helm.sh/release-name"
            | "meta.helm.sh/release-namespace"
            | "argocd.argoproj.io/tracking-id"
            | "apf.kubernetes.io/autoupdate-spec" => Some(true),
            k if k.starts_with("pulumi.com/") => Some(true),
            _ => None,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawMeta {
    name: Text,
    namespace: Text,
    uid: Text,
    creation_timestamp: Seen,
    labels: Pairs<OwnLabels>,
    annotations: Pairs<OwnAnnotations>,
    owner_references: List<Obj<RawOwner>>,
    managed_fields: List<Obj<RawManager>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawOwner {
    kind: Text,
    name: Text,
    controller: Flag,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawManager {
    manager: Text,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NameRef {
    name: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawVolume {
    config_map: Obj<NameRef>,
    secret: Obj<SecretVolume>,
    persistent_volume_claim: Obj<ClaimVolume>,
    projected: Obj<Projected>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SecretVolume {
    secret_name: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ClaimVolume {
    claim_name: Text,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Projected {
    sources: List<Obj<ProjectedSource>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ProjectedSource {
    config_map: Obj<NameRef>,
    secret: Obj<NameRef>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawContainer {
    env_from: List<Obj<EnvFrom>>,
    env: List<Obj<EnvVar>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct EnvFrom {
    config_map_ref: Obj<NameRef>,
    secret_ref: Obj<NameRef>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct EnvVar {
    value_from: Obj<ValueFrom>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ValueFrom {
    config_map_key_ref: Obj<NameRef>,
    secret_key_ref: Obj<NameRef>,
}

/// The PodSpec fields that name other objects.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawPodSpec {
    service_account_name: Text,
    service_account: Text,
    volumes: List<Obj<RawVolume>>,
    containers: List<Obj<RawContainer>>,
    init_containers: List<Obj<RawContainer>>,
    image_pull_secrets: List<Obj<NameRef>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawTemplateMeta {
    labels: Pairs<AllKeys>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawPodTemplate {
    metadata: Obj<RawTemplateMeta>,
    spec: Obj<RawPodSpec>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawJobSpec {
    template: Obj<RawPodTemplate>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawJobTemplate {
    spec: Obj<RawJobSpec>,
}

/// A label selector: `{matchLabels, matchExpressions}` or a Service's plain map.
#[derive(Default)]
struct Selector(Vec<(String, String)>);

impl<'de> Deserialize<'de> for Selector {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Selector;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a label selector")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Selector, A::Error> {
                let mut pairs = Vec::new();
                while let Some(key) = map.next_key::<Text>()? {
                    match key.0.as_deref() {
                        Some("matchLabels") => {
                            pairs.extend(map.next_value::<Pairs<AllKeys>>()?.0);
                        }
                        Some(k) => {
                            let k = k.to_owned();
                            if let Some(v) = map.next_value::<Text>()?.0 {
                                if k != "matchExpressions" {
                                    pairs.push((k, v));
                                }
                            }
                        }
                        None => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(Selector(pairs))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Selector, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Selector::default())
            }
            fn visit_str<E>(self, _: &str) -> Result<Selector, E> {
                Ok(Selector::default())
            }
            fn visit_unit<E>(self) -> Result<Selector, E> {
                Ok(Selector::default())
            }
            fn visit_none<E>(self) -> Result<Selector, E> {
                Ok(Selector::default())
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Selector, D::Error> {
                Selector::deserialize(d)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Selector, E> {
                Ok(Selector::default())
            }
            fn visit_i64<E>(self, _: i64) -> Result<Selector, E> {
                Ok(Selector::default())
            }
            fn visit_u64<E>(self, _: u64) -> Result<Selector, E> {
                Ok(Selector::default())
            }
            fn visit_f64<E>(self, _: f64) -> Result<Selector, E> {
                Ok(Selector::default())
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ServiceBackend {
    name: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawBackend {
    service: Obj<ServiceBackend>,
    service_name: Text,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawPath {
    backend: Obj<RawBackend>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawHttp {
    paths: List<Obj<RawPath>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawRule {
    http: Obj<RawHttp>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawTls {
    secret_name: Text,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawTargetRef {
    kind: Text,
    name: Text,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawClaimTemplateMeta {
    name: Text,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawClaimTemplate {
    metadata: Obj<RawClaimTemplateMeta>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawCrdNames {
    kind: Text,
}

/// `spec`, for every kind at once: only fields with the expected shape are kept.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawSpec {
    #[serde(rename = "type")]
    ty: Text,
    selector: Obj<Selector>,
    template: Obj<RawPodTemplate>,
    job_template: Obj<RawJobTemplate>,
    // A Pod's spec is a PodSpec.
    service_account_name: Text,
    service_account: Text,
    volumes: List<Obj<RawVolume>>,
    containers: List<Obj<RawContainer>>,
    init_containers: List<Obj<RawContainer>>,
    image_pull_secrets: List<Obj<NameRef>>,
    // StatefulSet
    volume_claim_templates: List<Obj<RawClaimTemplate>>,
    service_name: Text,
    // Ingress
    rules: List<Obj<RawRule>>,
    default_backend: Obj<RawBackend>,
    backend: Obj<RawBackend>,
    tls: List<Obj<RawTls>>,
    // HorizontalPodAutoscaler
    scale_target_ref: Obj<RawTargetRef>,
    // PersistentVolumeClaim
    storage_class_name: Text,
    volume_name: Text,
    // CustomResourceDefinition
    group: Text,
    names: Obj<RawCrdNames>,
    scope: Text,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawRoleRef {
    kind: Text,
    name: Text,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawSubject {
    kind: Text,
    name: Text,
    namespace: Text,
}

/// One document (an object, or a `List` with `items`).
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawDoc {
    api_version: Text,
    kind: Text,
    metadata: Obj<RawMeta>,
    #[serde(rename = "type")]
    ty: Text,
    spec: Obj<RawSpec>,
    role_ref: Obj<RawRoleRef>,
    subjects: List<Obj<RawSubject>>,
    items: List<Obj<RawDoc>>,
}

/// A top-level YAML document: an object, or (unusually) a sequence of objects.
enum Top {
    One(Box<RawDoc>),
    Many(Vec<Obj<RawDoc>>),
    Nothing,
}

impl<'de> Deserialize<'de> for Top {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Top;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a Kubernetes object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Top, A::Error> {
                RawDoc::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(|d| Top::One(Box::new(d)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Top, A::Error> {
                Vec::<Obj<RawDoc>>::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))
                    .map(Top::Many)
            }
            fn visit_str<E>(self, _: &str) -> Result<Top, E> {
                Ok(Top::Nothing)
            }
            fn visit_unit<E>(self) -> Result<Top, E> {
                Ok(Top::Nothing)
            }
            fn visit_none<E>(self) -> Result<Top, E> {
                Ok(Top::Nothing)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Top, E> {
                Ok(Top::Nothing)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Top, E> {
                Ok(Top::Nothing)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Top, E> {
                Ok(Top::Nothing)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Top, E> {
                Ok(Top::Nothing)
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------------------------
// Conversion.

fn text(t: Text) -> Option<String> {
    t.take()
}

fn name_of(r: Obj<NameRef>) -> Option<String> {
    r.0.and_then(|n| n.name.take())
}

fn push_ref(refs: &mut Vec<Ref>, kind: &'static str, name: Option<String>, via: &'static str) {
    if let Some(name) = name {
        let r = Ref {
            kind,
            namespace: None,
            name,
            via,
        };
        if !refs.contains(&r) {
            refs.push(r);
        }
    }
}

fn pod_refs(spec: RawPodSpec, refs: &mut Vec<Ref>) {
    let sa = text(spec.service_account_name).or_else(|| text(spec.service_account));
    push_ref(refs, "ServiceAccount", sa, "serviceAccountName");
    for v in spec.volumes.0.into_iter().filter_map(|v| v.0) {
        push_ref(refs, "ConfigMap", name_of(v.config_map), "volumes");
        push_ref(
            refs,
            "Secret",
            v.secret.0.and_then(|s| s.secret_name.take()),
            "volumes",
        );
        push_ref(
            refs,
            "PersistentVolumeClaim",
            v.persistent_volume_claim
                .0
                .and_then(|c| c.claim_name.take()),
            "volumes",
        );
        if let Some(p) = v.projected.0 {
            for s in p.sources.0.into_iter().filter_map(|s| s.0) {
                push_ref(refs, "ConfigMap", name_of(s.config_map), "volumes");
                push_ref(refs, "Secret", name_of(s.secret), "volumes");
            }
        }
    }
    for c in spec
        .containers
        .0
        .into_iter()
        .chain(spec.init_containers.0)
        .filter_map(|c| c.0)
    {
        for e in c.env_from.0.into_iter().filter_map(|e| e.0) {
            push_ref(refs, "ConfigMap", name_of(e.config_map_ref), "envFrom");
            push_ref(refs, "Secret", name_of(e.secret_ref), "envFrom");
        }
        for e in c.env.0.into_iter().filter_map(|e| e.0) {
            if let Some(vf) = e.value_from.0 {
                push_ref(refs, "ConfigMap", name_of(vf.config_map_key_ref), "env");
                push_ref(refs, "Secret", name_of(vf.secret_key_ref), "env");
            }
        }
    }
    for s in spec.image_pull_secrets.0 {
        push_ref(refs, "Secret", name_of(s), "imagePullSecrets");
    }
}

fn backend_service(b: RawBackend) -> Option<String> {
    b.service
        .0
        .and_then(|s| s.name.take())
        .or_else(|| b.service_name.take())
}

/// Reduce a parsed document to an object; `None` when it is not a named Kubernetes object.
fn object_from(doc: RawDoc, source: usize) -> Option<Object> {
    let kind = text(doc.kind)?;
    let api_version = text(doc.api_version).unwrap_or_default();
    let meta = doc.metadata.0?;
    let name = text(meta.name)?;
    let (group, version) = kinds::split_api_version(&api_version);
    let (group, version) = (group.to_owned(), version.to_owned());
    let uid = text(meta.uid);
    let live = uid.is_some() || meta.creation_timestamp.0;
    let controller = meta
        .owner_references
        .0
        .into_iter()
        .filter_map(|o| o.0)
        .find(|o| o.controller.0 == Some(true))
        .and_then(|o| {
            Some(OwnerRef {
                kind: o.kind.take()?,
                name: o.name.take().unwrap_or_default(),
            })
        });
    let mut managers: Vec<String> = Vec::new();
    for m in meta.managed_fields.0.into_iter().filter_map(|m| m.0) {
        if let Some(m) = m.manager.take() {
            if !managers.contains(&m) {
                managers.push(m);
            }
        }
    }
    let mut obj = Object {
        api_version,
        group,
        version,
        kind,
        namespace: text(meta.namespace),
        name,
        uid,
        source,
        live,
        labels: meta.labels.0,
        annotations: meta.annotations.0,
        managers,
        controller,
        secret_type: text(doc.ty),
        ..Object::default()
    };
    let mut refs = Vec::new();
    if let Some(spec) = doc.spec.0 {
        obj.service_type = text(spec.ty);
        if let Some(sel) = spec.selector.0 {
            obj.selector = sel.0;
        }
        let template = spec
            .template
            .0
            .or_else(|| spec.job_template.0.and_then(|j| j.spec.0?.template.0));
        if let Some(t) = template {
            if let Some(m) = t.metadata.0 {
                obj.pod_labels = m.labels.0;
            }
            if let Some(ps) = t.spec.0 {
                pod_refs(ps, &mut refs);
            }
        }
        if obj.kind == "Pod" {
            pod_refs(
                RawPodSpec {
                    service_account_name: spec.service_account_name,
                    service_account: spec.service_account,
                    volumes: spec.volumes,
                    containers: spec.containers,
                    init_containers: spec.init_containers,
                    image_pull_secrets: spec.image_pull_secrets,
                },
                &mut refs,
            );
        }
        obj.claim_templates = spec
            .volume_claim_templates
            .0
            .into_iter()
            .filter_map(|c| c.0?.metadata.0?.name.take())
            .collect();
        match obj.kind.as_str() {
            "StatefulSet" => {
                push_ref(&mut refs, "Service", text(spec.service_name), "serviceName");
            }
            "Ingress" => {
                for b in [spec.default_backend.0, spec.backend.0]
                    .into_iter()
                    .flatten()
                {
                    push_ref(&mut refs, "Service", backend_service(b), "backend");
                }
                for rule in spec.rules.0.into_iter().filter_map(|r| r.0) {
                    let paths = rule.http.0.map(|h| h.paths.0).unwrap_or_default();
                    for p in paths.into_iter().filter_map(|p| p.0) {
                        if let Some(b) = p.backend.0 {
                            push_ref(&mut refs, "Service", backend_service(b), "backend");
                        }
                    }
                }
                for t in spec.tls.0.into_iter().filter_map(|t| t.0) {
                    push_ref(&mut refs, "Secret", text(t.secret_name), "tls");
                }
            }
            "HorizontalPodAutoscaler" => {
                if let Some(t) = spec.scale_target_ref.0 {
                    let kind = t.kind.take().and_then(|k| static_kind(&k));
                    if let Some(kind) = kind {
                        push_ref(&mut refs, kind, text(t.name), "scaleTargetRef");
                    }
                }
            }
            "PersistentVolumeClaim" => {
                push_ref(
                    &mut refs,
                    "StorageClass",
                    text(spec.storage_class_name),
                    "storageClassName",
                );
                push_ref(
                    &mut refs,
                    "PersistentVolume",
                    text(spec.volume_name),
                    "volumeName",
                );
            }
            "CustomResourceDefinition" => {
                if let (Some(group), Some(kind)) =
                    (text(spec.group), spec.names.0.and_then(|n| n.kind.take()))
                {
                    obj.crd = Some(CrdInfo {
                        group,
                        kind,
                        cluster_scoped: spec.scope.0.as_deref() == Some("Cluster"),
                    });
                }
            }
            _ => {}
        }
    }
    if matches!(obj.kind.as_str(), "RoleBinding" | "ClusterRoleBinding") {
        if let Some(r) = doc.role_ref.0 {
            let kind = match r.kind.0.as_deref() {
                Some("Role") => Some("Role"),
                Some("ClusterRole") => Some("ClusterRole"),
                _ => None,
            };
            if let Some(kind) = kind {
                push_ref(&mut refs, kind, text(r.name), "roleRef");
            }
        }
        for s in doc.subjects.0.into_iter().filter_map(|s| s.0) {
            if s.kind.0.as_deref() == Some("ServiceAccount") {
                if let Some(name) = text(s.name) {
                    let r = Ref {
                        kind: "ServiceAccount",
                        namespace: text(s.namespace),
                        name,
                        via: "subjects",
                    };
                    if !refs.contains(&r) {
                        refs.push(r);
                    }
                }
            }
        }
    }
    obj.refs = refs;
    Some(obj)
}

/// The workload kinds an HPA can target, as static strings.
fn static_kind(kind: &str) -> Option<&'static str> {
    kinds::WORKLOADS.iter().copied().find(|k| *k == kind)
}

// ---------------------------------------------------------------------------------------------
// Reading.

/// Counts bytes read, for the progress bar.
struct Counting<'a, R> {
    inner: R,
    on_read: &'a dyn Fn(u64),
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.on_read)(n as u64);
        Ok(n)
    }
}

/// Collects objects from files, folders and streams.
pub(crate) struct Reader {
    default_namespace: String,
    inventory: Inventory,
    skipped: usize,
}

/// Whether a folder entry is read: JSON and YAML files.
fn is_manifest(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("json" | "yaml" | "yml")
    )
}

impl Reader {
    /// `default_namespace`: where manifests without `metadata.namespace` go.
    pub(crate) fn new(default_namespace: &str) -> Self {
        Self {
            default_namespace: default_namespace.to_owned(),
            inventory: Inventory::default(),
            skipped: 0,
        }
    }

    /// The files a path stands for: itself, or the manifests under a folder (sorted,
    /// recursively, hidden entries skipped).
    pub(crate) fn files(path: &Path) -> Result<Vec<PathBuf>, InventoryError> {
        let io_err = |p: &Path, source| InventoryError::Io {
            path: p.display().to_string(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(|e| io_err(path, e))?;
        if !meta.is_dir() {
            return Ok(vec![path.to_owned()]);
        }
        let mut out = Vec::new();
        let mut stack = vec![(path.to_owned(), 0usize)];
        while let Some((dir, depth)) = stack.pop() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map_err(|e| io_err(&dir, e))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    !p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with('.'))
                })
                .collect();
            entries.sort();
            let mut subdirs = Vec::new();
            for entry in entries {
                if entry.is_dir() {
                    if depth < 32 {
                        subdirs.push((entry, depth + 1));
                    }
                } else if is_manifest(&entry) {
                    out.push(entry);
                }
            }
            // Depth-first in name order: push reversed so the first folder is visited first.
            stack.extend(subdirs.into_iter().rev());
        }
        out.sort();
        Ok(out)
    }

    fn add_source(&mut self, label: &str) -> usize {
        self.inventory.sources.push(label.to_owned());
        self.inventory.sources.len() - 1
    }

    /// Read one file (JSON or YAML, by its first byte); `shown` labels its objects.
    pub(crate) fn read_file(
        &mut self,
        path: &Path,
        shown: &str,
        on_read: &dyn Fn(u64),
    ) -> Result<(), InventoryError> {
        let file = std::fs::File::open(path).map_err(|source| InventoryError::Io {
            path: shown.to_owned(),
            source,
        })?;
        self.read_stream(file, shown, on_read)
    }

    /// Read a stream (JSON or YAML, by its first byte).
    pub(crate) fn read_stream(
        &mut self,
        reader: impl Read,
        shown: &str,
        on_read: &dyn Fn(u64),
    ) -> Result<(), InventoryError> {
        let source = self.add_source(shown);
        let mut buffered = BufReader::with_capacity(
            64 * 1024,
            Counting {
                inner: reader,
                on_read,
            },
        );
        let first = loop {
            let buf = buffered.fill_buf().map_err(|source| InventoryError::Io {
                path: shown.to_owned(),
                source,
            })?;
            if buf.is_empty() {
                break None;
            }
            let skip = buf
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .unwrap_or(buf.len());
            if skip < buf.len() {
                break Some(buf[skip]);
            }
            buffered.consume(skip);
        };
        match first {
            None => Ok(()),
            Some(b'{' | b'[') => self.read_json(buffered, source, shown),
            Some(_) => self.read_yaml(buffered, source, shown),
        }
    }

    fn read_json(
        &mut self,
        reader: impl Read,
        source: usize,
        shown: &str,
    ) -> Result<(), InventoryError> {
        let json_err = |offset: u64, message: String| InventoryError::Json {
            path: shown.to_owned(),
            offset,
            message,
        };
        let mut pending_items: Vec<Object> = Vec::new();
        let mut scanner = Scanner::new(reader);
        let result = scanner.for_each(|piece: Piece<'_, Obj<RawDoc>>, at| {
            let parse_err = |e: serde_json::Error| ScanError::Syntax {
                offset: at,
                message: e.to_string(),
            };
            match piece {
                Piece::Item(Obj(doc)) => {
                    if let Some(doc) = doc {
                        self.collect(doc, source, &mut pending_items);
                    }
                }
                Piece::Value(bytes) => {
                    let top: Top = serde_json::from_slice(bytes).map_err(parse_err)?;
                    self.take_top(top, source);
                }
                Piece::Head(bytes, had_items) => {
                    let head: RawDoc = serde_json::from_slice(&bytes).map_err(parse_err)?;
                    let is_list = head.kind.0.as_deref().is_none_or(|k| k.ends_with("List"));
                    if had_items && is_list {
                        self.inventory.objects.append(&mut pending_items);
                    } else {
                        pending_items.clear();
                        let mut out = Vec::new();
                        self.collect(head, source, &mut out);
                        self.inventory.objects.extend(out);
                    }
                }
            }
            Ok(())
        });
        match result {
            Ok(()) => Ok(()),
            Err(ScanError::Io(source)) => Err(InventoryError::Io {
                path: shown.to_owned(),
                source,
            }),
            Err(ScanError::Syntax { offset, message }) => Err(json_err(offset, message)),
        }
    }

    fn read_yaml(
        &mut self,
        mut reader: impl Read,
        source: usize,
        shown: &str,
    ) -> Result<(), InventoryError> {
        let options = serde_saphyr::options! {
            budget: serde_saphyr::budget! {
                max_reader_input_bytes: None,
                max_events: usize::MAX / 4,
                max_nodes: usize::MAX / 4,
                max_total_scalar_bytes: usize::MAX / 4,
                max_depth: 1024,
            },
        };
        for doc in serde_saphyr::read_with_options::<_, Top>(&mut reader, options) {
            let top = doc.map_err(|e| InventoryError::Yaml {
                path: shown.to_owned(),
                message: e.to_string(),
            })?;
            self.take_top(top, source);
        }
        Ok(())
    }

    fn take_top(&mut self, top: Top, source: usize) {
        let mut out = Vec::new();
        match top {
            Top::One(doc) => self.collect(*doc, source, &mut out),
            Top::Many(docs) => {
                for doc in docs.into_iter().filter_map(|d| d.0) {
                    self.collect(doc, source, &mut out);
                }
            }
            Top::Nothing => self.skipped += 1,
        }
        self.inventory.objects.extend(out);
    }

    /// Objects of one document: a `*List`'s items, or the object itself.
    fn collect(&mut self, mut doc: RawDoc, source: usize, out: &mut Vec<Object>) {
        let is_list = doc.kind.0.as_deref().is_some_and(|k| k.ends_with("List"));
        if is_list || (doc.kind.0.is_none() && !doc.items.0.is_empty()) {
            for item in std::mem::take(&mut doc.items.0)
                .into_iter()
                .filter_map(|i| i.0)
            {
                self.collect(item, source, out);
            }
            return;
        }
        match object_from(doc, source) {
            Some(obj) => out.push(obj),
            None => self.skipped += 1,
        }
    }

    /// Settle scopes and namespaces, drop duplicates, and return the inventory.
    pub(crate) fn finish(mut self) -> Inventory {
        let crds: HashMap<(String, String), bool> = self
            .inventory
            .objects
            .iter()
            .filter_map(|o| o.crd.as_ref())
            .map(|c| ((c.group.clone(), c.kind.clone()), c.cluster_scoped))
            .collect();
        let default_ns = self.default_namespace.clone();
        for obj in &mut self.inventory.objects {
            let cluster_scoped = kinds::builtin_cluster_scoped(&obj.group, &obj.kind)
                .or_else(|| crds.get(&(obj.group.clone(), obj.kind.clone())).copied());
            obj.namespace = match cluster_scoped {
                Some(true) => None,
                Some(false) => obj.namespace.take().or_else(|| Some(default_ns.clone())),
                // An unknown kind: a live object says so by its namespace; a manifest is
                // namespaced unless its kind reads cluster-wide (ClusterIssuer, ClusterPolicy).
                None if obj.live => obj.namespace.take(),
                None if obj.kind.starts_with("Cluster") => None,
                None => obj.namespace.take().or_else(|| Some(default_ns.clone())),
            };
        }
        // The same object twice (a file given twice, a kind listed under two API groups).
        let mut seen_uid: HashSet<String> = HashSet::new();
        let mut seen_key: HashSet<(String, String, Option<String>, String)> = HashSet::new();
        let before = self.inventory.objects.len();
        self.inventory.objects.retain(|o| match &o.uid {
            Some(uid) => seen_uid.insert(uid.clone()),
            None => seen_key.insert((
                o.group.clone(),
                o.kind.clone(),
                o.namespace.clone(),
                o.name.clone(),
            )),
        });
        let duplicates = before - self.inventory.objects.len();
        if duplicates > 0 {
            self.inventory.notes.push(format!(
                "{duplicates} duplicate object(s) read more than once were counted once"
            ));
        }
        if self.skipped > 0 {
            self.inventory.notes.push(format!(
                "{} document(s) without a kind and metadata.name were skipped",
                self.skipped
            ));
        }
        self.inventory
    }

    /// Record something the user should know.
    pub(crate) fn note(&mut self, note: String) {
        self.inventory.notes.push(note);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, ns: &str) -> Inventory {
        let mut r = Reader::new(ns);
        r.read_stream(text.as_bytes(), "test", &|_| {}).unwrap();
        r.finish()
    }

    #[test]
    fn kubectl_list_with_server_fields() {
        let text = r#"{"apiVersion":"v1","items":[
          {"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"web-5d9","namespace":"apps","uid":"u1",
            "ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"web","uid":"u0","controller":true}],
            "managedFields":[{"manager":"kube-controller-manager","operation":"Update","fieldsV1":{"f:spec":{}}}]},
           "spec":{"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"envFrom":[{"configMapRef":{"name":"cfg"}}]}]}}}},
          {"apiVersion":"v1","kind":"Secret","type":"helm.sh/release.v1","metadata":{"name":"sh.helm.release.v1.db.v1","namespace":"apps","uid":"u2",
            "labels":{"owner":"helm","name":"db","status":"deployed"}}},
          {"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w","uid":"u3"},"spec":{"selector":"not-a-map","template":[1]}}
        ],"kind":"List","metadata":{"resourceVersion":""}}"#;
        let inv = read(text, "default");
        assert_eq!(inv.objects.len(), 3);
        let rs = &inv.objects[0];
        assert_eq!(rs.namespace.as_deref(), Some("apps"));
        assert_eq!(
            rs.controller,
            Some(OwnerRef {
                kind: "Deployment".into(),
                name: "web".into()
            })
        );
        assert_eq!(rs.managers, vec!["kube-controller-manager".to_owned()]);
        assert_eq!(rs.pod_labels, vec![("app".into(), "web".into())]);
        assert_eq!(rs.refs[0].kind, "ConfigMap");
        let secret = &inv.objects[1];
        assert_eq!(secret.secret_type.as_deref(), Some("helm.sh/release.v1"));
        assert_eq!(secret.label("owner"), Some("helm"));
        assert_eq!(secret.label("status"), None);
        let widget = &inv.objects[2];
        assert_eq!(
            widget.namespace, None,
            "a live object without namespace is cluster-scoped"
        );
        assert!(widget.selector.is_empty());
    }

    #[test]
    fn yaml_manifests_get_the_default_namespace() {
        let text = "# comment\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n---\n\
apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n---\n---\nfoo: bar\n---\n\
apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: rb, namespace: other}\n\
roleRef: {kind: Role, name: reader}\nsubjects: [{kind: ServiceAccount, name: bot, namespace: ci}]\n";
        let inv = read(text, "shop");
        let names: Vec<_> = inv
            .objects
            .iter()
            .map(|o| (o.kind.as_str(), o.namespace.as_deref()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("ConfigMap", Some("shop")),
                ("Namespace", None),
                ("RoleBinding", Some("other"))
            ]
        );
        let rb = &inv.objects[2];
        assert_eq!(rb.refs.len(), 2);
        assert_eq!(rb.refs[1].namespace.as_deref(), Some("ci"));
        assert!(
            inv.notes.iter().any(|n| n.contains("1 document")),
            "{:?}",
            inv.notes
        );
    }

    #[test]
    fn single_object_and_duplicates() {
        let one = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"x","uid":"1"}}
{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"x","uid":"1"}}"#;
        let inv = read(one, "default");
        assert_eq!(inv.objects.len(), 1);
        assert!(inv.notes[0].contains("1 duplicate"));
    }
}
