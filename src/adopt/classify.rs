//! Matching inventory objects to state resources, and one class per object.
//!
//! Precedence (A2): a state match (by `metadata.uid`, else group/kind/namespace/name with old
//! API groups tolerated) → `managed` / `partially-managed`; an object owned through a controller
//! ownerReference → `excluded`; an object of a Pulumi Helm `Release` → `managed-by-pulumi-helm`;
//! the other default exclusions and `.stackwire/adopt-ignore` → `excluded`; Pulumi markers of
//! another stack, Helm, Argo CD or Flux → `managed-elsewhere`; anything else → `candidate`.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::fasthash::FastMap as HashMap;

use super::ignore::{IgnoreFile, Verdict};
use super::inventory::{Inventory, Object};
use super::kinds;
use super::state::StateIndex;
use super::{
    CLUSTER_KEY, Class, Coverage, Entry, Group, Options, ProviderRef, Ratio, Report,
    SCHEMA_VERSION, Summary, waves,
};

const SYSTEM_NAMESPACES: &[&str] = &["kube-system", "kube-public", "kube-node-lease"];

/// An exclusion: rule id and the object's reason.
struct Exclusion {
    rule: &'static str,
    reason: String,
}

/// Descriptions of the exclusion rules, for grouping.
fn rule_description(rule: &str) -> &'static str {
    match rule {
        "owned" => {
            "owned through a controller ownerReference: adopt the owner, never the dependent"
        }
        "event" => "Events are ephemeral",
        "lease" => "Leases are written by controllers (node heartbeats, leader election)",
        "system-namespace" => "system namespaces and the namespaces the cluster creates",
        "root-ca" => "kube-root-ca.crt, published in every namespace by kube-controller-manager",
        "default-sa" => "the `default` ServiceAccount, created in every namespace",
        "sa-token" => "ServiceAccount tokens created by the cluster",
        "api-service" => "Service default/kubernetes, the API server's endpoint",
        "endpoints" => "Endpoints written by the endpoints controller",
        "endpointslice" => "EndpointSlices written by a controller",
        "sts-pvc" => "PersistentVolumeClaims a StatefulSet created from its volumeClaimTemplates",
        "bootstrap-rbac" => "bootstrap RBAC (kubernetes.io/bootstrapping=rbac-defaults, system:*)",
        "addon" => "objects of the addon manager (addonmanager.kubernetes.io/mode)",
        "helm-release-secret" => "Helm release Secrets (helm.sh/release.v1): Helm's bookkeeping",
        "cluster-maintained" => "kinds the cluster maintains itself",
        "ignore-file" => "excluded by .stackwire/adopt-ignore",
        "helm" => "installed by Helm",
        "argocd" => "synced by Argo CD",
        "flux" => "applied by Flux",
        "pulumi" => "carries Pulumi markers but is not in this stack's state",
        _ => "other",
    }
}

/// Inventory facts the rules look up.
struct Context<'a> {
    /// Services by (namespace, name) → has a selector.
    services: HashMap<(&'a str, &'a str), bool>,
    /// StatefulSets per namespace: (name, claim templates).
    statefulsets: HashMap<&'a str, Vec<(&'a str, &'a [String])>>,
    /// Pulumi Helm releases by (namespace, name) → URN.
    releases: HashMap<(&'a str, &'a str), &'a str>,
}

