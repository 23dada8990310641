//! Kubernetes adoption (issue 7): what exists (inventory) against what the stack manages
//! (state), each object in one class, coverage, and the candidates ranked into import waves.
//!
//! Domain logic only: pure functions over an [`inventory::Inventory`] and a
//! [`state::StateIndex`] that return a [`Report`]; `report`/`html` turn it into text, `import`
//! into `pulumi import --file` documents. Running kubectl lives in `kubectl`; printing and
//! writing files in `commands/adopt.rs`. Facts: `shared/docs/k8s-adoption-and-ci-lint.md` A.

mod classify;
mod fasthash;
pub(crate) mod html;
pub(crate) mod ignore;
pub(crate) mod import;
pub(crate) mod inventory;
mod jsonstream;
pub(crate) mod kinds;
pub(crate) mod kubectl;
mod loose;
pub(crate) mod report;
pub(crate) mod state;
mod waves;

use std::collections::BTreeMap;

use serde::Serialize;

pub(crate) use classify::analyze;

/// Version of the JSON report schema.
pub(crate) const SCHEMA_VERSION: u32 = 1;

/// The one class of each object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Class {
    Managed,
    PartiallyManaged,
    ManagedByPulumiHelm,
    ManagedElsewhere,
    Excluded,
    Candidate,
    Missing,
}

impl Class {
    pub(crate) const ALL: [Class; 7] = [
        Class::Managed,
        Class::PartiallyManaged,
        Class::ManagedByPulumiHelm,
        Class::ManagedElsewhere,
        Class::Excluded,
        Class::Candidate,
        Class::Missing,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Managed => "managed",
            Self::PartiallyManaged => "partially-managed",
            Self::ManagedByPulumiHelm => "managed-by-pulumi-helm",
            Self::ManagedElsewhere => "managed-elsewhere",
            Self::Excluded => "excluded",
            Self::Candidate => "candidate",
            Self::Missing => "missing",
        }
    }
}

/// One object of the report: an inventory object, or a state resource missing from it.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Entry {
    #[serde(rename = "apiVersion")]
    pub(crate) api_version: String,
    pub(crate) kind: String,
    pub(crate) namespace: Option<String>,
    pub(crate) name: String,
    pub(crate) class: Class,
    /// Why it is in its class (and, for candidates, in its wave).
    pub(crate) reason: String,
    /// The exclusion rule, or the other owner (`helm`, `argocd`, `flux`, `pulumi`).
    pub(crate) rule: Option<String>,
    /// The signals seen on the object.
    pub(crate) evidence: Vec<String>,
    /// Candidates: the wave number (1-based).
    pub(crate) wave: Option<usize>,
    /// Candidates: the risk tier (1 = lowest).
    pub(crate) risk: Option<u8>,
    /// Where it was read: a file, the kubectl command, or `state` (shared: one per source).
    #[serde(serialize_with = "shared_str")]
    pub(crate) source: std::sync::Arc<str>,
    /// The state resource, when the stack manages (or misses) it.
    pub(crate) urn: Option<String>,
}

fn shared_str<S: serde::Serializer>(s: &std::sync::Arc<str>, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s)
}

impl Entry {
    /// `Kind namespace/name` or `Kind name`.
    pub(crate) fn display(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }
}

/// Counts per class.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct Summary {
    /// Inventory objects (every class but `missing`).
    pub(crate) objects: usize,
    pub(crate) managed: usize,
    #[serde(rename = "partially-managed")]
    pub(crate) partially_managed: usize,
    #[serde(rename = "managed-by-pulumi-helm")]
    pub(crate) managed_by_pulumi_helm: usize,
    #[serde(rename = "managed-elsewhere")]
    pub(crate) managed_elsewhere: usize,
    pub(crate) excluded: usize,
    pub(crate) candidate: usize,
    pub(crate) missing: usize,
}

