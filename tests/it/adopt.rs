//! Issue 7: `stackwire adopt` over real public manifests and `kubectl get -o json` dumps, the
//! import files it writes (checked against the bulk-import rules independently of the code),
//! the HTML page in headless Chromium, `--kubectl` through a stub, and the state sources.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Repo, Run, manifest_dir};

fn fixture(rel: &str) -> String {
    manifest_dir()
        .join("tests/fixtures/adopt")
        .join(rel)
        .display()
        .to_string()
}

/// A repository whose mapping names `stack`.
fn repo(stack: &str) -> Repo {
    let repo = Repo::new();
    repo.write(
        &format!("stacks/{stack}.yaml"),
        &format!("stack: {stack}\n"),
    );
    repo
}

/// `Kind ns/name` (or `Kind name`) of a report object.
fn label(o: &Value) -> String {
    match o["namespace"].as_str() {
        Some(ns) => format!(
            "{} {ns}/{}",
            o["kind"].as_str().unwrap(),
            o["name"].as_str().unwrap()
        ),
        None => format!(
            "{} {}",
            o["kind"].as_str().unwrap(),
            o["name"].as_str().unwrap()
        ),
    }
}

fn object<'a>(report: &'a Value, label_: &str) -> &'a Value {
    report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| label(o) == label_)
        .unwrap_or_else(|| panic!("no object {label_}"))
}

/// Each wave as the list of its objects' labels.
fn wave_labels(report: &Value) -> Vec<Vec<String>> {
    report["waves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            w["resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(label)
                .collect()
        })
        .collect()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// An import-file checker written from `pulumi-contract.md` §7, independent of src/adopt.

/// Built-in cluster-scoped kinds (the provider's id rule: `name` for these, `ns/name` else).
const CLUSTER_KINDS: &[&str] = &[
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "StorageClass",
    "PersistentVolume",
    "PriorityClass",
    "IngressClass",
    "Node",
    "APIService",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
];

/// Every problem `pulumi import --file` (plus the Kubernetes id rules) would have with `doc`.
/// `cr_scopes`: custom kinds → cluster-scoped?; `taken`: `(type, name)` already in the state.
fn import_problems(
    doc: &Value,
    cr_scopes: &BTreeMap<String, bool>,
    taken: &HashSet<(String, String)>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let top = doc.as_object().expect("an import file is a JSON object");
    for key in top.keys() {
        if !["nameTable", "resources", "providerInputs"].contains(&key.as_str()) {
            problems.push(format!("unknown top-level key {key}"));
        }
    }
    let table: BTreeMap<String, String> = match top.get("nameTable") {
        None => BTreeMap::new(),
        Some(t) => t
            .as_object()
            .expect("nameTable is an object")
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().expect("nameTable values are URNs").to_owned(),
                )
            })
            .collect(),
    };
    for (name, urn) in &table {
        let parts: Vec<&str> = urn.split("::").collect();
        if !urn.starts_with("urn:pulumi:") || parts.len() != 4 {
            problems.push(format!("nameTable {name}: not a URN: {urn}"));
        } else if !parts[2]
            .rsplit('$')
            .next()
            .unwrap()
            .starts_with("pulumi:providers:kubernetes")
        {
            problems.push(format!(
                "nameTable {name}: not a kubernetes provider: {urn}"
            ));
        }
    }
    let resources = top
        .get("resources")
        .and_then(Value::as_array)
        .expect("resources is an array");
    if resources.is_empty() {
        problems.push("no resources".into());
    }
    let token = regex_token();
    let allowed: BTreeSet<&str> = [
        "type",
        "name",
        "id",
        "logicalName",
        "parent",
        "provider",
        "version",
        "pluginDownloadUrl",
        "properties",
        "component",
        "remote",
        "inputs",
        "outputs",
        "parameterization",
        "extension",
    ]
    .into();
    let mut names = HashSet::new();
    let mut urns = HashSet::new();
    for r in resources {
        let r = r.as_object().expect("a resource is an object");
        for key in r.keys() {
            if !allowed.contains(key.as_str()) {
                problems.push(format!("unknown resource key {key}"));
            }
        }
        let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        let (ty, name, id) = (s("type"), s("name"), s("id"));
        if ty.is_empty() || name.is_empty() || id.is_empty() {
            problems.push(format!("{r:?}: type, name and id are required"));
            continue;
        }
        if !names.insert(name.clone()) || table.contains_key(&name) {
            problems.push(format!("{name}: the name is not unique"));
        }
        let logical = r
            .get("logicalName")
            .and_then(Value::as_str)
            .unwrap_or(&name)
            .to_owned();
        if !urns.insert((ty.clone(), logical.clone())) || taken.contains(&(ty.clone(), logical)) {
            problems.push(format!("{name}: ambiguous URN"));
        }
        if let Some(p) = r.get("provider") {
            let p = p.as_str().unwrap_or_default();
            if !table.contains_key(p) {
                problems.push(format!("{name}: provider {p} has no nameTable entry"));
            }
        }
        let Some((kind, cluster_builtin)) = token(&ty) else {
            problems.push(format!("{name}: bad type token {ty}"));
            continue;
        };
        let cluster = match cr_scopes.get(&kind) {
            Some(scope) if !cluster_builtin => *scope,
            _ => CLUSTER_KINDS.contains(&kind.as_str()),
        };
        let parts: Vec<&str> = id.split('/').collect();
        let ok = if cluster {
            parts.len() == 1
        } else {
            parts.len() == 2 && parts.iter().all(|p| !p.is_empty())
        };
        if !ok {
            problems.push(format!(
                "{name}: id {id} does not fit a {} {kind}",
                if cluster {
                    "cluster-scoped"
                } else {
                    "namespaced"
                }
            ));
        }
    }
    problems
}

/// Parse `kubernetes:<group>/<version>:<Kind>` → (Kind, whether the group is built-in).
fn regex_token() -> impl Fn(&str) -> Option<(String, bool)> {
    |ty: &str| {
        let rest = ty.strip_prefix("kubernetes:")?;
        let (module, kind) = rest.split_once(':')?;
        let (group, version) = module.split_once('/').or_else(|| module.rsplit_once('/'))?;
        let group_ok = !group.is_empty()
            && group
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
        let version_ok =
            version.starts_with('v') && version[1..].chars().all(|c| c.is_ascii_alphanumeric());
        let kind_ok = kind.chars().next()?.is_ascii_uppercase()
            && kind.chars().all(|c| c.is_ascii_alphanumeric());
        if !(group_ok && version_ok && kind_ok) {
            return None;
        }
        let builtin = group == "core" || !group.contains('.') || group.ends_with(".k8s.io");
        Some((kind.to_owned(), builtin))
    }
}