fn default_exclusion(obj: &Object, ctx: &Context<'_>) -> Option<Exclusion> {
    let ex = |rule, reason: String| Some(Exclusion { rule, reason });
    let ns = obj.namespace.as_deref();
    if let Some(owner) = &obj.controller {
        return ex(
            "owned",
            format!(
                "owned by {} {} (controller ownerReference): adopt the owner, never the dependent",
                owner.kind, owner.name
            ),
        );
    }
    match (obj.group.as_str(), obj.kind.as_str()) {
        ("" | "events.k8s.io", "Event") => {
            return ex("event", "Events are ephemeral".into());
        }
        ("coordination.k8s.io", "Lease") => {
            return ex(
                "lease",
                "written by a controller (node heartbeat or leader election)".into(),
            );
        }
        ("", "Namespace")
            if SYSTEM_NAMESPACES.contains(&obj.name.as_str()) || obj.name == "default" =>
        {
            return ex("system-namespace", "created by the cluster".into());
        }
        _ => {}
    }
    if let Some(ns) = ns.filter(|ns| SYSTEM_NAMESPACES.contains(ns)) {
        return ex("system-namespace", format!("in the system namespace {ns}"));
    }
    match (obj.group.as_str(), obj.kind.as_str()) {
        ("", "ConfigMap") if obj.name == "kube-root-ca.crt" => {
            return ex(
                "root-ca",
                "published in every namespace by kube-controller-manager (root_ca_cert_publisher)"
                    .into(),
            );
        }
        ("", "ServiceAccount") if obj.name == "default" => {
            return ex("default-sa", "created in every namespace".into());
        }
        ("", "Secret")
            if obj.secret_type.as_deref() == Some("kubernetes.io/service-account-token") =>
        {
            return ex(
                "sa-token",
                "a ServiceAccount token (type kubernetes.io/service-account-token)".into(),
            );
        }
        ("", "Secret") if obj.secret_type.as_deref() == Some("helm.sh/release.v1") => {
            return ex(
                "helm-release-secret",
                format!(
                    "Helm's record of release {} (type helm.sh/release.v1)",
                    helm_secret_release(obj).unwrap_or("?")
                ),
            );
        }
        ("", "Service" | "Endpoints") if ns == Some("default") && obj.name == "kubernetes" => {
            return ex("api-service", "the API server's endpoint".into());
        }
        ("", "Endpoints") => {
            let ns = ns.unwrap_or_default();
            match ctx.services.get(&(ns, obj.name.as_str())) {
                Some(false) => {} // a selector-less Service: hand-written Endpoints
                Some(true) => {
                    return ex(
                        "endpoints",
                        format!(
                            "written by the endpoints controller for Service {ns}/{}",
                            obj.name
                        ),
                    );
                }
                None => {
                    return ex(
                        "endpoints",
                        "written by the endpoints controller (no selector-less Service of that name)"
                            .into(),
                    );
                }
            }
        }
        ("discovery.k8s.io", "EndpointSlice") => {
            if let Some(by) = obj.label("endpointslice.kubernetes.io/managed-by") {
                return ex("endpointslice", format!("written by {by}"));
            }
        }
        ("", "PersistentVolumeClaim") => {
            if let Some(list) = ns.and_then(|ns| ctx.statefulsets.get(ns)) {
                for (sts, templates) in list {
                    for t in *templates {
                        let prefix = format!("{t}-{sts}-");
                        if obj.name.strip_prefix(&prefix).is_some_and(|ordinal| {
                            !ordinal.is_empty() && ordinal.bytes().all(|b| b.is_ascii_digit())
                        }) {
                            return ex(
                                "sts-pvc",
                                format!(
                                    "created by StatefulSet {sts} from its volumeClaimTemplate {t}: adopt the StatefulSet"
                                ),
                            );
                        }
                    }
                }
            }
        }
        (
            "rbac.authorization.k8s.io",
            "ClusterRole" | "ClusterRoleBinding" | "Role" | "RoleBinding",
        ) => {
            if obj.label("kubernetes.io/bootstrapping") == Some("rbac-defaults") {
                return ex(
                    "bootstrap-rbac",
                    "bootstrap RBAC (kubernetes.io/bootstrapping=rbac-defaults)".into(),
                );
            }
            if obj.name.starts_with("system:") {
                return ex("bootstrap-rbac", "a system: role of the cluster".into());
            }
        }
        ("", "Node" | "ComponentStatus" | "Binding")
        | ("storage.k8s.io", "CSINode" | "VolumeAttachment")
        | ("certificates.k8s.io", "CertificateSigningRequest")
        | ("apps", "ControllerRevision") => {
            return ex(
                "cluster-maintained",
                format!("{}s are maintained by the cluster", obj.kind),
            );
        }
        ("metrics.k8s.io", _) => {
            return ex("cluster-maintained", "metrics, not stored objects".into());
        }
        ("apiregistration.k8s.io", "APIService")
            if obj
                .label("kube-aggregator.kubernetes.io/automanaged")
                .is_some() =>
        {
            return ex(
                "cluster-maintained",
                "registered by the API server (kube-aggregator.kubernetes.io/automanaged)".into(),
            );
        }
        ("flowcontrol.apiserver.k8s.io", _)
            if obj.annotation("apf.kubernetes.io/autoupdate-spec") == Some("true") =>
        {
            return ex(
                "cluster-maintained",
                "kept up to date by the API server (apf.kubernetes.io/autoupdate-spec)".into(),
            );
        }
        ("scheduling.k8s.io", "PriorityClass")
            if matches!(
                obj.name.as_str(),
                "system-node-critical" | "system-cluster-critical"
            ) =>
        {
            return ex("cluster-maintained", "a built-in PriorityClass".into());
        }
        _ => {}
    }
    if let Some(mode) = obj.label("addonmanager.kubernetes.io/mode") {
        return ex(
            "addon",
            format!("managed by the addon manager (addonmanager.kubernetes.io/mode={mode})"),
        );
    }
    None
}

