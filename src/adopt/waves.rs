//! Ranking candidates into import waves (A5, A6).
//!
//! Sort key: risk tier; then dependency depth among candidates of the same tier (Namespace →
//! the ServiceAccounts, ConfigMaps and Secrets a workload names → workload → the Service and
//! PodDisruptionBudget selecting it → Ingress/HPA); then Helm's install order; namespace; name.
//! A wave never mixes tiers and holds at most `--wave-size` objects, so an object is never
//! imported before a same-tier object it depends on.

use super::fasthash::{FastMap as HashMap, FastSet as HashSet};

use super::classify::sanitize;
use super::inventory::{Inventory, Object};
use super::kinds::{self, Tier};
use super::state::StateIndex;
use super::{Class, Options, ProviderRef, Wave, WaveItem};

/// Where a candidate landed.
pub(super) struct Placed {
    pub(super) wave: usize,
    pub(super) tier: u8,
    pub(super) reason: String,
}

/// The waves, and each candidate's place (by inventory index).
pub(super) struct Planned {
    pub(super) waves: Vec<Wave>,
    pub(super) placed: Vec<(usize, Placed)>,
}

type Key<'a> = (&'a str, Option<&'a str>, &'a str);

fn key(o: &Object) -> Key<'_> {
    (o.kind.as_str(), o.namespace.as_deref(), o.name.as_str())
}

fn id_of(o: &Object) -> String {
    match &o.namespace {
        Some(ns) => format!("{ns}/{}", o.name),
        None => o.name.clone(),
    }
}

/// Longest chain of same-tier dependencies below `c`.
fn depth(
    c: usize,
    deps: &[Vec<usize>],
    tiers: &[Tier],
    memo: &mut [Option<usize>],
    on_path: &mut [bool],
) -> usize {
    if let Some(d) = memo[c] {
        return d;
    }
    if on_path[c] {
        return 0; // a cycle: cut it here
    }
    on_path[c] = true;
    let mut d = 0;
    for &j in &deps[c] {
        if tiers[j] == tiers[c] {
            d = d.max(1 + depth(j, deps, tiers, memo, on_path));
        }
    }
    on_path[c] = false;
    memo[c] = Some(d);
    d
}