/// Every `(type, logical name)` of a state export.
fn state_names(state: &str) -> HashSet<(String, String)> {
    let doc = read_json(Path::new(state));
    doc["deployment"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| {
            let urn = r["urn"].as_str()?;
            let parts: Vec<&str> = urn.splitn(4, "::").collect();
            Some((parts[2].rsplit('$').next()?.to_owned(), parts[3].to_owned()))
        })
        .collect()
}

/// Check every `wave-*.json` in `dir` (and that they are exactly the report's waves).
#[track_caller]
fn assert_import_dir_valid(
    dir: &Path,
    report: &Value,
    cr_scopes: &BTreeMap<String, bool>,
    taken: &HashSet<(String, String)>,
) {
    let waves = report["waves"].as_array().unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let expected: Vec<PathBuf> = waves
        .iter()
        .map(|w| dir.join(w["file"].as_str().unwrap()))
        .collect();
    assert_eq!(
        files, expected,
        "the import folder holds exactly one file per wave"
    );
    let mut all_names = HashSet::new();
    for (w, path) in waves.iter().zip(&files) {
        let doc = read_json(path);
        let problems = import_problems(&doc, cr_scopes, taken);
        assert!(
            problems.is_empty(),
            "{}:\n{}",
            path.display(),
            problems.join("\n")
        );
        let resources = doc["resources"].as_array().unwrap();
        assert_eq!(resources.len(), w["resources"].as_array().unwrap().len());
        for (r, item) in resources.iter().zip(w["resources"].as_array().unwrap()) {
            assert_eq!(r["type"], item["type"]);
            assert_eq!(r["name"], item["importName"]);
            assert_eq!(r["id"], item["id"]);
            assert!(
                all_names.insert(r["name"].as_str().unwrap().to_owned()),
                "names are unique across waves: {}",
                r["name"]
            );
        }
        let text = std::fs::read_to_string(path).unwrap();
        assert!(
            text.starts_with("{\n    \""),
            "4-space indent like pulumi's own files"
        );
        assert!(w["command"].as_str().unwrap().contains(&format!(
            "import --stack {} --file ",
            report["stack"].as_str().unwrap()
        )));
    }
}