/// The release of a Helm release Secret `sh.helm.release.v1.<release>.v<N>`.
fn helm_secret_release(obj: &Object) -> Option<&str> {
    let rest = obj.name.strip_prefix("sh.helm.release.v1.")?;
    let (release, version) = rest.rsplit_once(".v")?;
    version
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then_some(release)
}

/// The Helm release an object belongs to: (namespace, name).
fn helm_release(obj: &Object) -> Option<(&str, &str)> {
    let ns = obj.namespace.as_deref().unwrap_or("default");
    if obj.secret_type.as_deref() == Some("helm.sh/release.v1") {
        return helm_secret_release(obj).map(|r| (ns, r));
    }
    let name = obj.annotation("meta.helm.sh/release-name")?;
    let rel_ns = obj
        .annotation("meta.helm.sh/release-namespace")
        .unwrap_or(ns);
    Some((rel_ns, name))
}

/// Pulumi markers on a live object.
fn pulumi_markers(obj: &Object) -> Vec<String> {
    let mut ev = Vec::new();
    if let Some(v) = obj
        .label("app.kubernetes.io/managed-by")
        .filter(|v| v.eq_ignore_ascii_case("pulumi"))
    {
        ev.push(format!("label app.kubernetes.io/managed-by={v}"));
    }
    for (k, v) in &obj.annotations {
        if k.starts_with("pulumi.com/") {
            ev.push(format!("annotation {k}={v}"));
        }
    }
    for m in &obj.managers {
        if m.starts_with("pulumi-kubernetes") {
            ev.push(format!("field manager {m}"));
        }
    }
    ev
}

/// Another tool's ownership: (owner rule, reason, evidence).
fn elsewhere(obj: &Object) -> Option<(&'static str, String, Vec<String>)> {
    if let Some(tracking) = obj.annotation("argocd.argoproj.io/tracking-id") {
        let app = tracking.split(':').next().unwrap_or(tracking);
        return Some((
            "argocd",
            format!("synced by the Argo CD application {app}"),
            vec![format!(
                "annotation argocd.argoproj.io/tracking-id={tracking}"
            )],
        ));
    }
    for (prefix, what) in [
        ("kustomize.toolkit.fluxcd.io", "Kustomization"),
        ("helm.toolkit.fluxcd.io", "HelmRelease"),
    ] {
        if let Some(name) = obj.label(&format!("{prefix}/name")) {
            let ns = obj.label(&format!("{prefix}/namespace")).unwrap_or("?");
            return Some((
                "flux",
                format!("applied by the Flux {what} {ns}/{name}"),
                vec![
                    format!("label {prefix}/name={name}"),
                    format!("label {prefix}/namespace={ns}"),
                ],
            ));
        }
    }
    let mut ev = Vec::new();
    if let Some(v) = obj
        .label("app.kubernetes.io/managed-by")
        .filter(|v| v.eq_ignore_ascii_case("helm"))
    {
        ev.push(format!("label app.kubernetes.io/managed-by={v}"));
    }
    for key in [
        "meta.helm.sh/release-name",
        "meta.helm.sh/release-namespace",
    ] {
        if let Some(v) = obj.annotation(key) {
            ev.push(format!("annotation {key}={v}"));
        }
    }
    if obj.managers.iter().any(|m| m == "helm") {
        ev.push("field manager helm".into());
    }
    if ev.is_empty() {
        return None;
    }
    let reason = match helm_release(obj) {
        Some((ns, name)) => format!("installed by the Helm release {ns}/{name}"),
        None => "installed by Helm".into(),
    };
    Some(("helm", reason, ev))
}

