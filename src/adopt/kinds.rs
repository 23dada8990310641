//! Kubernetes facts `adopt` relies on: built-in API groups, cluster-scoped kinds, Helm's install
//! order, risk tiers and Pulumi type tokens (`shared/docs/k8s-adoption-and-ci-lint.md` A4–A7,
//! `pulumi-contract.md` §7). Data and lookups only.

/// API groups served by Kubernetes itself; any other group holds custom resources.
const BUILTIN_GROUPS: &[&str] = &[
    "",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "apps",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "extensions",
    "flowcontrol.apiserver.k8s.io",
    "internal.apiserver.k8s.io",
    "metrics.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "resource.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
    "storagemigration.k8s.io",
];

/// Built-in kinds that are not namespaced.
const CLUSTER_SCOPED: &[&str] = &[
    "APIService",
    "CertificateSigningRequest",
    "ClusterRole",
    "ClusterRoleBinding",
    "ClusterTrustBundle",
    "ComponentStatus",
    "CSIDriver",
    "CSINode",
    "CustomResourceDefinition",
    "DeviceClass",
    "FlowSchema",
    "IngressClass",
    "IPAddress",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "NodeMetrics",
    "PersistentVolume",
    "PodSecurityPolicy",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "ResourceSlice",
    "RuntimeClass",
    "ServiceCIDR",
    "StorageClass",
    "StorageVersion",
    "StorageVersionMigration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
    "VolumeAttributesClass",
];

/// Helm's `releaseutil.InstallOrder` (helm/helm `pkg/releaseutil/kind_sorter.go`).
const INSTALL_ORDER: &[&str] = &[
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "Ingress",
    "APIService",
];

/// Kinds that run pods from a template (their PodSpec references are dependencies).
pub(crate) const WORKLOADS: &[&str] = &[
    "CronJob",
    "DaemonSet",
    "Deployment",
    "Job",
    "Pod",
    "ReplicaSet",
    "ReplicationController",
    "StatefulSet",
];

/// Whether `group` is served by Kubernetes itself.
pub(crate) fn is_builtin_group(group: &str) -> bool {
    BUILTIN_GROUPS.contains(&group)
}

/// Whether a built-in `kind` is cluster-scoped (`None` when the kind is not a known built-in).
pub(crate) fn builtin_cluster_scoped(group: &str, kind: &str) -> Option<bool> {
    if !is_builtin_group(group) {
        return None;
    }
    Some(CLUSTER_SCOPED.contains(&kind))
}

/// Position in Helm's install order; kinds it does not list come after, alphabetically.
pub(crate) fn install_rank(kind: &str) -> usize {
    INSTALL_ORDER
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(INSTALL_ORDER.len())
}

/// Split `apiVersion` into (group, version): `apps/v1` → (`apps`, `v1`), `v1` → (``, `v1`).
pub(crate) fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.rsplit_once('/') {
        Some((group, version)) => (group, version),
        None => ("", api_version),
    }
}

/// The Pulumi type token: `kubernetes:<group or core>/<version>:<Kind>`.
pub(crate) fn type_token(group: &str, version: &str, kind: &str) -> String {
    let group = if group.is_empty() { "core" } else { group };
    format!("kubernetes:{group}/{version}:{kind}")
}

/// A parsed `kubernetes:<group>/<version>:<Kind>` type token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    /// `""` for the core group.
    pub(crate) group: String,
    pub(crate) version: String,
    /// The object kind (`Deployment` for `DeploymentPatch`).
    pub(crate) kind: String,
    /// A `*Patch` resource: Pulumi owns only the fields it sets.
    pub(crate) patch: bool,
}

/// Parse a Pulumi Kubernetes type token; `None` for other packages and modules without a
/// version (`kubernetes:yaml:ConfigFile`).
pub(crate) fn parse_token(token: &str) -> Option<Token> {
    let rest = token.strip_prefix("kubernetes:")?;
    let (module, kind) = rest.rsplit_once(':')?;
    let (group, version) = module.rsplit_once('/')?;
    if group.is_empty() || version.is_empty() || kind.is_empty() {
        return None;
    }
    let group = if group == "core" { "" } else { group };
    // `kind` ending in Patch is a patch resource unless the API itself names a kind so.
    let (kind, patch) = match kind.strip_suffix("Patch") {
        Some(base) if !base.is_empty() && is_builtin_group(group) => (base, true),
        _ => (kind, false),
    };
    Some(Token {
        group: group.to_owned(),
        version: version.to_owned(),
        kind: kind.to_owned(),
        patch,
    })
}

/// Risk tiers of A6: the order to adopt in, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Tier {
    /// Leaf or near-leaf, cheap to recreate, no data.
    Leaf = 1,
    /// Stateless: a wrong input causes a rollout, not data loss.
    Stateless = 2,
    /// Secrets: values land in state.
    Secret = 3,
    /// Stateful or cluster-wide: imported last, protect + retainOnDelete.
    Stateful = 4,
}

impl Tier {
    pub(crate) fn number(self) -> u8 {
        self as u8
    }