#[test]
fn the_import_checker_catches_what_pulumi_rejects() {
    let taken = HashSet::from([(
        "kubernetes:core/v1:ConfigMap".to_owned(),
        "taken".to_owned(),
    )]);
    let doc = json!({
        "nameTable": {"p": "urn:pulumi:dev::x::kubernetes:core/v1:Namespace::ns"},
        "resources": [
            {"type": "kubernetes:core/v1:ConfigMap", "name": "a", "id": "cfg"},
            {"type": "kubernetes:core/v1:Namespace", "name": "a", "id": "x/y", "provider": "q"},
            {"type": "kubernetes:core/v1:ConfigMap", "name": "taken", "id": "n/taken"},
            {"type": "kubernetes:apps:Deployment", "name": "b", "id": "n/b"},
            {"type": "kubernetes:core/v1:Secret", "name": "c"},
            {"type": "kubernetes:core/v1:Secret", "name": "d", "id": "n/d", "extra": 1}
        ]
    });
    let problems = import_problems(&doc, &BTreeMap::new(), &taken).join("\n");
    for want in [
        "not a kubernetes provider",
        "a: id cfg does not fit a namespaced ConfigMap",
        "a: the name is not unique",
        "provider q has no nameTable entry",
        "id x/y does not fit a cluster-scoped Namespace",
        "taken: ambiguous URN",
        "b: bad type token",
        "type, name and id are required",
        "unknown resource key extra",
    ] {
        assert!(problems.contains(want), "missing {want:?} in\n{problems}");
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Real public manifests against a state that manages part of them.

const SHOP_PROVIDER: &str = "urn:pulumi:dev::shop::pulumi:providers:kubernetes::k8s";

fn shop_run(repo: &Repo, extra: &[&str]) -> Run {
    let state = fixture("microservices-demo/state.json");
    let manifests = fixture("microservices-demo/kubernetes-manifests.yaml");
    let mut args = vec![
        "--state",
        state.as_str(),
        "adopt",
        "--cluster",
        manifests.as_str(),
        "--namespace",
        "shop",
    ];
    args.extend_from_slice(extra);
    repo.run(&args)
}

const SHOP_APPS: &[&str] = &[
    "adservice",
    "cartservice",
    "checkoutservice",
    "currencyservice",
    "emailservice",
    "frontend",
    "loadgenerator",
    "paymentservice",
    "productcatalogservice",
    "recommendationservice",
    "redis-cart",
    "shippingservice",
];

#[test]
fn microservices_demo_classes_coverage_waves_and_import_files() {
    let repo = repo("dev");
    let run = shop_run(&repo, &["--format", "json", "--import-dir", "imports"]).ok();
    let report = run.json();

    // Every object's class.
    let mut expected: BTreeMap<String, &str> = BTreeMap::new();
    for app in SHOP_APPS {
        expected.insert(format!("Deployment shop/{app}"), "candidate");
        if *app != "loadgenerator" {
            expected.insert(format!("Service shop/{app}"), "candidate");
        }
        if *app != "redis-cart" {
            expected.insert(format!("ServiceAccount shop/{app}"), "candidate");
        }
    }
    expected.insert("Service shop/frontend-external".into(), "candidate");
    for managed in [
        "Deployment shop/frontend",
        "Service shop/frontend",
        "ServiceAccount shop/frontend",
        "Deployment shop/redis-cart",
        "Service shop/redis-cart",
    ] {
        expected.insert(managed.into(), "managed");
    }
    expected.insert("Deployment shop/cartservice".into(), "partially-managed");
    expected.insert("ConfigMap shop/shop-settings".into(), "missing");
    let actual: BTreeMap<String, &str> = report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (label(o), o["class"].as_str().unwrap()))
        .collect();
    assert_eq!(actual, expected);
    assert_eq!(
        report["objects"].as_array().unwrap().len(),
        36,
        "35 manifests + 1 missing, each exactly once"
    );
    assert_eq!(
        report["summary"],
        json!({"objects": 35, "managed": 5, "partially-managed": 1, "managed-by-pulumi-helm": 0,
               "managed-elsewhere": 0, "excluded": 0, "candidate": 29, "missing": 1})
    );

    // Why.
    let redis = object(&report, "Deployment shop/redis-cart");
    let reason = redis["reason"].as_str().unwrap();
    assert!(
        reason.contains("kubernetes:extensions/v1beta1:Deployment::redis-cart")
            && reason.contains("the state has extensions/v1beta1, the inventory apps/v1"),
        "{reason}"
    );
    assert_eq!(redis["evidence"], json!(["protect"]));
    let cart = object(&report, "Deployment shop/cartservice");
    assert!(cart["reason"].as_str().unwrap().contains("DeploymentPatch"));
    let ad = object(&report, "ServiceAccount shop/adservice");
    assert!(
        ad["evidence"][0]
            .as_str()
            .unwrap()
            .contains("external: not managed"),
        "{ad}"
    );
    assert_eq!(
        object(&report, "ConfigMap shop/shop-settings")["source"],
        "state"
    );
    let fe = object(&report, "Service shop/frontend-external");
    assert_eq!(
        (fe["wave"].as_u64(), fe["risk"].as_u64()),
        (Some(2), Some(2))
    );
    assert!(
        fe["reason"]
            .as_str()
            .unwrap()
            .contains("LoadBalancer Service")
    );
    let source = object(&report, "Deployment shop/adservice")["source"]
        .as_str()
        .unwrap();
    assert!(
        source.ends_with("microservices-demo/kubernetes-manifests.yaml"),
        "{source}"
    );

    // Coverage: 5 managed of 5 + 29 candidates.
    let cov = &report["coverage"];
    assert_eq!(cov["overall"], json!(0.1471));
    assert_eq!(
        cov["by_namespace"],
        json!({"shop": {"managed": 5, "candidates": 29, "coverage": 0.1471}})
    );
    assert_eq!(
        cov["by_kind"],
        json!({
            "Deployment": {"managed": 2, "candidates": 9, "coverage": 0.1818},
            "Service": {"managed": 2, "candidates": 10, "coverage": 0.1667},
            "ServiceAccount": {"managed": 1, "candidates": 10, "coverage": 0.0909}
        })
    );

    // Waves: leaf objects first (ServiceAccounts before Services by Helm's order), then
    // the LoadBalancer Service and the Deployments.
    let sa: Vec<String> = SHOP_APPS
        .iter()
        .filter(|a| !["frontend", "redis-cart"].contains(a))
        .map(|a| format!("ServiceAccount shop/{a}"))
        .collect();
    let svc: Vec<String> = SHOP_APPS
        .iter()
        .filter(|a| !["frontend", "redis-cart", "loadgenerator"].contains(a))
        .map(|a| format!("Service shop/{a}"))
        .collect();
    let deploy: Vec<String> = SHOP_APPS
        .iter()
        .filter(|a| !["frontend", "redis-cart", "cartservice"].contains(a))
        .map(|a| format!("Deployment shop/{a}"))
        .collect();
    let wave1: Vec<String> = sa.iter().chain(&svc).cloned().collect();
    let wave2: Vec<String> = std::iter::once("Service shop/frontend-external".to_owned())
        .chain(deploy.iter().cloned())
        .collect();
    assert_eq!(wave_labels(&report), vec![wave1.clone(), wave2.clone()]);
    let waves = report["waves"].as_array().unwrap();
    assert_eq!(
        (waves[0]["tier"].as_u64(), waves[1]["tier"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(
        waves[0]["command"],
        "pulumi import --stack dev --file imports/wave-01.json"
    );
    let deploy_reason = object(&report, "Deployment shop/adservice")["reason"]
        .as_str()
        .unwrap();
    assert!(
        deploy_reason.starts_with("wave 2: tier 2")
            && deploy_reason.contains("after ServiceAccount shop/adservice (wave 1)"),
        "{deploy_reason}"
    );

    // The import files.
    let wave2_file = read_json(&repo.path().join("imports/wave-02.json"));
    let mut resources = vec![
        json!({"type": "kubernetes:core/v1:Service", "name": "shop-frontend-external",
        "id": "shop/frontend-external", "provider": "k8s"}),
    ];
    for d in &deploy {
        let app = d.rsplit('/').next().unwrap();
        resources.push(json!({"type": "kubernetes:apps/v1:Deployment", "name": format!("shop-{app}-deployment"),
            "id": format!("shop/{app}"), "provider": "k8s"}));
    }
    assert_eq!(
        wave2_file,
        json!({"nameTable": {"k8s": SHOP_PROVIDER}, "resources": resources})
    );
    let wave1_file = read_json(&repo.path().join("imports/wave-01.json"));
    assert_eq!(
        wave1_file["resources"][0],
        json!({"type": "kubernetes:core/v1:ServiceAccount", "name": "shop-adservice-serviceaccount",
               "id": "shop/adservice", "provider": "k8s"})
    );
    assert_import_dir_valid(
        &repo.path().join("imports"),
        &report,
        &BTreeMap::new(),
        &state_names(&fixture("microservices-demo/state.json")),
    );

    // The Markdown report says the same.
    let md = shop_run(&repo, &[]).ok().stdout;
    for want in [
        "# Kubernetes adoption report: stack `dev`",
        "| managed | 5 |",
        "| candidate | 29 |",
        "**Coverage: 14.7%**",
        "| shop | 5 | 29 | 14.7% |",
        "### Wave 1: tier 1, leaf objects (19 objects)",
        "```sh\npulumi import --stack dev --file stackwire-adopt/wave-01.json\n```",
        "### Wave 2: tier 2, stateless workloads and routing (10 objects)",
        "| 1 | Service shop/frontend-external | `kubernetes:core/v1:Service` | `shop/frontend-external` |",
        "- ConfigMap shop/shop-settings (`urn:pulumi:dev::shop::kubernetes:core/v1:ConfigMap::shop-settings`)",
        "1 state resource(s) pending deletion were not counted",
        "add --import-dir stackwire-adopt",
    ] {
        assert!(md.contains(want), "missing {want:?} in:\n{md}");
    }
}

#[test]
fn wave_size_caps_waves_without_reordering() {
    let repo = repo("dev");
    let all = shop_run(&repo, &["--format", "json"]).ok().json();
    let capped = shop_run(
        &repo,
        &["--format", "json", "--wave-size", "4", "--import-dir", "w"],
    )
    .ok()
    .json();
    let sizes: Vec<(u64, usize)> = capped["waves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["tier"].as_u64().unwrap(),
                w["resources"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        sizes,
        vec![
            (1, 4),
            (1, 4),
            (1, 4),
            (1, 4),
            (1, 3),
            (2, 4),
            (2, 4),
            (2, 2)
        ]
    );
    let flat = |r: &Value| wave_labels(r).concat();
    assert_eq!(flat(&capped), flat(&all));
    assert_import_dir_valid(
        &repo.path().join("w"),
        &capped,
        &BTreeMap::new(),
        &state_names(&fixture("microservices-demo/state.json")),
    );
    // A later run with fewer waves leaves no stale files behind.
    shop_run(&repo, &["--format", "json", "--import-dir", "w"]).ok();
    let left: BTreeSet<String> = std::fs::read_dir(repo.path().join("w"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        left,
        BTreeSet::from(["wave-01.json".into(), "wave-02.json".into()])
    );
}

// ---------------------------------------------------------------------------------------------
// 2. A `kubectl get -o json` dump with server fields.

fn cluster_run(repo: &Repo, extra: &[&str]) -> Value {
    let state = fixture("cluster/state.json");
    let dump = fixture("cluster/dump.json");
    let mut args = vec![
        "--state",
        state.as_str(),
        "adopt",
        "--cluster",
        dump.as_str(),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    repo.run(&args).ok().json()
}

fn cr_scopes() -> BTreeMap<String, bool> {
    BTreeMap::from([("Widget".to_owned(), false)])
}

/// (class, rule) of every object of the dump, by default.
fn cluster_expected() -> BTreeMap<&'static str, (&'static str, Option<&'static str>)> {
    let c = |class, rule| (class, rule);
    BTreeMap::from([
        (
            "APIService v1.apps",
            c("excluded", Some("cluster-maintained")),
        ),
        (
            "ClusterRole cluster-admin",
            c("excluded", Some("bootstrap-rbac")),
        ),
        ("ClusterRole shop-reader", c("candidate", None)),
        (
            "ClusterRole system:aggregate-to-edit",
            c("excluded", Some("bootstrap-rbac")),
        ),
        ("ClusterRoleBinding shop-reader", c("candidate", None)),
        (
            "CustomResourceDefinition widgets.example.com",
            c("candidate", None),
        ),
        ("Namespace data", c("candidate", None)),
        ("Namespace default", c("excluded", Some("system-namespace"))),
        (
            "Namespace kube-system",
            c("excluded", Some("system-namespace")),
        ),
        ("Namespace monitoring", c("managed", None)),
        ("Namespace shop", c("candidate", None)),
        ("Node node-1", c("excluded", Some("cluster-maintained"))),
        (
            "PriorityClass system-node-critical",
            c("excluded", Some("cluster-maintained")),
        ),
        ("StorageClass standard", c("excluded", Some("addon"))),
        (
            "ControllerRevision data/pg-postgresql-7d9c5b8f4",
            c("excluded", Some("owned")),
        ),
        (
            "PersistentVolumeClaim data/data-pg-postgresql-0",
            c("excluded", Some("sts-pvc")),
        ),
        ("Pod data/pg-postgresql-0", c("excluded", Some("owned"))),
        (
            "Secret data/pg-postgresql",
            c("managed-by-pulumi-helm", None),
        ),
        (
            "Secret data/sh.helm.release.v1.pg.v1",
            c("managed-by-pulumi-helm", None),
        ),
        (
            "Service data/pg-postgresql",
            c("managed-by-pulumi-helm", None),
        ),
        (
            "StatefulSet data/pg-postgresql",
            c("managed-by-pulumi-helm", None),
        ),
        (
            "ConfigMap default/kube-root-ca.crt",
            c("excluded", Some("root-ca")),
        ),
        (
            "Endpoints default/kubernetes",
            c("excluded", Some("api-service")),
        ),
        (
            "Service default/kubernetes",
            c("excluded", Some("api-service")),
        ),
        (
            "ServiceAccount default/default",
            c("excluded", Some("default-sa")),
        ),
        ("Lease kube-node-lease/node-1", c("excluded", Some("owned"))),
        (
            "ConfigMap kube-system/coredns",
            c("excluded", Some("system-namespace")),
        ),
        (
            "Pod kube-system/coredns-5d78c9869d-abcde",
            c("excluded", Some("owned")),
        ),
        (
            "ConfigMap monitoring/prometheus-server",
            c("managed-elsewhere", Some("helm")),
        ),
        (
            "Deployment monitoring/prometheus-server",
            c("managed-elsewhere", Some("helm")),
        ),
        (
            "ReplicaSet monitoring/prometheus-server-6f7b8c9d",
            c("excluded", Some("owned")),
        ),
        (
            "Secret monitoring/sh.helm.release.v1.prometheus.v3",
            c("excluded", Some("helm-release-secret")),
        ),
        (
            "ServiceAccount monitoring/default",
            c("excluded", Some("default-sa")),
        ),
        ("ConfigMap shop/app-config", c("managed", None)),
        ("ConfigMap shop/feature-flags", c("candidate", None)),
        (
            "ConfigMap shop/flux-settings",
            c("managed-elsewhere", Some("flux")),
        ),
        (
            "ConfigMap shop/kube-root-ca.crt",
            c("excluded", Some("root-ca")),
        ),
        ("ConfigMap shop/removed", c("missing", None)),
        (
            "ConfigMap shop/settings-a1b2c3d4",
            c("managed-elsewhere", Some("pulumi")),
        ),
        ("ConfigMap shop/web-config", c("candidate", None)),
        (
            "Deployment shop/cart",
            c("managed-elsewhere", Some("argocd")),
        ),
        ("Deployment shop/legacy-api", c("managed", None)),
        ("Deployment shop/web", c("candidate", None)),
        ("Deployment shop/worker", c("partially-managed", None)),
        (
            "EndpointSlice shop/legacy-mirror-b7x9",
            c("excluded", Some("endpointslice")),
        ),
        ("EndpointSlice shop/web-8fk2l", c("excluded", Some("owned"))),
        ("Endpoints shop/web", c("excluded", Some("endpoints"))),
        (
            "Event shop/web-7c9d8f6b5-x2x4q.17f3a2b1c0d9e8f7",
            c("excluded", Some("event")),
        ),
        (
            "Event shop/web.17f3a2b1c0d9e900",
            c("excluded", Some("event")),
        ),
        ("HorizontalPodAutoscaler shop/web", c("candidate", None)),
        ("Ingress shop/web", c("candidate", None)),
        (
            "Lease shop/shop-operator-lock",
            c("excluded", Some("lease")),
        ),
        ("PersistentVolumeClaim shop/uploads", c("candidate", None)),
        ("Pod shop/web-7c9d8f6b5-x2x4q", c("excluded", Some("owned"))),
        (
            "ReplicaSet shop/web-7c9d8f6b5",
            c("excluded", Some("owned")),
        ),
        ("Secret shop/db-credentials", c("candidate", None)),
        (
            "Secret shop/default-token-x7k2p",
            c("excluded", Some("sa-token")),
        ),
        ("Service shop/web", c("candidate", None)),
        (
            "ServiceAccount shop/default",
            c("excluded", Some("default-sa")),
        ),
        ("ServiceAccount shop/web", c("candidate", None)),
        ("Widget shop/w1", c("candidate", None)),
    ])
}

fn classes(report: &Value) -> BTreeMap<String, (String, Option<String>)> {
    report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                label(o),
                (
                    o["class"].as_str().unwrap().to_owned(),
                    o["rule"].as_str().map(str::to_owned),
                ),
            )
        })
        .collect()
}

#[test]
fn kubectl_dump_exclusions_and_managed_elsewhere_with_reasons() {
    let repo = repo("prod");
    let report = cluster_run(&repo, &["--import-dir", "imports"]);
    let expected: BTreeMap<String, (String, Option<String>)> = cluster_expected()
        .into_iter()
        .map(|(k, (c, r))| (k.to_owned(), (c.to_owned(), r.map(str::to_owned))))
        .collect();
    assert_eq!(classes(&report), expected);
    assert_eq!(report["summary"]["objects"], 60);

    let reason = |l: &str| object(&report, l)["reason"].as_str().unwrap().to_owned();
    let evidence = |l: &str| object(&report, l)["evidence"].clone();
    for (l, want) in [
        (
            "ReplicaSet shop/web-7c9d8f6b5",
            "owned by Deployment web (controller ownerReference): adopt the owner, never the dependent",
        ),
        (
            "Pod shop/web-7c9d8f6b5-x2x4q",
            "owned by ReplicaSet web-7c9d8f6b5",
        ),
        ("EndpointSlice shop/web-8fk2l", "owned by Service web"),
        (
            "ConfigMap shop/kube-root-ca.crt",
            "published in every namespace by kube-controller-manager",
        ),
        ("ServiceAccount shop/default", "created in every namespace"),
        (
            "Secret shop/default-token-x7k2p",
            "type kubernetes.io/service-account-token",
        ),
        ("Service default/kubernetes", "the API server's endpoint"),
        (
            "Endpoints shop/web",
            "written by the endpoints controller for Service shop/web",
        ),
        (
            "EndpointSlice shop/legacy-mirror-b7x9",
            "written by endpointslicemirroring-controller.k8s.io",
        ),
        ("Event shop/web.17f3a2b1c0d9e900", "Events are ephemeral"),
        ("Lease shop/shop-operator-lock", "leader election"),
        (
            "ConfigMap kube-system/coredns",
            "in the system namespace kube-system",
        ),
        (
            "ClusterRole cluster-admin",
            "kubernetes.io/bootstrapping=rbac-defaults",
        ),
        (
            "StorageClass standard",
            "addonmanager.kubernetes.io/mode=EnsureExists",
        ),
        (
            "Secret monitoring/sh.helm.release.v1.prometheus.v3",
            "Helm's record of release prometheus",
        ),
        (
            "PersistentVolumeClaim data/data-pg-postgresql-0",
            "created by StatefulSet pg-postgresql from its volumeClaimTemplate data",
        ),
        (
            "Deployment monitoring/prometheus-server",
            "installed by the Helm release monitoring/prometheus",
        ),
        (
            "Deployment shop/cart",
            "synced by the Argo CD application shop-cart",
        ),
        (
            "ConfigMap shop/flux-settings",
            "applied by the Flux Kustomization flux-system/apps",
        ),
        (
            "ConfigMap shop/settings-a1b2c3d4",
            "carries Pulumi markers but is not in this stack's state",
        ),
        (
            "StatefulSet data/pg-postgresql",
            "installed by the Pulumi Helm Release data/pg (urn:pulumi:prod::platform::kubernetes:helm.sh/v3:Release::pg)",
        ),
        (
            "Secret data/sh.helm.release.v1.pg.v1",
            "Pulumi Helm Release data/pg",
        ),
        (
            "ConfigMap shop/app-config",
            "kubernetes:core/v1:ConfigMap::legacy-config; matched by metadata.uid",
        ),
        ("Namespace monitoring", "matched by metadata.uid"),
        (
            "Deployment shop/legacy-api",
            "matched by kind, namespace and name; the state has extensions/v1beta1, the inventory apps/v1",
        ),
        ("Deployment shop/worker", "DeploymentPatch::worker-replicas"),
    ] {
        let r = reason(l);
        assert!(r.contains(want), "{l}: {r:?} lacks {want:?}");
    }
    assert_eq!(
        evidence("Deployment monitoring/prometheus-server"),
        json!([
            "label app.kubernetes.io/managed-by=Helm",
            "annotation meta.helm.sh/release-name=prometheus",
            "annotation meta.helm.sh/release-namespace=monitoring",
            "field manager helm"
        ])
    );
    assert_eq!(
        evidence("ConfigMap shop/settings-a1b2c3d4"),
        json!([
            "label app.kubernetes.io/managed-by=pulumi",
            "annotation pulumi.com/autonamed=true",
            "field manager pulumi-kubernetes-7f3a9c2e"
        ])
    );
    assert_eq!(
        evidence("Deployment shop/web"),
        json!([
            "annotation kubectl.kubernetes.io/last-applied-configuration",
            "field manager kubectl-client-side-apply"
        ])
    );
    assert_eq!(
        evidence("ConfigMap shop/app-config"),
        json!(["protect", "retainOnDelete"])
    );

    // Exclusion groups, largest first.
    let groups: Vec<(String, u64)> = report["exclusions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["rule"].as_str().unwrap().to_owned(),
                g["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(groups[0], ("owned".to_owned(), 8));
    assert_eq!(groups.iter().map(|g| g.1).sum::<u64>(), 32);

    // Waves: leaf, stateless, Secret, stateful; the CRD before its custom resource.
    assert_eq!(
        wave_labels(&report),
        vec![
            vec![
                "Namespace data",
                "Namespace shop",
                "ServiceAccount shop/web",
                "ConfigMap shop/feature-flags",
                "ConfigMap shop/web-config",
                "Service shop/web"
            ],
            vec![
                "Deployment shop/web",
                "Ingress shop/web",
                "HorizontalPodAutoscaler shop/web"
            ],
            vec!["Secret shop/db-credentials"],
            vec![
                "PersistentVolumeClaim shop/uploads",
                "CustomResourceDefinition widgets.example.com",
                "ClusterRole shop-reader",
                "ClusterRoleBinding shop-reader",
                "Widget shop/w1"
            ],
        ]
    );
    let waves = report["waves"].as_array().unwrap();
    assert!(
        waves[2]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("stored in the stack's state")
    );
    assert_eq!(waves[3]["retainOnDelete"], true);
    assert!(
        waves[3]["command"]
            .as_str()
            .unwrap()
            .ends_with(" --protect")
    );
    assert!(
        waves[3]["warnings"]
            .to_string()
            .contains("pulumi-kubernetes#1506")
    );
    let web = reason("Deployment shop/web");
    assert!(
        web.contains("names Secret shop/db-credentials, adopted later in wave 3"),
        "{web}"
    );
    assert!(
        reason("Ingress shop/web")
            .contains("names Secret shop/web-tls (tls), which is not in the inventory")
    );
    assert!(
        reason("Widget shop/w1")
            .contains(", CustomResourceDefinition widgets.example.com (wave 4)")
    );
    // The state reads another object as `shop-feature-flags`: the import name steps aside.
    assert_eq!(
        report["waves"][0]["resources"][3]["importName"],
        "shop-feature-flags-configmap"
    );
    assert_eq!(report["coverage"]["overall"], json!(0.3182));
    assert_eq!(
        report["provider"],
        json!({"name": "k8s-prod", "urn": "urn:pulumi:prod::platform::pulumi:providers:kubernetes::k8s-prod"})
    );
    assert_import_dir_valid(
        &repo.path().join("imports"),
        &report,
        &cr_scopes(),
        &state_names(&fixture("cluster/state.json")),
    );
}

#[test]
fn the_ignore_file_adds_exclusions_and_brings_back_defaults() {
    let repo = repo("prod");
    repo.write(
        ".stackwire/adopt-ignore",
        "# objects we keep out of Pulumi\nConfigMap/shop/feature-*\n!configmap/*/kube-root-ca.crt\nmonitoring\nCustomResourceDefinition/\n",
    );
    let report = cluster_run(&repo, &[]);
    let mut expected = cluster_expected();
    let ignored = ("excluded", Some("ignore-file"));
    expected.insert("ConfigMap shop/feature-flags", ignored);
    expected.insert("CustomResourceDefinition widgets.example.com", ignored);
    for l in [
        "ConfigMap monitoring/prometheus-server",
        "Deployment monitoring/prometheus-server",
        "ReplicaSet monitoring/prometheus-server-6f7b8c9d",
        "Secret monitoring/sh.helm.release.v1.prometheus.v3",
        "ServiceAccount monitoring/default",
    ] {
        expected.insert(l, ignored);
    }
    // Managed objects stay managed: the file only decides about the rest.
    expected.insert("Namespace monitoring", ("managed", None));
    expected.insert("ConfigMap shop/kube-root-ca.crt", ("candidate", None));
    expected.insert("ConfigMap default/kube-root-ca.crt", ("candidate", None));
    let expected: BTreeMap<String, (String, Option<String>)> = expected
        .into_iter()
        .map(|(k, (c, r))| (k.to_owned(), (c.to_owned(), r.map(str::to_owned))))
        .collect();
    assert_eq!(classes(&report), expected);
    let ff = object(&report, "ConfigMap shop/feature-flags");
    assert!(
        ff["reason"]
            .as_str()
            .unwrap()
            .ends_with("adopt-ignore:2 (`ConfigMap/shop/feature-*`)"),
        "{ff}"
    );
    let ca = object(&report, "ConfigMap shop/kube-root-ca.crt");
    assert!(
        ca["evidence"].to_string().contains("brought back by")
            && ca["evidence"]
                .to_string()
                .contains("despite the default rule"),
        "{ca}"
    );
    // The Widget's CRD is ignored: it is no longer ordered after it.
    let w = object(&report, "Widget shop/w1")["reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!w.contains("CustomResourceDefinition"), "{w}");

    // A broken pattern is a usage error naming the line.
    repo.write(".stackwire/adopt-ignore", "ok\nSecret/[x\n");
    let dump = fixture("cluster/dump.json");
    let state = fixture("cluster/state.json");
    let run = repo
        .run(&["--state", &state, "adopt", "--cluster", &dump])
        .code(2);
    assert!(
        run.stderr
            .contains(".stackwire/adopt-ignore:2: invalid pattern `Secret/[x`"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Folders, YAML, other report formats.

#[test]
fn folders_are_read_recursively_and_references_explain_the_order() {
    let repo = repo("dev");
    let state = fixture("microservices-demo/state.json");
    let website = fixture("k8s-website");
    let report = repo
        .run(&[
            "--state",
            &state,
            "adopt",
            "--cluster",
            &website,
            "--format",
            "json",
            "--import-dir",
            "imports",
        ])
        .ok()
        .json();
    assert_eq!(report["summary"]["objects"], 8);
    assert_eq!(report["sources"].as_array().unwrap().len(), 3);
    assert_eq!(
        wave_labels(&report),
        vec![
            vec!["Service default/wordpress-mysql"],
            vec![
                "Deployment default/wordpress",
                "Deployment default/wordpress-mysql",
                "Service default/wordpress"
            ],
            vec![
                "StorageClass fast",
                "PersistentVolumeClaim default/mysql-pv-claim",
                "PersistentVolumeClaim default/wp-pv-claim",
                "StatefulSet default/cassandra"
            ],
        ]
    );
    let mysql = object(&report, "Deployment default/wordpress-mysql")["reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        mysql.contains("names Secret default/mysql-pass (env), which is not in the inventory")
            && mysql.contains(
                "names PersistentVolumeClaim default/mysql-pv-claim, adopted later in wave 3"
            ),
        "{mysql}"
    );
    let cassandra = object(&report, "StatefulSet default/cassandra")["reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        cassandra.starts_with("wave 3: tier 4")
            && cassandra.contains(
                "names Service default/cassandra (serviceName), which is not in the inventory"
            ),
        "{cassandra}"
    );
    let lb = object(&report, "Service default/wordpress")["reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        lb.contains("after Deployment default/wordpress (wave 2)"),
        "{lb}"
    );
    assert_import_dir_valid(
        &repo.path().join("imports"),
        &report,
        &BTreeMap::new(),
        &state_names(&state),
    );
}

#[test]
fn errors_are_usage_errors_with_the_file() {
    let repo = repo("dev");
    let state = fixture("microservices-demo/state.json");
    let none = repo.run(&["--state", &state, "adopt"]).code(2);
    assert!(
        none.stderr.contains("give --cluster FILE|DIR"),
        "{}",
        none.stderr
    );
    let zero = repo
        .run(&[
            "--state",
            &state,
            "adopt",
            "--cluster",
            "x.yaml",
            "--wave-size",
            "0",
        ])
        .code(2);
    assert!(zero.stderr.contains("--wave-size must be at least 1"));
    let missing = repo
        .run(&["--state", &state, "adopt", "--cluster", "nope.yaml"])
        .code(2);
    assert!(missing.stderr.contains("nope.yaml"), "{}", missing.stderr);
    repo.write(
        "bad.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [unclosed\n",
    );
    let bad = repo
        .run(&["--state", &state, "adopt", "--cluster", "bad.yaml"])
        .code(2);
    assert!(
        bad.stderr.contains("bad.yaml: not valid YAML"),
        "{}",
        bad.stderr
    );
    repo.write("bad.json", "{\"kind\": \"List\", \"items\": [{\"a\": 1},");
    let bad = repo
        .run(&["--state", &state, "adopt", "--cluster", "bad.json"])
        .code(2);
    assert!(
        bad.stderr.contains("bad.json: not valid JSON"),
        "{}",
        bad.stderr
    );
    // In a folder, what does not parse is skipped with a warning.
    repo.write(
        "dir/ok.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n",
    );
    repo.write("dir/sub/template.yaml", "metadata: {{ .Values.name }\n");
    let run = repo
        .run(&[
            "--state",
            &state,
            "adopt",
            "--cluster",
            "dir",
            "--format",
            "json",
        ])
        .ok();
    assert!(
        run.stderr.contains("skipped dir/sub/template.yaml"),
        "{}",
        run.stderr
    );
    assert_eq!(run.json()["summary"]["candidate"], 1);
    let not_state = repo.write("notstate.json", "{\"hello\": 1}");
    let run = repo
        .run(&[
            "--state",
            not_state.to_str().unwrap(),
            "adopt",
            "--cluster",
            "dir/ok.yaml",
        ])
        .code(2);
    assert!(run.stderr.contains("not a Pulumi state"), "{}", run.stderr);
}

// ---------------------------------------------------------------------------------------------
// 4. The HTML page in headless Chromium.

fn chromium() -> PathBuf {
    for name in [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ] {
        for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
            let p = dir.join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "headless Chromium is needed for this test and is not installed: run scripts/test (it installs the Debian package `chromium`)"
    );
}

/// Run Chromium on `page`; its DOM after load and its stderr.
fn render(page: &Path, profile: &Path) -> (String, String) {
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (out.join().unwrap(), err.join().unwrap())
}

#[test]
fn html_report_renders_in_headless_chromium_without_console_errors() {
    let repo = repo("prod");
    let state = fixture("cluster/state.json");
    let dump = fixture("cluster/dump.json");
    repo.run(&[
        "--state",
        &state,
        "adopt",
        "--cluster",
        &dump,
        "--format",
        "html",
        "--out",
        "report.html",
    ])
    .ok();
    let html = repo.read("report.html");
    for external in [
        "src=\"http",
        "href=\"http",
        "src=\"//",
        "@import",
        "url(http",
    ] {
        assert!(
            !html.contains(external),
            "the page must be self-contained: {external}"
        );
    }
    let (dom, stderr) = render(
        &repo.path().join("report.html"),
        &repo.path().join("chromium-profile"),
    );
    let console: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(
        console
            .iter()
            .any(|l| l.contains("\"stackwire-report-ok\"")),
        "the page did not finish building; console:\n{}\nstderr:\n{stderr}",
        console.join("\n")
    );
    let others: Vec<&&str> = console
        .iter()
        .filter(|l| !l.contains("\"stackwire-report-ok\""))
        .collect();
    assert!(
        others.is_empty(),
        "console messages besides the marker:\n{others:#?}"
    );
    assert!(
        dom.contains("data-rendered=\"61\""),
        "all 61 objects: {}",
        &dom[..dom.len().min(400)]
    );
    assert!(dom.contains("Wave 4: tier 4, stateful and cluster-wide objects"));
    assert!(
        dom.contains("aria-label=\"shop: "),
        "the coverage chart has bars"
    );
    assert!(
        dom.contains("<th scope=\"col\"><button type=\"button\">kind</button></th>"),
        "sortable headers"
    );
}

// ---------------------------------------------------------------------------------------------
// `--kubectl`, through a stub kubectl on the child's PATH.

const STUB_KUBECTL: &str = r#"#!/bin/sh
printf '%s\n' "$*" >> "$STUB_LOG"
case "$*" in
  *api-resources*)
    if [ -n "$STUB_FAIL_DISCOVERY" ]; then
      echo 'error: You must be logged in to the server (Unauthorized)' >&2; exit 1
    fi
    printf 'configmaps\nevents\nnamespaces\ndeployments.apps\nevents.events.k8s.io\npods.metrics.k8s.io\n' ;;
  *get*)
    cat "$STUB_DUMP"
    if [ -n "$STUB_FAIL_GET" ]; then
      echo 'Error from server (Forbidden): secrets is forbidden' >&2; exit 1
    fi ;;
esac
"#;

fn with_stub_kubectl(repo: &mut Repo) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let bin = repo.path().join("kbin");
    std::fs::create_dir_all(&bin).unwrap();
    let stub = bin.join("kubectl");
    std::fs::write(&stub, STUB_KUBECTL).unwrap();
    std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut path = bin.into_os_string();
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    repo.set("PATH", path);
    let log = repo.path().join("kubectl.log");
    repo.set("STUB_LOG", log.clone());
    repo.set("STUB_DUMP", fixture("cluster/dump.json"));
    log
}

#[test]
fn kubectl_is_run_for_the_inventory() {
    let mut repo = repo("prod");
    let log = with_stub_kubectl(&mut repo);
    let state = fixture("cluster/state.json");
    let run = repo
        .run(&[
            "--state",
            &state,
            "adopt",
            "--kubectl",
            "--context",
            "prod-eu",
            "--format",
            "json",
        ])
        .ok();
    let calls = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        calls,
        "--context prod-eu api-resources --verbs=list -o name\n\
         --context prod-eu get configmaps,namespaces,deployments.apps -o json --show-managed-fields --all-namespaces\n"
    );
    let report = run.json();
    let expected: BTreeMap<String, (String, Option<String>)> = cluster_expected()
        .into_iter()
        .map(|(k, (c, r))| (k.to_owned(), (c.to_owned(), r.map(str::to_owned))))
        .collect();
    assert_eq!(
        classes(&report),
        expected,
        "the same dump gives the same classes"
    );
    let source = object(&report, "Deployment shop/web")["source"]
        .as_str()
        .unwrap();
    assert_eq!(
        source,
        "kubectl --context prod-eu get --all-namespaces (3 resource types)"
    );

    // --namespace reads one namespace; only its state resources can be missing.
    std::fs::remove_file(&log).unwrap();
    let report = repo
        .run(&[
            "--state",
            &state,
            "adopt",
            "--kubectl",
            "--namespace",
            "data",
            "--format",
            "json",
        ])
        .ok()
        .json();
    let calls = std::fs::read_to_string(&log).unwrap();
    assert!(
        calls.contains("api-resources --verbs=list -o name --namespaced=true\n"),
        "{calls}"
    );
    assert!(
        calls.contains(" -o json --show-managed-fields -n data\n"),
        "{calls}"
    );
    assert_eq!(
        report["summary"]["missing"], 0,
        "shop/removed is outside the namespace read"
    );

    // Failures show the command, the status and kubectl's stderr; exit 3.
    repo.set("STUB_FAIL_DISCOVERY", "1");
    let failed = repo.run(&["--state", &state, "adopt", "--kubectl"]).code(3);
    assert!(
        failed.stderr.contains("process didn't exit successfully: `kubectl api-resources --verbs=list -o name` (exit status: 1)")
            && failed.stderr.contains("You must be logged in to the server"),
        "{}",
        failed.stderr
    );
    repo.set("STUB_FAIL_DISCOVERY", "");
    repo.set("STUB_FAIL_GET", "1");
    let failed = repo.run(&["--state", &state, "adopt", "--kubectl"]).code(3);
    assert!(
        failed.stderr.contains("secrets is forbidden"),
        "{}",
        failed.stderr
    );
    repo.set("STUB_FAIL_GET", "");
    repo.set("PATH", "/nonexistent");
    let failed = repo.run(&["--state", &state, "adopt", "--kubectl"]).code(3);
    assert!(
        failed.stderr.contains("install kubectl"),
        "{}",
        failed.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// The state through the other sources: a DIY backend read directly, and the pulumi binary.

fn diy_repo() -> Repo {
    let repo = repo("dev");
    let export = read_json(Path::new(&fixture("microservices-demo/state.json")));
    let checkpoint = json!({
        "version": 3,
        "checkpoint": {"stack": "organization/shop/dev", "latest": export["deployment"]}
    });
    let file = repo.write("checkpoint.json", &checkpoint.to_string());
    repo.mkstate(
        &json!({"project": "shop", "stack": "dev", "checkpoint_file": file.display().to_string()}),
        "backend",
    );
    repo.write(
        "stacks/dev.yaml",
        "stack: dev\nproject: backend/shop\nbackend: file://backend\n",
    );
    repo
}

#[test]
fn state_from_a_diy_backend_and_through_pulumi() {
    let mut repo = diy_repo();
    let manifests = fixture("microservices-demo/kubernetes-manifests.yaml");
    let args = [
        "adopt",
        "--cluster",
        manifests.as_str(),
        "--namespace",
        "shop",
        "--format",
        "json",
        "--import-dir",
        "imports",
    ];
    let direct = repo.run(&args).ok().json();
    assert_eq!(direct["summary"]["managed"], 5);
    assert_eq!(direct["summary"]["missing"], 1);
    // The project lives elsewhere: the commands say where to run and find the files.
    assert_eq!(
        direct["waves"][0]["command"],
        "pulumi -C backend/shop import --stack dev --file ../../imports/wave-01.json"
    );
    repo.with_standin();
    let log = repo.standin_log();
    let mut via = vec!["--via-cli"];
    via.extend_from_slice(&args);
    let through = repo.run(&via).ok().json();
    assert_eq!(through["summary"], direct["summary"]);
    assert_eq!(through["waves"], direct["waves"]);
    let calls = repo.invocations();
    assert!(
        calls
            .iter()
            .any(|c| c.contains(&"export".to_owned()) && !c.contains(&"--show-secrets".to_owned())),
        "stack export, without decrypting: {calls:?} ({})",
        log.display()
    );
}