/// Signs that an object was applied by hand with kubectl.
pub(super) fn kubectl_evidence(obj: &Object) -> Vec<String> {
    let mut ev = Vec::new();
    if obj
        .annotation("kubectl.kubernetes.io/last-applied-configuration")
        .is_some()
    {
        ev.push("annotation kubectl.kubernetes.io/last-applied-configuration".into());
    }
    for m in &obj.managers {
        if m == "kubectl" || m.starts_with("kubectl-") {
            ev.push(format!("field manager {m}"));
        }
    }
    ev
}

fn groups_compatible(a: &str, b: &str) -> bool {
    a == b || (kinds::is_builtin_group(a) && kinds::is_builtin_group(b))
}

/// Classify every object, rank the candidates into waves and compute coverage.
pub(crate) fn analyze(
    inv: &Inventory,
    state: &StateIndex,
    ignore: Option<&IgnoreFile>,
    opts: &Options,
) -> Report {
    // State lookups: managing resources by uid and by (kind, namespace, name).
    let mut by_uid: HashMap<&str, Vec<usize>> = HashMap::default();
    let mut by_key: HashMap<(&str, Option<&str>, &str), Vec<usize>> = HashMap::default();
    for (i, r) in state.resources.iter().enumerate() {
        if let Some(uid) = &r.uid {
            by_uid.entry(uid).or_default().push(i);
        }
        by_key
            .entry((&r.token.kind, r.namespace.as_deref(), &r.name))
            .or_default()
            .push(i);
    }
    let mut matched = vec![false; state.resources.len()];

    let mut ctx = Context {
        services: HashMap::default(),
        statefulsets: HashMap::default(),
        releases: HashMap::default(),
    };
    for o in &inv.objects {
        match (o.group.as_str(), o.kind.as_str(), o.namespace.as_deref()) {
            ("", "Service", Some(ns)) => {
                ctx.services
                    .insert((ns, o.name.as_str()), !o.selector.is_empty());
            }
            ("apps", "StatefulSet", Some(ns)) if !o.claim_templates.is_empty() => {
                ctx.statefulsets
                    .entry(ns)
                    .or_default()
                    .push((o.name.as_str(), o.claim_templates.as_slice()));
            }
            _ => {}
        }
    }
    for r in &state.releases {
        ctx.releases
            .insert((r.namespace.as_str(), r.name.as_str()), r.urn.as_str());
    }

    let sources: Vec<Arc<str>> = inv.sources.iter().map(|s| Arc::from(s.as_str())).collect();
    let state_source: Arc<str> = Arc::from("state");
    let mut classes: Vec<Class> = Vec::with_capacity(inv.objects.len());
    let mut entries: Vec<Entry> = Vec::with_capacity(inv.objects.len());
    for obj in &inv.objects {
        let (class, reason, rule, evidence, urn) =
            classify_one(obj, state, &by_uid, &by_key, &mut matched, &ctx, ignore);
        classes.push(class);
        entries.push(Entry {
            api_version: obj.api_version.clone(),
            kind: obj.kind.clone(),
            namespace: obj.namespace.clone(),
            name: obj.name.clone(),
            class,
            reason,
            rule,
            evidence,
            wave: None,
            risk: None,
            source: sources
                .get(obj.source)
                .cloned()
                .unwrap_or_else(|| Arc::from("")),
            urn,
        });
    }

    // Rank the candidates.
    let provider = state.import_provider().map(|p| ProviderRef {
        name: sanitize(&p.name),
        urn: p.urn.clone(),
    });
    let planned = waves::plan(inv, &classes, state, provider.as_ref(), opts);
    for (i, placed) in planned.placed {
        let e = &mut entries[i];
        e.wave = Some(placed.wave);
        e.risk = Some(placed.tier);
        e.reason = placed.reason;
    }

    // State resources the inventory does not have.
    for (i, r) in state.resources.iter().enumerate() {
        if matched[i] || r.external {
            continue;
        }
        if let Some(only) = &opts.only_namespace {
            if r.namespace.as_deref() != Some(only.as_str()) {
                continue;
            }
        }
        let group = &r.token.group;
        let api_version = if group.is_empty() {
            r.token.version.clone()
        } else {
            format!("{group}/{}", r.token.version)
        };
        let what = if r.token.patch {
            "a patch of an object that is not in the inventory"
        } else {
            "in the state but not in the inventory: deleted outside Pulumi, or not part of what was read (`pulumi refresh` drops deleted objects)"
        };
        entries.push(Entry {
            api_version,
            kind: r.token.kind.clone(),
            namespace: r.namespace.clone(),
            name: r.name.clone(),
            class: Class::Missing,
            reason: what.into(),
            rule: None,
            evidence: Vec::new(),
            wave: None,
            risk: None,
            source: Arc::clone(&state_source),
            urn: Some(r.urn.clone()),
        });
    }

    let summary = summarize(&entries, inv.objects.len());
    let coverage = coverage(&entries);
    let exclusions = groups(&entries, Class::Excluded);
    let elsewhere = groups(&entries, Class::ManagedElsewhere);

    // Sort indices, not the entries themselves: they are large to move.
    fn key(e: &Entry) -> (&str, &str, &str, &str, Class) {
        (
            e.namespace.as_deref().unwrap_or(""),
            e.kind.as_str(),
            e.name.as_str(),
            e.api_version.as_str(),
            e.class,
        )
    }
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_unstable_by(|&a, &b| key(&entries[a]).cmp(&key(&entries[b])));
    let mut slots: Vec<Option<Entry>> = entries.into_iter().map(Some).collect();
    let entries: Vec<Entry> = order.iter().filter_map(|&i| slots[i].take()).collect();

    let mut notes = inv.notes.clone();
    if state.pending_delete > 0 {
        notes.push(format!(
            "{} state resource(s) pending deletion were not counted",
            state.pending_delete
        ));
    }
    if state.providers.is_empty() && !planned.waves.is_empty() {
        notes.push(
            "the stack has no kubernetes provider: the import files use the default provider"
                .into(),
        );
    }
    Report {
        version: SCHEMA_VERSION,
        stack: opts.stack.clone(),
        summary,
        coverage,
        objects: entries,
        waves: planned.waves,
        exclusions,
        elsewhere,
        provider,
        sources: inv.sources.clone(),
        state: state.describe(),
        notes,
    }
}