impl Summary {
    pub(crate) fn count(&self, class: Class) -> usize {
        match class {
            Class::Managed => self.managed,
            Class::PartiallyManaged => self.partially_managed,
            Class::ManagedByPulumiHelm => self.managed_by_pulumi_helm,
            Class::ManagedElsewhere => self.managed_elsewhere,
            Class::Excluded => self.excluded,
            Class::Candidate => self.candidate,
            Class::Missing => self.missing,
        }
    }
}

/// Managed against adoptable, for one slice.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct Ratio {
    /// `managed` + `managed-by-pulumi-helm`.
    pub(crate) managed: usize,
    pub(crate) candidates: usize,
    /// managed ÷ (managed + candidates); 1.0 when there is nothing to adopt.
    pub(crate) coverage: f64,
}

impl Ratio {
    pub(crate) fn new(managed: usize, candidates: usize) -> Self {
        let total = managed + candidates;
        let coverage = if total == 0 {
            1.0
        } else {
            round4(managed as f64 / total as f64)
        };
        Self {
            managed,
            candidates,
            coverage,
        }
    }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Coverage overall, per namespace (`(cluster)` for cluster-scoped objects) and per kind.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct Coverage {
    pub(crate) overall: f64,
    pub(crate) managed: usize,
    pub(crate) candidates: usize,
    pub(crate) by_namespace: BTreeMap<String, Ratio>,
    pub(crate) by_kind: BTreeMap<String, Ratio>,
}

/// Key of cluster-scoped objects in [`Coverage::by_namespace`].
pub(crate) const CLUSTER_KEY: &str = "(cluster)";

/// One object to import in a wave.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct WaveItem {
    pub(crate) kind: String,
    pub(crate) namespace: Option<String>,
    pub(crate) name: String,
    /// Pulumi type token.
    #[serde(rename = "type")]
    pub(crate) type_token: String,
    /// The import file's `name` (unique across all waves and the state).
    #[serde(rename = "importName")]
    pub(crate) import_name: String,
    /// The import id: `namespace/name`, or `name` when cluster-scoped.
    pub(crate) id: String,
    pub(crate) reason: String,
}

/// One import wave: a `pulumi import --file` document and the command to run it.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Wave {
    pub(crate) wave: usize,
    pub(crate) tier: u8,
    pub(crate) label: &'static str,
    /// File name inside the import folder (`wave-01.json`).
    pub(crate) file: String,
    /// The exact command.
    pub(crate) command: String,
    /// Keep `pulumi import`'s `--protect` (the default).
    pub(crate) protect: bool,
    /// Add `retainOnDelete: true` to the generated code.
    #[serde(rename = "retainOnDelete")]
    pub(crate) retain_on_delete: bool,
    pub(crate) warnings: Vec<String>,
    pub(crate) resources: Vec<WaveItem>,
}

/// An exclusion rule or another owner, with how many objects it covers.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Group {
    pub(crate) rule: String,
    pub(crate) description: String,
    pub(crate) count: usize,
}

/// The provider named in import files.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ProviderRef {
    /// The `nameTable` key.
    pub(crate) name: String,
    pub(crate) urn: String,
}

/// Everything `adopt` found.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Report {
    pub(crate) version: u32,
    pub(crate) stack: String,
    pub(crate) summary: Summary,
    pub(crate) coverage: Coverage,
    pub(crate) objects: Vec<Entry>,
    pub(crate) waves: Vec<Wave>,
    pub(crate) exclusions: Vec<Group>,
    pub(crate) elsewhere: Vec<Group>,
    pub(crate) provider: Option<ProviderRef>,
    /// Where the inventory came from.
    pub(crate) sources: Vec<String>,
    /// What the state held.
    pub(crate) state: String,
    pub(crate) notes: Vec<String>,
}

/// How to analyze and how to spell the commands.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    pub(crate) stack: String,
    pub(crate) wave_size: Option<usize>,
    /// `pulumi` or `pulumi -C <project>`: how the commands start.
    pub(crate) pulumi: String,
    /// The import folder as the commands name it.
    pub(crate) import_dir: String,
    /// `--kubectl --namespace N`: only this namespace was read, so only its state resources
    /// can be missing.
    pub(crate) only_namespace: Option<String>,
}