    /// Why objects of this tier go where they go.
    pub(crate) fn why(self) -> &'static str {
        match self {
            Self::Leaf => "leaf or near-leaf object, cheap to recreate, no data",
            Self::Stateless => {
                "stateless: a wrong input causes a rollout, not data loss; keep selectors exactly"
            }
            Self::Secret => "Secret: its values land in the state (encrypted as secrets)",
            Self::Stateful => {
                "stateful or cluster-wide: immutable fields force replacement (data loss); protect + retainOnDelete"
            }
        }
    }

    /// A short label for headings.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Leaf => "leaf objects",
            Self::Stateless => "stateless workloads and routing",
            Self::Secret => "Secrets",
            Self::Stateful => "stateful and cluster-wide objects",
        }
    }
}

/// The risk tier of a kind (`service_type` is a Service's `spec.type`).
pub(crate) fn tier(group: &str, kind: &str, service_type: Option<&str>) -> Tier {
    if !is_builtin_group(group) {
        return Tier::Stateful; // custom resources
    }
    match kind {
        "Service" => match service_type {
            Some("LoadBalancer" | "NodePort") => Tier::Stateless,
            _ => Tier::Leaf,
        },
        "Namespace" | "ConfigMap" | "ServiceAccount" | "Role" | "RoleBinding" | "NetworkPolicy"
        | "ResourceQuota" | "LimitRange" | "Endpoints" | "EndpointSlice" => Tier::Leaf,
        "Secret" => Tier::Secret,
        "StatefulSet"
        | "PersistentVolumeClaim"
        | "PersistentVolume"
        | "StorageClass"
        | "CustomResourceDefinition"
        | "ClusterRole"
        | "ClusterRoleBinding"
        | "ValidatingWebhookConfiguration"
        | "MutatingWebhookConfiguration"
        | "ValidatingAdmissionPolicy"
        | "ValidatingAdmissionPolicyBinding"
        | "MutatingAdmissionPolicy"
        | "MutatingAdmissionPolicyBinding"
        | "APIService"
        | "PodSecurityPolicy" => Tier::Stateful,
        _ => Tier::Stateless,
    }
}

/// Why a kind has the tier it has, beyond the tier's general reason.
pub(crate) fn tier_detail(group: &str, kind: &str, service_type: Option<&str>) -> Option<String> {
    if !is_builtin_group(group) {
        return Some(format!(
            "custom resource of {group}: import can fail with `unknown resource type` (pulumi-kubernetes#1506)"
        ));
    }
    match (kind, service_type) {
        ("Service", Some(t @ ("LoadBalancer" | "NodePort"))) => Some(format!(
            "{t} Service: a replacement would change its external address"
        )),
        ("CustomResourceDefinition", _) => {
            Some("deleting a CRD deletes all its custom resources".into())
        }
        ("StatefulSet", _) => Some("volumeClaimTemplates are immutable".into()),
        ("PersistentVolumeClaim" | "PersistentVolume", _) => {
            Some("holds data; its spec is immutable".into())
        }
        ("ClusterRole" | "ClusterRoleBinding", _) => Some("cluster-wide RBAC".into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        assert_eq!(
            type_token("", "v1", "ConfigMap"),
            "kubernetes:core/v1:ConfigMap"
        );
        assert_eq!(
            type_token("apps", "v1", "Deployment"),
            "kubernetes:apps/v1:Deployment"
        );
        let t = parse_token("kubernetes:core/v1:ConfigMap").unwrap();
        assert_eq!(
            (t.group.as_str(), t.kind.as_str(), t.patch),
            ("", "ConfigMap", false)
        );
        let p = parse_token("kubernetes:apps/v1:DeploymentPatch").unwrap();
        assert_eq!(
            (p.group.as_str(), p.kind.as_str(), p.patch),
            ("apps", "Deployment", true)
        );
        let cr = parse_token("kubernetes:stable.example.com/v1:CronTabPatch").unwrap();
        assert_eq!((cr.kind.as_str(), cr.patch), ("CronTabPatch", false));
        assert_eq!(parse_token("kubernetes:yaml:ConfigFile"), None);
        assert_eq!(parse_token("aws:s3/bucket:Bucket"), None);
        assert_eq!(parse_token("pulumi:providers:kubernetes"), None);
    }

    #[test]
    fn tiers_and_order() {
        assert_eq!(tier("", "ConfigMap", None), Tier::Leaf);
        assert_eq!(tier("", "Service", Some("ClusterIP")), Tier::Leaf);
        assert_eq!(tier("", "Service", Some("LoadBalancer")), Tier::Stateless);
        assert_eq!(tier("apps", "Deployment", None), Tier::Stateless);
        assert_eq!(tier("", "Secret", None), Tier::Secret);
        assert_eq!(tier("apps", "StatefulSet", None), Tier::Stateful);
        assert_eq!(tier("cert-manager.io", "Certificate", None), Tier::Stateful);
        assert!(install_rank("Namespace") < install_rank("ServiceAccount"));
        assert!(install_rank("Service") < install_rank("Deployment"));
        assert_eq!(install_rank("Widget"), install_rank("Gadget"));
        assert_eq!(split_api_version("apps/v1"), ("apps", "v1"));
        assert_eq!(split_api_version("v1"), ("", "v1"));
        assert_eq!(builtin_cluster_scoped("", "Namespace"), Some(true));
        assert_eq!(builtin_cluster_scoped("apps", "Deployment"), Some(false));
        assert_eq!(builtin_cluster_scoped("example.com", "Widget"), None);
    }
}