type Classified = (Class, String, Option<String>, Vec<String>, Option<String>);

fn classify_one(
    obj: &Object,
    state: &StateIndex,
    by_uid: &HashMap<&str, Vec<usize>>,
    by_key: &HashMap<(&str, Option<&str>, &str), Vec<usize>>,
    matched: &mut [bool],
    ctx: &Context<'_>,
    ignore: Option<&IgnoreFile>,
) -> Classified {
    // 1. The state.
    let key_hits: Vec<usize> = by_key
        .get(&(
            obj.kind.as_str(),
            obj.namespace.as_deref(),
            obj.name.as_str(),
        ))
        .map(|v| {
            v.iter()
                .copied()
                .filter(|&i| groups_compatible(&state.resources[i].token.group, &obj.group))
                .collect()
        })
        .unwrap_or_default();
    let uid_hits: Vec<usize> = obj
        .uid
        .as_deref()
        .and_then(|u| by_uid.get(u))
        .map(|v| {
            v.iter()
                .copied()
                .filter(|&i| !state.resources[i].external)
                .collect()
        })
        .unwrap_or_default();
    let managing: Vec<usize> = if uid_hits.is_empty() {
        key_hits
            .iter()
            .copied()
            .filter(|&i| !state.resources[i].external)
            .collect()
    } else {
        uid_hits.clone()
    };
    if !managing.is_empty() {
        for &i in managing.iter().chain(&key_hits) {
            if !state.resources[i].external {
                matched[i] = true;
            }
        }
        // Prefer a full resource over a patch, the same group over an old one.
        let best = *managing
            .iter()
            .min_by_key(|&&i| {
                let r = &state.resources[i];
                (r.token.patch, r.token.group != obj.group)
            })
            .unwrap_or(&managing[0]);
        let r = &state.resources[best];
        let by = if uid_hits.is_empty() {
            "by kind, namespace and name"
        } else {
            "by metadata.uid"
        };
        let mut reason = if r.token.patch {
            format!(
                "patched by {} ({}): Pulumi owns only the fields it sets; matched {by}",
                r.urn, r.type_token
            )
        } else {
            format!("in the stack's state as {}; matched {by}", r.urn)
        };
        if r.token.group != obj.group || r.token.version != obj.version {
            let state_av = if r.token.group.is_empty() {
                r.token.version.clone()
            } else {
                format!("{}/{}", r.token.group, r.token.version)
            };
            if state_av != obj.api_version {
                reason.push_str(&format!(
                    "; the state has {state_av}, the inventory {}",
                    obj.api_version
                ));
            }
        }
        if let (Some(live), Some(recorded)) = (&obj.uid, &r.uid) {
            if live != recorded {
                reason.push_str(
                    "; its uid differs from the state's (recreated outside Pulumi? run `pulumi refresh`)",
                );
            }
        }
        let mut evidence = Vec::new();
        if r.protect {
            evidence.push("protect".into());
        }
        if r.retain_on_delete {
            evidence.push("retainOnDelete".into());
        }
        let class = if r.token.patch {
            Class::PartiallyManaged
        } else {
            Class::Managed
        };
        return (class, reason, None, evidence, Some(r.urn.clone()));
    }

    // 2. Default exclusions, and the ignore file over them.
    let mut exclusion = default_exclusion(obj, ctx);
    let mut note = None;
    if let Some(file) = ignore {
        match file.verdict(&obj.kind, obj.namespace.as_deref(), &obj.name) {
            Verdict::Ignore(rule) => {
                let reason = format!(
                    "ignored by {}:{} (`{}`)",
                    file.path.display(),
                    rule.line,
                    rule.text
                );
                return (
                    Class::Excluded,
                    reason,
                    Some("ignore-file".into()),
                    Vec::new(),
                    None,
                );
            }
            Verdict::Include(rule) => {
                if let Some(ex) = exclusion.take() {
                    note = Some(format!(
                        "brought back by {}:{} (`{}`) despite the default rule: {}",
                        file.path.display(),
                        rule.line,
                        rule.text,
                        ex.reason
                    ));
                }
            }
            Verdict::Silent => {}
        }
    }
    if let Some(ex) = exclusion.as_ref().filter(|e| e.rule == "owned") {
        return (
            Class::Excluded,
            ex.reason.clone(),
            Some(ex.rule.into()),
            Vec::new(),
            None,
        );
    }

    // 3. A Pulumi Helm Release.
    if let Some((ns, name)) = helm_release(obj) {
        if let Some(urn) = ctx.releases.get(&(ns, name)) {
            let mut evidence = Vec::new();
            if let Some((_, _, ev)) = elsewhere(obj) {
                evidence = ev;
            }
            if obj.secret_type.as_deref() == Some("helm.sh/release.v1") {
                evidence.push("type helm.sh/release.v1".into());
            }
            return (
                Class::ManagedByPulumiHelm,
                format!("installed by the Pulumi Helm Release {ns}/{name} ({urn})"),
                None,
                evidence,
                Some((*urn).to_owned()),
            );
        }
    }

    // 4. Other default exclusions.
    if let Some(ex) = exclusion {
        return (
            Class::Excluded,
            ex.reason,
            Some(ex.rule.into()),
            Vec::new(),
            None,
        );
    }

    // 5. Another Pulumi stack, then other tools.
    let markers = pulumi_markers(obj);
    if !markers.is_empty() {
        return (
            Class::ManagedElsewhere,
            "carries Pulumi markers but is not in this stack's state: another stack manages it (or did)"
                .into(),
            Some("pulumi".into()),
            markers,
            None,
        );
    }
    if let Some((rule, reason, evidence)) = elsewhere(obj) {
        return (
            Class::ManagedElsewhere,
            reason,
            Some(rule.into()),
            evidence,
            None,
        );
    }

    // 6. A candidate (its reason is set when it is placed in a wave).
    let mut evidence = kubectl_evidence(obj);
    if let Some(note) = note {
        evidence.push(note);
    }
    let external = key_hits
        .iter()
        .map(|&i| &state.resources[i])
        .find(|r| r.external);
    if let Some(r) = external {
        evidence.push(format!(
            "read by the stack with .get() as {} (external: not managed)",
            r.urn
        ));
    }
    (Class::Candidate, String::new(), None, evidence, None)
}