pub(super) fn plan(
    inv: &Inventory,
    classes: &[Class],
    state: &StateIndex,
    provider: Option<&ProviderRef>,
    opts: &Options,
) -> Planned {
    let cands: Vec<usize> = (0..inv.objects.len())
        .filter(|&i| classes[i] == Class::Candidate)
        .collect();
    let obj = |c: usize| &inv.objects[cands[c]];
    let n = cands.len();

    let mut pos: HashMap<Key<'_>, usize> = HashMap::with_capacity_and_hasher(n, Default::default());
    for c in 0..n {
        pos.insert(key(obj(c)), c);
    }
    let all: HashMap<Key<'_>, usize> = inv
        .objects
        .iter()
        .enumerate()
        .map(|(i, o)| (key(o), i))
        .collect();
    let tiers: Vec<Tier> = (0..n)
        .map(|c| {
            let o = obj(c);
            kinds::tier(&o.group, &o.kind, o.service_type.as_deref())
        })
        .collect();

    // Workloads by (namespace, label) for selector matching; CRDs by what they define.
    let mut by_label: HashMap<(&str, &str, &str), Vec<usize>> = HashMap::default();
    let mut crds: HashMap<(&str, &str), usize> = HashMap::default();
    for c in 0..n {
        let o = obj(c);
        if kinds::WORKLOADS.contains(&o.kind.as_str()) {
            if let Some(ns) = &o.namespace {
                for (k, v) in &o.pod_labels {
                    by_label.entry((ns, k, v)).or_default().push(c);
                }
            }
        }
        if let Some(crd) = &o.crd {
            crds.insert((&crd.group, &crd.kind), c);
        }
    }

    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); n];
    // (selector, selected workload): the Service or PDB does not need the workload first.
    let mut selector_edges: HashSet<(usize, usize)> = HashSet::default();
    let mut absent: Vec<Vec<String>> = vec![Vec::new(); n];
    for c in 0..n {
        let o = obj(c);
        let mut d: Vec<usize> = Vec::new();
        if let Some(ns) = &o.namespace {
            if let Some(&j) = pos.get(&("Namespace", None, ns.as_str())) {
                d.push(j);
            }
        }
        for r in &o.refs {
            let ns = if kinds::builtin_cluster_scoped("", r.kind) == Some(true) {
                None
            } else {
                r.namespace.as_deref().or(o.namespace.as_deref())
            };
            let k = (r.kind, ns, r.name.as_str());
            if let Some(&j) = pos.get(&k) {
                d.push(j);
            } else if !all.contains_key(&k) {
                let shown = match ns {
                    Some(ns) => format!("{} {ns}/{}", r.kind, r.name),
                    None => format!("{} {}", r.kind, r.name),
                };
                absent[c].push(format!(
                    "names {shown} ({}), which is not in the inventory",
                    r.via
                ));
            }
        }
        let selects = matches!(
            (o.group.as_str(), o.kind.as_str()),
            ("", "Service") | ("policy", "PodDisruptionBudget")
        );
        if selects && !o.selector.is_empty() {
            if let Some(ns) = o.namespace.as_deref() {
                let shortest = o
                    .selector
                    .iter()
                    .filter_map(|(k, v)| by_label.get(&(ns, k.as_str(), v.as_str())))
                    .min_by_key(|l| l.len());
                if let Some(list) = shortest {
                    for &w in list {
                        let labels = &obj(w).pod_labels;
                        let all_match = o
                            .selector
                            .iter()
                            .all(|(k, v)| labels.iter().any(|(lk, lv)| lk == k && lv == v));
                        // A StatefulSet names its Service: that edge goes the other way.
                        let reverse = obj(w)
                            .refs
                            .iter()
                            .any(|r| r.kind == "Service" && r.name == o.name);
                        if all_match && !reverse {
                            d.push(w);
                            selector_edges.insert((c, w));
                        }
                    }
                }
            }
        }
        if !kinds::is_builtin_group(&o.group) {
            if let Some(&j) = crds.get(&(o.group.as_str(), o.kind.as_str())) {
                d.push(j);
            }
        }
        let mut seen = HashSet::default();
        d.retain(|&j| j != c && seen.insert(j));
        deps[c] = d;
    }

    let mut memo = vec![None; n];
    let mut on_path = vec![false; n];
    let depths: Vec<usize> = (0..n)
        .map(|c| depth(c, &deps, &tiers, &mut memo, &mut on_path))
        .collect();

    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        let (oa, ob) = (obj(a), obj(b));
        (
            tiers[a],
            depths[a],
            kinds::install_rank(&oa.kind),
            &oa.kind,
            oa.namespace.as_deref().unwrap_or(""),
            &oa.name,
            &oa.group,
        )
            .cmp(&(
                tiers[b],
                depths[b],
                kinds::install_rank(&ob.kind),
                &ob.kind,
                ob.namespace.as_deref().unwrap_or(""),
                &ob.name,
                &ob.group,
            ))
    });

    // Waves: one tier each, at most wave_size objects.
    let cap = opts.wave_size.unwrap_or(usize::MAX).max(1);
    let mut wave_of = vec![0usize; n];
    let mut groups: Vec<(Tier, Vec<usize>)> = Vec::new();
    for &c in &order {
        match groups.last_mut() {
            Some((t, members)) if *t == tiers[c] && members.len() < cap => members.push(c),
            _ => groups.push((tiers[c], vec![c])),
        }
        wave_of[c] = groups.len();
    }

    // Import names: unique across every wave, and not an existing (type, name) of the state.
    let mut bases: HashMap<String, usize> = HashMap::default();
    let base_of = |o: &Object| {
        sanitize(&match &o.namespace {
            Some(ns) => format!("{ns}-{}", o.name),
            None => o.name.clone(),
        })
    };
    for c in 0..n {
        *bases.entry(base_of(obj(c))).or_default() += 1;
    }
    let mut used: HashSet<String> = HashSet::default();
    if let Some(p) = provider {
        used.insert(p.name.clone());
    }
    let mut names = vec![String::new(); n];
    let mut tokens = vec![String::new(); n];
    for &c in &order {
        let o = obj(c);
        let token = kinds::type_token(&o.group, &o.version, &o.kind);
        let base = base_of(o);
        let mut tries = vec![base.clone()];
        let kinded = format!("{base}-{}", o.kind.to_ascii_lowercase());
        if bases.get(&base).copied().unwrap_or(0) > 1 {
            tries.insert(0, kinded.clone());
        } else {
            tries.push(kinded.clone());
        }
        tries.push(sanitize(&format!("{kinded}-{}", o.group)));
        let free = |name: &str, used: &HashSet<String>| {
            !used.contains(name) && !state.taken.contains(&(token.clone(), name.to_owned()))
        };
        let name = match tries.iter().find(|t| free(t, &used)) {
            Some(t) => t.clone(),
            None => (2..)
                .map(|i| format!("{kinded}-{i}"))
                .find(|t| free(t, &used))
                .unwrap_or_default(),
        };
        used.insert(name.clone());
        names[c] = name;
        tokens[c] = token;
    }

    // Reasons.
    let mut placed = Vec::with_capacity(n);
    let mut reasons = vec![String::new(); n];
    for c in 0..n {
        let o = obj(c);
        let tier = tiers[c];
        let mut parts = Vec::new();
        let mut head = format!("tier {}: {}", tier.number(), tier.why());
        if let Some(detail) = kinds::tier_detail(&o.group, &o.kind, o.service_type.as_deref()) {
            head.push_str(&format!(" ({detail})"));
        }
        parts.push(head);
        let (before, later): (Vec<usize>, Vec<usize>) =
            deps[c].iter().partition(|&&j| wave_of[j] <= wave_of[c]);
        if !before.is_empty() {
            let mut shown: Vec<String> = before
                .iter()
                .take(4)
                .map(|&j| format!("{} (wave {})", obj(j).display(), wave_of[j]))
                .collect();
            if before.len() > 4 {
                shown.push(format!("{} more", before.len() - 4));
            }
            parts.push(format!("after {}", shown.join(", ")));
        }
        for &j in &later {
            let how = if selector_edges.contains(&(c, j)) {
                "selects the pods of"
            } else {
                "names"
            };
            parts.push(format!(
                "{how} {}, adopted later in wave {} (a higher risk tier)",
                obj(j).display(),
                wave_of[j]
            ));
        }
        parts.extend(absent[c].iter().cloned());
        reasons[c] = format!("wave {}: {}", wave_of[c], parts.join("; "));
    }

    let dir = opts.import_dir.trim_end_matches('/');
    let waves: Vec<Wave> = groups
        .iter()
        .enumerate()
        .map(|(i, (tier, members))| {
            let number = i + 1;
            let file = format!("wave-{number:02}.json");
            let path = if dir.is_empty() {
                file.clone()
            } else {
                format!("{dir}/{file}")
            };
            let mut command = format!(
                "{} import --stack {} --file {}",
                opts.pulumi,
                crate::shellwords::quote(&opts.stack),
                crate::shellwords::quote(&path)
            );
            let stateful = *tier == Tier::Stateful;
            if stateful {
                command.push_str(" --protect");
            }
            let mut warnings = Vec::new();
            match tier {
                Tier::Stateless => warnings.push(
                    "keep selectors exactly as imported: they are immutable, and a changed input rolls the workload out"
                        .to_owned(),
                ),
                Tier::Secret => warnings.push(
                    "Secret values will be stored in the stack's state (encrypted by its secrets provider), and `pulumi import` writes them as literals in the generated code: move them to secret config (`pulumi config set --secret`) before committing"
                        .to_owned(),
                ),
                Tier::Stateful => {
                    warnings.push(
                        "keep these protected (`--protect`, the default) and add `retainOnDelete: true` to the generated code: immutable fields force a replacement, which loses data"
                            .to_owned(),
                    );
                    if members.iter().any(|&c| obj(c).kind == "CustomResourceDefinition") {
                        warnings.push(
                            "deleting a CustomResourceDefinition deletes all its custom resources"
                                .to_owned(),
                        );
                    }
                    if members.iter().any(|&c| !kinds::is_builtin_group(&obj(c).group)) {
                        warnings.push(
                            "custom resources can fail to import with `unknown resource type` (pulumi-kubernetes#1506): import their CustomResourceDefinition first"
                                .to_owned(),
                        );
                    }
                }
                Tier::Leaf => {}
            }
            let resources = members
                .iter()
                .map(|&c| {
                    let o = obj(c);
                    WaveItem {
                        kind: o.kind.clone(),
                        namespace: o.namespace.clone(),
                        name: o.name.clone(),
                        type_token: tokens[c].clone(),
                        import_name: names[c].clone(),
                        id: id_of(o),
                        reason: reasons[c].clone(),
                    }
                })
                .collect();
            Wave {
                wave: number,
                tier: tier.number(),
                label: tier.label(),
                file,
                command,
                protect: true,
                retain_on_delete: stateful,
                warnings,
                resources,
            }
        })
        .collect();

    for c in 0..n {
        placed.push((
            cands[c],
            Placed {
                wave: wave_of[c],
                tier: tiers[c].number(),
                reason: std::mem::take(&mut reasons[c]),
            },
        ));
    }
    Planned { waves, placed }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adopt::inventory::Reader;

    fn opts(wave_size: Option<usize>) -> Options {
        Options {
            stack: "dev".into(),
            wave_size,
            pulumi: "pulumi".into(),
            import_dir: "adopt".into(),
            only_namespace: None,
        }
    }

    const APP: &str = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n\
apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}\n---\n\
apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: shop}\n---\n\
apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web, namespace: shop}\n---\n\
apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web, tier: fe}}\n    spec:\n      serviceAccountName: web\n      containers: [{name: c, envFrom: [{configMapRef: {name: cfg}}, {secretRef: {name: db}}], env: [{name: X, valueFrom: {configMapKeyRef: {name: nowhere, key: k}}}]}]\n---\n\
apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {type: LoadBalancer, selector: {app: web}}\n---\n\
apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web, namespace: shop}\nspec:\n  rules: [{http: {paths: [{path: /, backend: {service: {name: web}}}]}}]\n---\n\
apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web, namespace: shop}\nspec: {scaleTargetRef: {kind: Deployment, name: web}}\n---\n\
apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: pg, namespace: shop}\nspec: {serviceName: pg}\n";

    #[test]
    fn order_reasons_and_names() {
        let mut r = Reader::new("default");
        r.read_stream(APP.as_bytes(), "app.yaml", &|_| {}).unwrap();
        let inv = r.finish();
        let classes = vec![Class::Candidate; inv.objects.len()];
        let state = StateIndex::default();
        let planned = plan(&inv, &classes, &state, None, &opts(None));
        let waves: Vec<(u8, Vec<String>)> = planned
            .waves
            .iter()
            .map(|w| {
                (
                    w.tier,
                    w.resources
                        .iter()
                        .map(|r| format!("{}:{}", r.kind, r.import_name))
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            waves,
            vec![
                (
                    1,
                    vec![
                        "Namespace:shop".to_owned(),
                        "ServiceAccount:shop-web-serviceaccount".into(),
                        "ConfigMap:shop-cfg".into()
                    ]
                ),
                (
                    2,
                    vec![
                        "Deployment:shop-web-deployment".to_owned(),
                        "Service:shop-web-service".into(),
                        "HorizontalPodAutoscaler:shop-web-horizontalpodautoscaler".into(),
                        "Ingress:shop-web-ingress".into(),
                    ]
                ),
                (3, vec!["Secret:shop-db".to_owned()]),
                (4, vec!["StatefulSet:shop-pg".to_owned()]),
            ]
        );
        let deploy = &planned.waves[1].resources[0];
        assert_eq!(deploy.id, "shop/web");
        assert_eq!(deploy.type_token, "kubernetes:apps/v1:Deployment");
        assert!(deploy.reason.contains("after "), "{}", deploy.reason);
        assert!(
            deploy
                .reason
                .contains("names Secret shop/db, adopted later in wave 3"),
            "{}",
            deploy.reason
        );
        assert!(
            deploy
                .reason
                .contains("names ConfigMap shop/nowhere (env), which is not in the inventory"),
            "{}",
            deploy.reason
        );
        let sts = &planned.waves[3];
        assert!(sts.retain_on_delete && sts.command.ends_with("--protect"));
        assert!(
            sts.resources[0]
                .reason
                .contains("names Service shop/pg (serviceName)")
        );
        assert_eq!(
            planned.waves[0].command,
            "pulumi import --stack dev --file adopt/wave-01.json"
        );

        let small = plan(&inv, &classes, &state, None, &opts(Some(2)));
        let sizes: Vec<(u8, usize)> = small
            .waves
            .iter()
            .map(|w| (w.tier, w.resources.len()))
            .collect();
        assert_eq!(sizes, vec![(1, 2), (1, 1), (2, 2), (2, 2), (3, 1), (4, 1)]);
    }
}