fn summarize(entries: &[Entry], objects: usize) -> Summary {
    let mut s = Summary {
        objects,
        ..Summary::default()
    };
    for e in entries {
        match e.class {
            Class::Managed => s.managed += 1,
            Class::PartiallyManaged => s.partially_managed += 1,
            Class::ManagedByPulumiHelm => s.managed_by_pulumi_helm += 1,
            Class::ManagedElsewhere => s.managed_elsewhere += 1,
            Class::Excluded => s.excluded += 1,
            Class::Candidate => s.candidate += 1,
            Class::Missing => s.missing += 1,
        }
    }
    s
}

fn coverage(entries: &[Entry]) -> Coverage {
    let mut by_ns: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut by_kind: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let (mut managed, mut candidates) = (0, 0);
    for e in entries {
        let (m, c) = match e.class {
            Class::Managed | Class::ManagedByPulumiHelm => (1, 0),
            Class::Candidate => (0, 1),
            _ => continue,
        };
        managed += m;
        candidates += c;
        let ns = e.namespace.clone().unwrap_or_else(|| CLUSTER_KEY.into());
        let slot = by_ns.entry(ns).or_default();
        slot.0 += m;
        slot.1 += c;
        let slot = by_kind.entry(e.kind.clone()).or_default();
        slot.0 += m;
        slot.1 += c;
    }
    Coverage {
        overall: Ratio::new(managed, candidates).coverage,
        managed,
        candidates,
        by_namespace: by_ns
            .into_iter()
            .map(|(k, (m, c))| (k, Ratio::new(m, c)))
            .collect(),
        by_kind: by_kind
            .into_iter()
            .map(|(k, (m, c))| (k, Ratio::new(m, c)))
            .collect(),
    }
}

fn groups(entries: &[Entry], class: Class) -> Vec<Group> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for e in entries.iter().filter(|e| e.class == class) {
        *counts
            .entry(e.rule.as_deref().unwrap_or("other"))
            .or_default() += 1;
    }
    let mut out: Vec<Group> = counts
        .into_iter()
        .map(|(rule, count)| Group {
            rule: rule.to_owned(),
            description: rule_description(rule).to_owned(),
            count,
        })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.rule.cmp(&b.rule)));
    out
}

/// A name safe in an import file and a URN: letters, digits, `-`, `_`, `.`.
pub(super) fn sanitize(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() { "resource".into() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adopt::inventory::Reader;
    use crate::adopt::state;

    fn opts() -> Options {
        Options {
            stack: "dev".into(),
            wave_size: None,
            pulumi: "pulumi".into(),
            import_dir: "adopt".into(),
            only_namespace: None,
        }
    }

    fn inventory(json: &str) -> Inventory {
        let mut r = Reader::new("default");
        r.read_stream(json.as_bytes(), "dump.json", &|_| {})
            .unwrap();
        r.finish()
    }

    fn class_of<'a>(report: &'a Report, kind: &str, name: &str) -> &'a Entry {
        report
            .objects
            .iter()
            .find(|e| e.kind == kind && e.name == name)
            .unwrap_or_else(|| panic!("no {kind} {name}"))
    }

    #[test]
    fn precedence() {
        let inv = inventory(
            r#"{"kind":"List","items":[
 {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"a","uid":"u-web"}},
 {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"renamed","namespace":"a","uid":"u-old"}},
 {"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"web-1","namespace":"a","uid":"u-rs",
   "annotations":{"meta.helm.sh/release-name":"x"},
   "ownerReferences":[{"kind":"Deployment","name":"web","controller":true}]}},
 {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"db","namespace":"data","uid":"u-db",
   "annotations":{"meta.helm.sh/release-name":"db-1a2b","meta.helm.sh/release-namespace":"data"},"labels":{"app.kubernetes.io/managed-by":"Helm"}}},
 {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"cache","namespace":"data","uid":"u-c",
   "annotations":{"meta.helm.sh/release-name":"redis"},"labels":{"app.kubernetes.io/managed-by":"Helm"}}},
 {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"other-stack","namespace":"a","uid":"u-o",
   "annotations":{"pulumi.com/autonamed":"true"}}},
 {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kube-root-ca.crt","namespace":"a","uid":"u-r"}},
 {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"hand","namespace":"a","uid":"u-h",
   "annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}"}}}
]}"#,
        );
        let state = state::index(
            r#"{"version":3,"deployment":{"resources":[
 {"urn":"urn:pulumi:dev::p::kubernetes:extensions/v1beta1:Deployment::web","custom":true,"type":"kubernetes:extensions/v1beta1:Deployment","id":"a/web"},
 {"urn":"urn:pulumi:dev::p::kubernetes:apps/v1:Deployment::old","custom":true,"type":"kubernetes:apps/v1:Deployment","id":"a/old-name",
   "outputs":{"metadata":{"name":"old-name","namespace":"a","uid":"u-old"}}},
 {"urn":"urn:pulumi:dev::p::kubernetes:helm.sh/v3:Release::db","custom":true,"type":"kubernetes:helm.sh/v3:Release","id":"data/db-1a2b",
   "outputs":{"name":"db-1a2b","namespace":"data"}},
 {"urn":"urn:pulumi:dev::p::kubernetes:core/v1:ConfigMap::gone","custom":true,"type":"kubernetes:core/v1:ConfigMap","id":"a/gone"}
]}}"#,
        )
        .unwrap();
        let r = analyze(&inv, &state, None, &opts());
        let web = class_of(&r, "Deployment", "web");
        assert_eq!(web.class, Class::Managed);
        assert!(
            web.reason.contains("the state has extensions/v1beta1"),
            "{}",
            web.reason
        );
        let renamed = class_of(&r, "Deployment", "renamed");
        assert_eq!(renamed.class, Class::Managed);
        assert!(renamed.reason.contains("by metadata.uid"));
        let rs = class_of(&r, "ReplicaSet", "web-1");
        assert_eq!(
            (rs.class, rs.rule.as_deref()),
            (Class::Excluded, Some("owned"))
        );
        assert_eq!(
            class_of(&r, "Deployment", "db").class,
            Class::ManagedByPulumiHelm
        );
        let cache = class_of(&r, "Deployment", "cache");
        assert_eq!(
            (cache.class, cache.rule.as_deref()),
            (Class::ManagedElsewhere, Some("helm"))
        );
        assert!(cache.reason.contains("Helm release data/redis"));
        let other = class_of(&r, "ConfigMap", "other-stack");
        assert_eq!(
            (other.class, other.rule.as_deref()),
            (Class::ManagedElsewhere, Some("pulumi"))
        );
        assert_eq!(
            class_of(&r, "ConfigMap", "kube-root-ca.crt").class,
            Class::Excluded
        );
        let hand = class_of(&r, "ConfigMap", "hand");
        assert_eq!(hand.class, Class::Candidate);
        assert_eq!(hand.wave, Some(1));
        assert!(hand.evidence[0].contains("last-applied"));
        let gone = class_of(&r, "ConfigMap", "gone");
        assert_eq!(gone.class, Class::Missing);
        assert_eq!(r.summary.missing, 1);
        assert_eq!(r.coverage.managed, 3);
        assert_eq!(r.coverage.candidates, 1);
        assert_eq!(r.coverage.overall, 0.75);
    }

    #[test]
    fn helm_secret_names() {
        let o = Object {
            name: "sh.helm.release.v1.my.app.v12".into(),
            ..Object::default()
        };
        assert_eq!(helm_secret_release(&o), Some("my.app"));
        assert_eq!(sanitize("system:controller:x"), "system-controller-x");
    }
}
