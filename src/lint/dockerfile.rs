//! `dockerfile-missing` (and `unresolved`): every Dockerfile a workflow builds from must exist.
//!
//! References: `docker/build-push-action` (and `depot/build-push-action`) `context:`/`file:`,
//! `docker/bake-action` and `docker buildx bake` targets (HCL, JSON and compose bake files),
//! `docker build`/`buildx build`/`podman build` in `run:` scripts, and compose `build:` for
//! `docker compose build|up|run|create`. Paths resolve as GitHub and Docker resolve them (see
//! `shared/docs/k8s-adoption-and-ci-lint.md` B4); what cannot be resolved statically is an
//! `unresolved` note, never an error.

use std::collections::BTreeMap;

use super::shell::{self, Cwd, Scan, Word};
use super::variables::working_directory;
use super::workflow::{Job, Step, Workflow, literal};
use super::yaml::{self, Node, Pos, ScalarText};
use super::{Ctx, Finding, Severity, rules};

/// At most this many paths from matrix expansion per reference.
const MAX_EXPANSIONS: usize = 16;

/// Compose file names `docker compose` looks for, in order.
const COMPOSE_DEFAULTS: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];

/// Bake file names `docker buildx bake` reads when none is given.
const BAKE_DEFAULTS: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
    "docker-bake.json",
    "docker-bake.hcl",
    "docker-bake.override.json",
    "docker-bake.override.hcl",
];

/// A path that may hold expressions, resolved.
#[derive(Debug, PartialEq, Eq)]
enum Resolved {
    /// Candidate values (several with a matrix).
    Values(Vec<String>),
    /// Not resolvable: the expression or variable at fault.
    Unresolved(String),
}

/// The job's context for resolving expressions.
struct Resolver<'a> {
    wf: &'a Workflow,
    job: Job<'a>,
    step: Step<'a>,
}

impl Resolver<'_> {
    /// A literal `env.NAME` value visible to the step.
    fn env(&self, name: &str) -> Option<String> {
        let find = |entries: &[(Node, Node)]| {
            entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(name))
                .map(|(_, v)| literal(v).map(str::to_owned))
        };
        find(self.step.env())
            .or_else(|| find(self.job.env()))
            .or_else(|| find(self.wf.env()))?
    }

    /// Substitute `${{ … }}` in `text`.
    fn expressions(&self, text: &str) -> Resolved {
        let mut results = vec![String::new()];
        let mut last = 0;
        for (start, end) in super::expr::blocks(text) {
            let literal_part = &text[last..start];
            for r in &mut results {
                r.push_str(literal_part);
            }
            let inner = text
                .get(start + 3..end.saturating_sub(2).max(start + 3))
                .unwrap_or_default()
                .trim();
            let values: Vec<String> = if inner == "github.workspace" {
                vec![WORKSPACE.to_owned()]
            } else if let Some(name) = inner.strip_prefix("env.") {
                match self.env(name) {
                    Some(v) => vec![v],
                    None => return Resolved::Unresolved(format!("${{{{ {inner} }}}}")),
                }
            } else if let Some(name) = inner.strip_prefix("matrix.") {
                match self.job.matrix_values(name) {
                    Some(v) => v,
                    None => return Resolved::Unresolved(format!("${{{{ {inner} }}}}")),
                }
            } else {
                return Resolved::Unresolved(format!("${{{{ {inner} }}}}"));
            };
            let mut next = Vec::new();
            for r in &results {
                for v in &values {
                    if next.len() < MAX_EXPANSIONS {
                        next.push(format!("{r}{v}"));
                    }
                }
            }
            results = next;
            last = end;
        }
        for r in &mut results {
            r.push_str(&text[last.min(text.len())..]);
        }
        results.sort();
        results.dedup();
        Resolved::Values(results)
    }
}

/// Stands for `$GITHUB_WORKSPACE` in a resolved value.
const WORKSPACE: &str = "\u{0}WORKSPACE\u{0}";

/// A checkout path that could not be resolved (matches no real path).
const UNKNOWN: &str = "\u{0}unknown\u{0}";

/// Where the repository is checked out in the workspace (earlier `actions/checkout` steps).
#[derive(Debug, Default)]
struct Checkouts {
    /// This repository's checkout paths (`""` = the workspace itself).
    own: Vec<String>,
    /// Other repositories' checkout paths.
    others: Vec<String>,
}

impl Checkouts {
    fn before(r: &Resolver<'_>) -> Self {
        let mut out = Self::default();
        for step in r.job.steps().into_iter().take(r.step.index) {
            if step.action().as_deref() != Some("actions/checkout") {
                continue;
            }
            let path = match step.with("path").and_then(Node::as_str) {
                None => String::new(),
                Some(p) => match r.expressions(p) {
                    Resolved::Values(v) if v.len() == 1 => {
                        shell::normalize(&v[0]).unwrap_or_else(|| UNKNOWN.to_owned())
                    }
                    _ => UNKNOWN.to_owned(),
                },
            };
            let own = step
                .with("repository")
                .and_then(Node::as_str)
                .is_none_or(|r| r.contains("github.repository"));
            if own {
                out.own.push(path);
            } else {
                out.others.push(path);
            }
        }
        out
    }

    /// A workspace-relative path as a repository path; `None` when it is outside this
    /// repository's checkout.
    fn to_repo(&self, path: &str) -> Option<String> {
        let under = |prefix: &str| {
            prefix.is_empty() || path == prefix || path.starts_with(&format!("{prefix}/"))
        };
        let strip = |prefix: &str| -> String {
            if prefix.is_empty() {
                path.to_owned()
            } else {
                path[prefix.len()..].trim_start_matches('/').to_owned()
            }
        };
        // The most specific checkout wins.
        let own = self.own.iter().filter(|p| under(p)).max_by_key(|p| p.len());
        let other = self
            .others
            .iter()
            .filter(|p| under(p))
            .max_by_key(|p| p.len());
        match (own, other) {
            (Some(o), Some(x)) if x.len() > o.len() => None,
            (Some(o), _) => Some(strip(o)),
            (None, Some(_)) => None,
            (None, None) if self.own.is_empty() && self.others.is_empty() => Some(path.to_owned()),
            (None, None) => None,
        }
    }
}

/// Paths written by earlier steps' scripts (redirections, `cp`/`mv`/`tee` targets).
fn generated(job: Job<'_>, index: usize, extra: Option<(&Scan, usize)>) -> Vec<String> {
    let mut out = Vec::new();
    let mut add = |scan: &Scan, until: usize| {
        for cmd in scan.commands.iter().filter(|c| c.offset < until) {
            for r in &cmd.redirects {
                if r.op.contains('>') {
                    out.push(shell::basename(&r.target.text).to_owned());
                }
            }
            let program = cmd.program();
            match cmd.name() {
                Some("cp" | "mv" | "ln" | "install") => {
                    if let Some(last) = program.last() {
                        out.push(shell::basename(&last.text).to_owned());
                    }
                }
                Some("tee" | "touch" | "wget" | "curl") => {
                    out.extend(
                        program[1..]
                            .iter()
                            .map(|w| shell::basename(&w.text).to_owned()),
                    );
                }
                _ => {}
            }
        }
    };
    for step in job.steps().into_iter().take(index) {
        if let Some(run) = step.run() {
            let scan = shell::scan(run.as_str().unwrap_or_default());
            add(&scan, usize::MAX);
        }
    }
    if let Some((scan, until)) = extra {
        add(scan, until);
    }
    out
}

/// Check one workflow.
pub(crate) fn check(ctx: &Ctx<'_>, wf: &Workflow, findings: &mut Vec<Finding>) {
    for job in wf.jobs() {
        for step in job.steps() {
            let resolver = Resolver { wf, job, step };
            match step.action().as_deref() {
                Some("docker/build-push-action" | "depot/build-push-action") => {
                    build_push(ctx, &resolver, findings);
                }
                Some("docker/bake-action" | "depot/bake-action") => {
                    bake_action(ctx, &resolver, findings)
                }
                _ => {}
            }
            if let Some(run) = step.run() {
                if !job.on_windows()
                    || step
                        .node
                        .str_of("shell")
                        .is_some_and(|s| s.contains("bash"))
                {
                    run_step(ctx, &resolver, run, findings);
                }
            }
        }
    }
}

/// Where a reference is, for messages: "job `build`, step \"Build\"".
fn site(r: &Resolver<'_>) -> String {
    format!("job `{}`, {}", r.job.id, r.step.label())
}

fn unresolved(file: &str, pos: Pos, what: &str, expr: &str) -> Finding {
    Finding::new(
        rules::UNRESOLVED,
        Severity::Info,
        file,
        pos.line,
        pos.column,
        format!(
            "{what} uses `{expr}`, which cannot be resolved statically: whether the Dockerfile exists is not checked"
        ),
    )
}

/// The message tail listing existing Dockerfiles, nearest to `wanted` first.
fn existing(ctx: &Ctx<'_>, wanted: &str) -> String {
    let all = ctx.dockerfiles();
    if all.is_empty() {
        return "The repository has no Dockerfile".into();
    }
    let want_name = shell::basename(wanted);
    let want_dir = wanted.rsplit_once('/').map_or("", |(d, _)| d);
    let mut scored: Vec<(f64, &str)> = all
        .iter()
        .map(|p| {
            let name = shell::basename(p);
            let dir = p.rsplit_once('/').map_or("", |(d, _)| d);
            let score =
                strsim::jaro_winkler(&want_name.to_ascii_lowercase(), &name.to_ascii_lowercase())
                    + if dir == want_dir { 0.05 } else { 0.0 };
            (score, p.as_str())
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let shown: Vec<String> = scored
        .iter()
        .take(6)
        .map(|(_, p)| format!("`{p}`"))
        .collect();
    let more = scored.len().saturating_sub(6);
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!(
        "Dockerfiles in the repository (nearest first): {}{tail}",
        shown.join(", ")
    )
}

fn missing(
    ctx: &Ctx<'_>,
    file: &str,
    pos: Pos,
    end: Option<u32>,
    shown: &str,
    detail: &str,
) -> Finding {
    let f = Finding::new(
        rules::DOCKERFILE_MISSING,
        Severity::Error,
        file,
        pos.line,
        pos.column,
        format!(
            "Dockerfile `{shown}` does not exist ({detail}). {}",
            existing(ctx, shown)
        ),
    );
    match end {
        Some(e) => f.until(e),
        None => f,
    }
}

/// A resolved value as a workspace-relative path (`None`: absolute or outside).
fn workspace_path(value: &str, base: &str) -> Option<String> {
    if let Some(rest) = value.strip_prefix(WORKSPACE) {
        return shell::normalize(rest);
    }
    if value.starts_with('/') || value.starts_with('~') {
        return None;
    }
    shell::normalize(&shell::join(base, value))
}

fn is_remote(value: &str) -> bool {
    value.contains("://") || value.starts_with("git@") || value.starts_with("github.com/")
}

fn build_push(ctx: &Ctx<'_>, r: &Resolver<'_>, findings: &mut Vec<Finding>) {
    let rel = &r.wf.rel;
    let context_node = r.step.with("context").or_else(|| r.step.with("path"));
    let file_node = r.step.with("file").or_else(|| r.step.with("dockerfile"));
    let anchor = r.step.node.get("uses").map_or(r.step.node.pos, |n| n.pos);
    let mut pending: Vec<Finding> = Vec::new();
    let mut resolve_into = |node: &Node, what: &str| -> Option<Vec<String>> {
        match r.expressions(node.as_str().unwrap_or_default()) {
            Resolved::Values(v) => Some(v),
            Resolved::Unresolved(e) => {
                pending.push(unresolved(rel, node.pos, what, &e));
                None
            }
        }
    };
    let contexts: Vec<Option<String>> = match context_node {
        None => vec![None],
        Some(n) => match resolve_into(n, "`context:`") {
            Some(v) => v.into_iter().map(Some).collect(),
            None => {
                findings.append(&mut pending);
                return;
            }
        },
    };
    let files: Vec<Option<String>> = match file_node {
        None => vec![None],
        Some(n) => match resolve_into(n, "`file:`") {
            Some(v) => v.into_iter().map(Some).collect(),
            None => {
                findings.append(&mut pending);
                return;
            }
        },
    };
    let checkouts = Checkouts::before(r);
    let made = generated(r.job, r.step.index, None);
    for context in &contexts {
        for file in &files {
            let file = file.as_deref().filter(|f| !f.is_empty());
            if file == Some("-") {
                continue;
            }
            // The Git context (no `context:`, or `{{defaultContext}}[:subdir]`).
            let git_subdir = match context.as_deref() {
                None | Some("") => Some(String::new()),
                Some(c) if c.starts_with("{{defaultContext}}") => Some(
                    c.trim_start_matches("{{defaultContext}}")
                        .trim_start_matches(':')
                        .to_owned(),
                ),
                _ => None,
            };
            let (candidates, shown, detail) = if let Some(sub) = git_subdir {
                let Some(sub) = shell::normalize(&sub) else {
                    continue;
                };
                let path = shell::normalize(&shell::join(&sub, file.unwrap_or("Dockerfile")));
                let Some(path) = path else { continue };
                let detail = format!(
                    "docker/build-push-action in {}, built from the Git context, so only committed files count",
                    site(r)
                );
                (vec![path.clone()], path, detail)
            } else {
                let c = context.as_deref().unwrap_or_default();
                if is_remote(c) {
                    continue;
                }
                let Some(ctx_dir) = workspace_path(c, "") else {
                    continue;
                };
                let Some(ctx_repo) = checkouts.to_repo(&ctx_dir) else {
                    continue;
                };
                match file {
                    Some(f) => {
                        let mut cands = Vec::new();
                        if let Some(p) = workspace_path(f, "").and_then(|p| checkouts.to_repo(&p)) {
                            cands.push(p);
                        }
                        if !f.starts_with(WORKSPACE) && !f.starts_with('/') {
                            if let Some(p) = shell::normalize(&shell::join(&ctx_repo, f)) {
                                cands.push(p);
                            }
                        }
                        if cands.is_empty() {
                            continue;
                        }
                        let shown = cands[0].clone();
                        (
                            cands,
                            shown,
                            format!(
                                "docker/build-push-action `file:` in {}, relative to the workspace",
                                site(r)
                            ),
                        )
                    }
                    None => {
                        let Some(p) = shell::normalize(&shell::join(&ctx_repo, "Dockerfile"))
                        else {
                            continue;
                        };
                        (
                            vec![p.clone()],
                            p,
                            format!(
                                "docker/build-push-action in {}: without `file:` the Dockerfile is `<context>/Dockerfile`",
                                site(r)
                            ),
                        )
                    }
                }
            };
            if candidates.iter().any(|c| ctx.is_file(c)) {
                continue;
            }
            if !detail.contains("Git context") && made.iter().any(|m| m == shell::basename(&shown))
            {
                continue;
            }
            let node = file_node.or(context_node);
            let (pos, end) = match node {
                Some(n) => (
                    n.pos,
                    Some(n.pos.column + n.as_str().map_or(0, |s| s.chars().count()) as u32),
                ),
                None => (anchor, None),
            };
            findings.push(missing(ctx, rel, pos, end, &shown, &detail));
        }
    }
    findings.append(&mut pending);
}

/// `docker/bake-action`: its files, workdir and targets.
fn bake_action(ctx: &Ctx<'_>, r: &Resolver<'_>, findings: &mut Vec<Finding>) {
    let split = |n: Option<&Node>| -> Vec<String> {
        n.and_then(Node::as_str)
            .map(|s| {
                s.split([',', '\n'])
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let source = r
        .step
        .with("source")
        .and_then(Node::as_str)
        .unwrap_or_default();
    if is_remote(source) || source.contains("${{") {
        return;
    }
    let workdir = match r.step.with("workdir").and_then(Node::as_str) {
        Some(w) if w.contains("${{") => return,
        Some(w) => shell::normalize(w).unwrap_or_default(),
        None => String::new(),
    };
    let files = split(r.step.with("files"));
    if files
        .iter()
        .any(|f| f.contains("${{") || f.starts_with("cwd://") && f.contains('$'))
    {
        return;
    }
    let files: Vec<String> = files
        .iter()
        .map(|f| f.trim_start_matches("cwd://").to_owned())
        .collect();
    let targets = match r.step.with("targets") {
        Some(node) => match r.expressions(node.as_str().unwrap_or_default()) {
            Resolved::Values(values) => values
                .iter()
                .flat_map(|v| {
                    v.split([',', '\n'])
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                })
                .collect(),
            Resolved::Unresolved(e) => {
                findings.push(unresolved(&r.wf.rel, node.pos, "`targets:`", &e));
                return;
            }
        },
        None => Vec::new(),
    };
    let env = |name: &str| r.env(name);
    let detail = format!("docker/bake-action in {}", site(r));
    bake(ctx, &workdir, &files, &targets, &env, &detail, findings);
}

/// One bake target's build inputs.
#[derive(Clone, Debug, Default)]
struct BakeTarget {
    context: Option<(String, Pos, String)>,
    dockerfile: Option<(String, Pos, String)>,
    inherits: Vec<String>,
}

/// Check the targets a bake run builds.
fn bake(
    ctx: &Ctx<'_>,
    workdir: &str,
    files: &[String],
    targets: &[String],
    env: &dyn Fn(&str) -> Option<String>,
    detail: &str,
    findings: &mut Vec<Finding>,
) {
    let files: Vec<String> = if files.is_empty() {
        BAKE_DEFAULTS
            .iter()
            .map(|f| shell::join(workdir, f))
            .filter(|f| ctx.is_file(f))
            .collect()
    } else {
        files
            .iter()
            .filter_map(|f| shell::normalize(&shell::join(workdir, f)))
            .collect()
    };
    let mut all: BTreeMap<String, BakeTarget> = BTreeMap::new();
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in &files {
        let Some(text) = ctx.read(file) else { continue };
        if file.ends_with(".hcl") {
            hcl(&text, file, env, &mut all, &mut groups);
        } else if file.ends_with(".json") {
            bake_json(&text, file, &mut all, &mut groups);
        } else if let Ok(root) = yaml::parse(&text) {
            for (name, service) in compose_services(&root, file) {
                let t = all.entry(name).or_default();
                if service.context.is_some() {
                    t.context = service.context;
                }
                if service.dockerfile.is_some() {
                    t.dockerfile = service.dockerfile;
                }
            }
        }
    }
    // The targets built: those named (groups expanded), else `default`.
    let wanted: Vec<String> = if targets.is_empty() {
        vec!["default".into()]
    } else {
        targets.to_vec()
    };
    let mut chosen: Vec<String> = Vec::new();
    let mut stack = wanted;
    let mut guard = 0;
    while let Some(name) = stack.pop() {
        guard += 1;
        if guard > 1000 {
            break;
        }
        if let Some(members) = groups.get(&name) {
            stack.extend(members.iter().cloned());
        } else if all.contains_key(&name) && !chosen.contains(&name) {
            chosen.push(name);
        }
    }
    if targets.is_empty() && !groups.contains_key("default") && !all.contains_key("default") {
        // Bake builds every target of compose files when no default is named.
        chosen = all.keys().cloned().collect();
    }
    chosen.sort();
    for name in chosen {
        let resolved = resolve_target(&all, &name, 0);
        if resolved.context.is_none() && resolved.dockerfile.is_none() {
            continue;
        }
        let (context, ctx_pos, ctx_file) = resolved
            .context
            .clone()
            .unwrap_or_else(|| (".".into(), Pos::new(1, 1), String::new()));
        if is_remote(&context) || context.starts_with("target:") || context.contains("${") {
            if context.contains("${") {
                findings.push(unresolved(
                    &ctx_file,
                    ctx_pos,
                    &format!("bake target `{name}` context"),
                    &context,
                ));
            }
            continue;
        }
        let Some(ctx_dir) = shell::normalize(&shell::join(workdir, &context)) else {
            continue;
        };
        let (dockerfile, pos, file) = resolved
            .dockerfile
            .clone()
            .unwrap_or_else(|| ("Dockerfile".into(), ctx_pos, ctx_file.clone()));
        if dockerfile.contains("${") {
            findings.push(unresolved(
                &file,
                pos,
                &format!("bake target `{name}` dockerfile"),
                &dockerfile,
            ));
            continue;
        }
        if dockerfile.starts_with('/') {
            continue;
        }
        let Some(path) = shell::normalize(&shell::join(&ctx_dir, &dockerfile)) else {
            continue;
        };
        if ctx.is_file(&path) {
            continue;
        }
        let file = if file.is_empty() {
            files.first().cloned().unwrap_or_default()
        } else {
            file
        };
        findings.push(missing(
            ctx,
            &file,
            pos,
            None,
            &path,
            &format!("bake target `{name}`, built by {detail}"),
        ));
    }
}

fn resolve_target(all: &BTreeMap<String, BakeTarget>, name: &str, depth: usize) -> BakeTarget {
    let Some(t) = all.get(name) else {
        return BakeTarget::default();
    };
    let mut out = BakeTarget::default();
    if depth < 16 {
        for parent in &t.inherits {
            let p = resolve_target(all, parent, depth + 1);
            if p.context.is_some() {
                out.context = p.context;
            }
            if p.dockerfile.is_some() {
                out.dockerfile = p.dockerfile;
            }
        }
    }
    if t.context.is_some() {
        out.context = t.context.clone();
    }
    if t.dockerfile.is_some() {
        out.dockerfile = t.dockerfile.clone();
    }
    out
}

/// Read `target "x" { context = "…" dockerfile = "…" inherits = […] }` and `group` blocks
/// from an HCL bake file; `${VAR}` takes `variable` defaults or the step's environment.
fn hcl(
    text: &str,
    file: &str,
    env: &dyn Fn(&str) -> Option<String>,
    targets: &mut BTreeMap<String, BakeTarget>,
    groups: &mut BTreeMap<String, Vec<String>>,
) {
    let map = ScalarText::file(text);
    let mut defaults: BTreeMap<String, String> = BTreeMap::new();
    // (kind, name) of the block at depth 1.
    let mut block: Option<(String, String)> = None;
    let mut depth = 0i32;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let code = strip_hcl_comment(line);
        let trimmed = code.trim();
        if depth == 0 {
            let mut words = trimmed.split_whitespace();
            if let (Some(kind), Some(name)) = (words.next(), words.next()) {
                if matches!(kind, "target" | "group" | "variable") && trimmed.ends_with('{') {
                    block = Some((kind.to_owned(), name.trim_matches('"').to_owned()));
                }
            }
        } else if depth == 1 {
            if let Some((kind, name)) = &block {
                if let Some((key, value)) = trimmed.split_once('=') {
                    let key = key.trim();
                    let value = value.trim();
                    let col = line.find(value).unwrap_or(0);
                    let pos = map.pos(start + col);
                    match (kind.as_str(), key) {
                        ("variable", "default") => {
                            defaults.insert(name.clone(), value.trim_matches('"').to_owned());
                        }
                        ("target", "context" | "dockerfile") if value.starts_with('"') => {
                            let raw = value.trim_end_matches(',').trim_matches('"').to_owned();
                            let v = interpolate(&raw, &defaults, env);
                            let t = targets.entry(name.clone()).or_default();
                            let entry = Some((v, pos, file.to_owned()));
                            if key == "context" {
                                t.context = entry;
                            } else {
                                t.dockerfile = entry;
                            }
                        }
                        ("target", "inherits") => {
                            targets.entry(name.clone()).or_default().inherits = string_list(value);
                        }
                        ("group", "targets") => {
                            groups.insert(name.clone(), string_list(value));
                        }
                        _ => {}
                    }
                }
                if kind == "target" {
                    targets.entry(name.clone()).or_default();
                }
            }
        }
        for c in code.chars() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth <= 0 {
                        depth = 0;
                        block = None;
                    }
                }
                _ => {}
            }
        }
    }
}

fn strip_hcl_comment(line: &str) -> &str {
    let mut in_str = false;
    let b = line.as_bytes();
    for i in 0..b.len() {
        match b[i] {
            b'"' if i == 0 || b[i - 1] != b'\\' => in_str = !in_str,
            b'#' if !in_str => return &line[..i],
            b'/' if !in_str && b.get(i + 1) == Some(&b'/') => return &line[..i],
            _ => {}
        }
    }
    line
}

/// `["a", "b"]` → `[a, b]`.
fn string_list(value: &str) -> Vec<String> {
    value
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// `${VAR}` from the environment or the variable's default; unknown ones are kept.
fn interpolate(
    raw: &str,
    defaults: &BTreeMap<String, String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> String {
    let mut out = String::new();
    let mut rest = raw;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &rest[start + 2..start + end];
        match env(name).or_else(|| defaults.get(name).cloned()) {
            Some(v) if shell::valid_name(name) => out.push_str(&v),
            _ => out.push_str(&rest[start..=start + end]),
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// `{"target": {"x": {"context", "dockerfile", "inherits"}}, "group": {"g": {"targets"}}}`.
fn bake_json(
    text: &str,
    file: &str,
    targets: &mut BTreeMap<String, BakeTarget>,
    groups: &mut BTreeMap<String, Vec<String>>,
) {
    let Ok(root) = yaml::parse(text) else { return };
    for (k, v) in root
        .get("target")
        .and_then(Node::as_map)
        .unwrap_or_default()
    {
        let Some(name) = k.as_str() else { continue };
        let field = |key: &str| {
            v.get(key)
                .and_then(|n| n.as_str().map(|s| (s.to_owned(), n.pos, file.to_owned())))
        };
        targets.insert(
            name.to_owned(),
            BakeTarget {
                context: field("context"),
                dockerfile: field("dockerfile"),
                inherits: v
                    .get("inherits")
                    .map(|n| {
                        n.scalars()
                            .iter()
                            .filter_map(|s| s.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
            },
        );
    }
    for (k, v) in root.get("group").and_then(Node::as_map).unwrap_or_default() {
        if let Some(name) = k.as_str() {
            groups.insert(
                name.to_owned(),
                v.get("targets")
                    .map(|n| {
                        n.scalars()
                            .iter()
                            .filter_map(|s| s.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
            );
        }
    }
}

/// A compose service's `build:`: context and dockerfile with their positions and file.
#[derive(Clone, Debug, Default)]
struct ComposeBuild {
    context: Option<(String, Pos, String)>,
    dockerfile: Option<(String, Pos, String)>,
    /// Where `build:` is written (for a default Dockerfile).
    at: Option<(Pos, String)>,
}

/// Services with a `build:` in a compose file.
fn compose_services(root: &Node, file: &str) -> Vec<(String, ComposeBuild)> {
    let mut out = Vec::new();
    for (k, v) in root
        .get("services")
        .and_then(Node::as_map)
        .unwrap_or_default()
    {
        let (Some(name), Some((bk, build))) = (k.as_str(), v.entry("build")) else {
            continue;
        };
        let mut b = ComposeBuild {
            at: Some((bk.pos, file.to_owned())),
            ..ComposeBuild::default()
        };
        match build.as_str() {
            Some(s) if !build.is_null() => {
                b.context = Some((s.to_owned(), build.pos, file.to_owned()))
            }
            _ => {
                if build.get("dockerfile_inline").is_some() {
                    continue;
                }
                b.context = build
                    .get("context")
                    .and_then(|n| n.as_str().map(|s| (s.to_owned(), n.pos, file.to_owned())));
                b.dockerfile = build
                    .get("dockerfile")
                    .and_then(|n| n.as_str().map(|s| (s.to_owned(), n.pos, file.to_owned())));
            }
        }
        out.push((name.to_owned(), b));
    }
    out
}

/// `run:` scripts: `docker build`, `docker buildx bake`, `docker compose`.
fn run_step(ctx: &Ctx<'_>, r: &Resolver<'_>, run: &Node, findings: &mut Vec<Finding>) {
    let text = run.text(&r.wf.src);
    if !text.text.contains("build") && !text.text.contains("compose") && !text.text.contains("bake")
    {
        return;
    }
    let scan = shell::scan(&text.text);
    let workdir = working_directory(r.wf, r.job, r.step);
    for cmd in &scan.commands {
        let program = cmd.program();
        let Some(name) = cmd.name() else { continue };
        let args: Vec<&Word> = program[1..].iter().collect();
        let cwd = match (&cmd.cwd, &workdir) {
            (Cwd::Rel(rel), Some(w)) => shell::normalize(&shell::join(w, rel)),
            (Cwd::Workspace(w), _) => Some(w.clone()),
            _ => None,
        };
        let lookup = |n: &str| -> Option<String> {
            scan.value_before(n, cmd.offset)
                .map(str::to_owned)
                .or_else(|| r.env(n))
                .or_else(|| (n == "GITHUB_WORKSPACE").then(|| WORKSPACE.to_owned()))
        };
        match name {
            "docker" | "podman" => {
                let (sub, rest) = subcommand(&args);
                match sub.as_slice() {
                    ["build"]
                    | ["buildx", "build"]
                    | ["buildx", "b"]
                    | ["image", "build"]
                    | ["builder", "build"] => {
                        docker_build(
                            ctx,
                            r,
                            &text,
                            &scan,
                            cmd.offset,
                            rest,
                            cwd.as_deref(),
                            &lookup,
                            findings,
                        );
                    }
                    ["buildx", "bake"] => {
                        let (files, targets) = bake_args(rest);
                        if let Some(cwd) = &cwd {
                            let detail = format!("`docker buildx bake` in {}", site(r));
                            bake(ctx, cwd, &files, &targets, &|n| r.env(n), &detail, findings);
                        }
                    }
                    ["compose", ..] => {
                        compose(ctx, r, rest, cwd.as_deref(), &lookup, findings);
                    }
                    _ => {}
                }
            }
            "docker-compose" | "podman-compose" => {
                compose(ctx, r, &args, cwd.as_deref(), &lookup, findings);
            }
            _ => {}
        }
    }
}

/// `docker [global options] a b …`: the leading subcommand words and the words after them.
fn subcommand<'a>(args: &'a [&'a Word]) -> (Vec<&'a str>, &'a [&'a Word]) {
    let mut k = 0;
    while let Some(w) = args.get(k) {
        let t = w.text.as_str();
        if matches!(
            t,
            "--context" | "-c" | "-H" | "--host" | "--config" | "-l" | "--log-level"
        ) {
            k += 2;
        } else if t.starts_with('-') {
            k += 1;
        } else {
            break;
        }
    }
    let mut sub = Vec::new();
    while let Some(w) = args.get(k) {
        let t = w.text.as_str();
        if t.starts_with('-') || sub.len() >= 2 {
            break;
        }
        sub.push(t);
        k += 1;
        if !matches!(t, "buildx" | "image" | "builder" | "compose") {
            break;
        }
    }
    (sub, args.get(k..).unwrap_or_default())
}

/// Options of `docker build` that take a value.
const BUILD_VALUE_OPTIONS: &[&str] = &[
    "-t",
    "--tag",
    "--build-arg",
    "--target",
    "--platform",
    "-o",
    "--output",
    "--cache-from",
    "--cache-to",
    "--label",
    "--secret",
    "--ssh",
    "--network",
    "--progress",
    "--build-context",
    "--add-host",
    "--iidfile",
    "--metadata-file",
    "--shm-size",
    "--ulimit",
    "--cgroup-parent",
    "--isolation",
    "-m",
    "--memory",
    "--memory-swap",
    "--cpu-shares",
    "-c",
    "--cpu-period",
    "--cpu-quota",
    "--cpuset-cpus",
    "--cpuset-mems",
    "--allow",
    "--attest",
    "--builder",
    "--annotation",
    "--call",
    "--no-cache-filter",
    "--security-opt",
    "--policy",
    "--format",
    "--iidfile",
    "--jobs",
    "--layers",
    "--volume",
    "-v",
    "--creds",
    "--authfile",
    "--arch",
    "--os",
];

#[allow(clippy::too_many_arguments)]
fn docker_build(
    ctx: &Ctx<'_>,
    r: &Resolver<'_>,
    text: &ScalarText,
    scan: &Scan,
    offset: usize,
    args: &[&Word],
    cwd: Option<&str>,
    lookup: &dyn Fn(&str) -> Option<String>,
    findings: &mut Vec<Finding>,
) {
    let rel = &r.wf.rel;
    let mut file: Option<(&Word, String)> = None;
    let mut context: Option<&Word> = None;
    let mut k = 0;
    while let Some(w) = args.get(k) {
        let t = w.text.as_str();
        if t == "-f" || t == "--file" {
            if let Some(v) = args.get(k + 1) {
                file = Some((v, v.text.clone()));
            }
            k += 2;
            continue;
        }
        if let Some(v) = t.strip_prefix("--file=").or_else(|| t.strip_prefix("-f=")) {
            file = Some((w, v.to_owned()));
        } else if t.starts_with("-f") && t.len() > 2 && !t.starts_with("--") {
            file = Some((w, t[2..].to_owned()));
        } else if BUILD_VALUE_OPTIONS.contains(&t) {
            k += 2;
            continue;
        } else if !t.starts_with('-') && context.is_none() {
            context = Some(w);
        }
        k += 1;
    }
    let Some(context_word) = context else { return };
    let pos_of = |w: &Word| (text.pos(w.start), text.pos(w.end).column);
    let expand = |w: &Word, value: &str| -> Result<Vec<String>, Finding> {
        let (pos, _) = pos_of(w);
        let value = shell::expand(value, lookup)
            .map_err(|name| unresolved(rel, pos, "`docker build`", &format!("${name}")))?;
        match r.expressions(&value) {
            Resolved::Values(v) => Ok(v),
            Resolved::Unresolved(e) => Err(unresolved(rel, pos, "`docker build`", &e)),
        }
    };
    let contexts = match expand(context_word, &context_word.text) {
        Ok(v) => v,
        Err(f) => return findings.push(f),
    };
    let files: Vec<Option<String>> = match &file {
        Some((w, v)) => match expand(w, v) {
            Ok(v) => v.into_iter().map(Some).collect(),
            Err(f) => return findings.push(f),
        },
        None => vec![None],
    };
    let Some(cwd) = cwd else {
        let (pos, _) = pos_of(file.as_ref().map_or(context_word, |(w, _)| w));
        findings.push(Finding::new(
            rules::UNRESOLVED,
            Severity::Info,
            rel,
            pos.line,
            pos.column,
            "`docker build` runs in a directory computed at run time (a `cd` to a variable or an absolute path): whether the Dockerfile exists is not checked".into(),
        ));
        return;
    };
    let checkouts = Checkouts::before(r);
    let mut made = generated(r.job, r.step.index, Some((scan, offset)));
    made.retain(|m| !m.is_empty());
    for c in &contexts {
        if c == "-" || is_remote(c) {
            continue;
        }
        let Some(ctx_ws) = workspace_path(c, cwd) else {
            continue;
        };
        let Some(ctx_repo) = checkouts.to_repo(&ctx_ws) else {
            continue;
        };
        for f in &files {
            let (cands, shown, word) = match f.as_deref() {
                Some("-") => continue,
                Some(f) => {
                    let mut cands = Vec::new();
                    if let Some(p) = workspace_path(f, cwd).and_then(|p| checkouts.to_repo(&p)) {
                        cands.push(p);
                    }
                    if !f.starts_with(WORKSPACE) && !f.starts_with('/') {
                        if let Some(p) = shell::normalize(&shell::join(&ctx_repo, f)) {
                            cands.push(p);
                        }
                    }
                    let Some(first) = cands.first().cloned() else {
                        continue;
                    };
                    (cands, first, file.as_ref().map_or(context_word, |(w, _)| w))
                }
                None => {
                    let Some(p) = shell::normalize(&shell::join(&ctx_repo, "Dockerfile")) else {
                        continue;
                    };
                    (vec![p.clone()], p, context_word)
                }
            };
            if cands.iter().any(|p| ctx.is_file(p))
                || made.iter().any(|m| m == shell::basename(&shown))
            {
                continue;
            }
            let (pos, end) = pos_of(word);
            findings.push(missing(
                ctx,
                rel,
                pos,
                Some(end),
                &shown,
                &format!(
                    "`docker build` in {}, run in `{}`",
                    site(r),
                    if cwd.is_empty() { "." } else { cwd }
                ),
            ));
        }
    }
}

/// `docker buildx bake` arguments: files and targets.
fn bake_args(args: &[&Word]) -> (Vec<String>, Vec<String>) {
    let mut files = Vec::new();
    let mut targets = Vec::new();
    let mut k = 0;
    while let Some(w) = args.get(k) {
        let t = w.text.as_str();
        match t {
            "-f" | "--file" => {
                files.extend(args.get(k + 1).map(|w| w.text.clone()));
                k += 2;
                continue;
            }
            "--set" | "--builder" | "--metadata-file" | "--progress" | "--call" | "--allow" => {
                k += 2;
                continue;
            }
            _ if t.starts_with("--file=") => files.push(t["--file=".len()..].to_owned()),
            _ if t.starts_with('-') => {}
            _ => targets.push(t.to_owned()),
        }
        k += 1;
    }
    (files, targets)
}

/// `docker compose …`: check the compose files' `build:` when the subcommand builds.
fn compose(
    ctx: &Ctx<'_>,
    r: &Resolver<'_>,
    args: &[&Word],
    cwd: Option<&str>,
    lookup: &dyn Fn(&str) -> Option<String>,
    findings: &mut Vec<Finding>,
) {
    let mut files: Vec<String> = Vec::new();
    let mut project_dir: Option<String> = None;
    let mut subcommand = None;
    let mut k = 0;
    while let Some(w) = args.get(k) {
        let t = w.text.as_str();
        match t {
            "-f" | "--file" => {
                if let Some(v) = args.get(k + 1) {
                    match shell::expand(&v.text, lookup) {
                        Ok(v) => files.push(v),
                        Err(_) => return,
                    }
                }
                k += 2;
                continue;
            }
            "--project-directory" => {
                project_dir = args.get(k + 1).map(|v| v.text.clone());
                k += 2;
                continue;
            }
            "-p" | "--project-name" | "--env-file" | "--profile" | "--ansi" | "--progress"
            | "--parallel" => {
                k += 2;
                continue;
            }
            _ if t.starts_with("--file=") => files.push(t["--file=".len()..].to_owned()),
            _ if t.starts_with('-') => {}
            _ => {
                subcommand = Some(t);
                break;
            }
        }
        k += 1;
    }
    if !matches!(subcommand, Some("build" | "up" | "run" | "create")) {
        return;
    }
    let Some(cwd) = cwd else { return };
    if files.iter().any(|f| f.contains("${{") || f.contains('$')) {
        return;
    }
    let checkouts = Checkouts::before(r);
    let files: Vec<String> = if files.is_empty() {
        match COMPOSE_DEFAULTS
            .iter()
            .filter_map(|f| checkouts.to_repo(&shell::join(cwd, f)))
            .find(|f| ctx.is_file(f))
        {
            Some(f) => {
                let mut v = vec![f.clone()];
                let dir = f.rsplit_once('/').map_or("", |(d, _)| d);
                for o in [
                    "compose.override.yaml",
                    "compose.override.yml",
                    "docker-compose.override.yml",
                    "docker-compose.override.yaml",
                ] {
                    let p = shell::join(dir, o);
                    if ctx.is_file(&p) {
                        v.push(p);
                    }
                }
                v
            }
            None => return,
        }
    } else {
        files
            .iter()
            .filter_map(|f| workspace_path(f, cwd).and_then(|p| checkouts.to_repo(&p)))
            .filter(|f| ctx.is_file(f))
            .collect()
    };
    let Some(first) = files.first() else { return };
    let project = match project_dir {
        Some(p) => match workspace_path(&p, cwd).and_then(|p| checkouts.to_repo(&p)) {
            Some(p) => p,
            None => return,
        },
        None => first
            .rsplit_once('/')
            .map_or(String::new(), |(d, _)| d.to_owned()),
    };
    let dotenv = dotenv_values(ctx, &project);
    let env_lookup = |n: &str| -> Option<String> { lookup(n).or_else(|| dotenv.get(n).cloned()) };
    let mut services: BTreeMap<String, ComposeBuild> = BTreeMap::new();
    for file in &files {
        let Some(text) = ctx.read(file) else { continue };
        let Ok(root) = yaml::parse(&text) else {
            continue;
        };
        for (name, b) in compose_services(&root, file) {
            let s = services.entry(name).or_default();
            if b.context.is_some() {
                s.context = b.context;
            }
            if b.dockerfile.is_some() {
                s.dockerfile = b.dockerfile;
            }
            if s.at.is_none() {
                s.at = b.at;
            }
        }
    }
    let detail_run = format!(
        "built by `docker compose {}` in {}",
        subcommand.unwrap_or_default(),
        site(r)
    );
    for (name, b) in services {
        let (context, cpos, cfile) = b.context.clone().unwrap_or_else(|| {
            let (pos, file) = b.at.clone().unwrap_or((Pos::new(1, 1), first.clone()));
            (".".into(), pos, file)
        });
        let context = match compose_interpolate(&context, &env_lookup) {
            Ok(c) => c,
            Err(var) => {
                findings.push(unresolved(
                    &cfile,
                    cpos,
                    &format!("compose service `{name}` build context"),
                    &var,
                ));
                continue;
            }
        };
        if is_remote(&context) || context.starts_with('/') {
            continue;
        }
        let Some(ctx_dir) = shell::normalize(&shell::join(&project, &context)) else {
            continue;
        };
        let (dockerfile, dpos, dfile) = b
            .dockerfile
            .clone()
            .unwrap_or_else(|| ("Dockerfile".into(), cpos, cfile.clone()));
        let dockerfile = match compose_interpolate(&dockerfile, &env_lookup) {
            Ok(d) => d,
            Err(var) => {
                findings.push(unresolved(
                    &dfile,
                    dpos,
                    &format!("compose service `{name}` dockerfile"),
                    &var,
                ));
                continue;
            }
        };
        if dockerfile.starts_with('/') {
            continue;
        }
        let Some(path) = shell::normalize(&shell::join(&ctx_dir, &dockerfile)) else {
            continue;
        };
        if ctx.is_file(&path) {
            continue;
        }
        findings.push(missing(
            ctx,
            &dfile,
            dpos,
            None,
            &path,
            &format!(
                "compose service `{name}`, {detail_run} ({}:{})",
                r.wf.rel, r.step.node.pos.line
            ),
        ));
    }
}

/// Compose `${VAR}`, `${VAR:-default}`, `$VAR` interpolation; `Err(var)` when unknown.
fn compose_interpolate(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(stripped) = after.strip_prefix('$') {
            out.push('$');
            rest = stripped;
            continue;
        }
        if let Some(inner) = after.strip_prefix('{') {
            let Some(end) = inner.find('}') else {
                return Err(text.to_owned());
            };
            let body = &inner[..end];
            let (name, default) = match body.find([':', '-', '?', '+']) {
                Some(i) => {
                    let op_len = if body[i..].starts_with(":-")
                        || body[i..].starts_with(":?")
                        || body[i..].starts_with(":+")
                    {
                        2
                    } else {
                        1
                    };
                    (
                        &body[..i],
                        Some((&body[i..i + op_len], &body[i + op_len..])),
                    )
                }
                None => (body, None),
            };
            let value = lookup(name);
            match (value, default) {
                (Some(_), Some((op, alt))) if op.contains('+') => out.push_str(alt),
                (Some(v), _) if !v.is_empty() => out.push_str(&v),
                (_, Some((op, d))) if op.contains('-') => out.push_str(d),
                (Some(v), _) => out.push_str(&v),
                _ => return Err(format!("${{{body}}}")),
            }
            rest = &inner[end + 1..];
        } else {
            let len = after
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                .count();
            if len == 0 {
                out.push('$');
                rest = after;
                continue;
            }
            let name = &after[..len];
            out.push_str(&lookup(name).ok_or_else(|| format!("${name}"))?);
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// `NAME=value` lines of `<project>/.env` (compose reads it for interpolation).
fn dotenv_values(ctx: &Ctx<'_>, project: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(text) = ctx.read(&shell::join(project, ".env")) {
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('#') {
                continue;
            }
            if let Some((k, v)) = line.split_once('=') {
                out.insert(
                    k.trim().trim_start_matches("export ").to_owned(),
                    v.trim().trim_matches(['"', '\'']).to_owned(),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::is_dockerfile_name;
    use super::*;

    #[test]
    fn checkouts_map_paths() {
        let c = Checkouts {
            own: vec!["src".into()],
            others: vec!["tools".into()],
        };
        assert_eq!(
            c.to_repo("src/app/Dockerfile").as_deref(),
            Some("app/Dockerfile")
        );
        assert_eq!(c.to_repo("tools/Dockerfile"), None);
        assert_eq!(c.to_repo("elsewhere"), None);
        let none = Checkouts::default();
        assert_eq!(none.to_repo("a/b").as_deref(), Some("a/b"));
    }

    #[test]
    fn compose_interpolation() {
        let look = |n: &str| (n == "DIR").then(|| "app".to_owned());
        assert_eq!(compose_interpolate("${DIR}/x", &look).unwrap(), "app/x");
        assert_eq!(compose_interpolate("${NOPE:-d}/x", &look).unwrap(), "d/x");
        assert_eq!(compose_interpolate("$$x", &look).unwrap(), "$x");
        assert!(compose_interpolate("${NOPE}", &look).is_err());
    }

    #[test]
    fn hcl_targets() {
        let text = "variable \"DIR\" {\n  default = \"images\"\n}\n# c\ntarget \"a\" {\n  context = \"${DIR}/a\"\n  args = {\n    X = \"1\"\n  }\n}\ntarget \"b\" {\n  inherits = [\"a\"]\n  dockerfile = \"Containerfile\" // c\n}\ngroup \"default\" {\n  targets = [\"b\"]\n}\n";
        let mut targets = BTreeMap::new();
        let mut groups = BTreeMap::new();
        hcl(
            text,
            "docker-bake.hcl",
            &|_| None,
            &mut targets,
            &mut groups,
        );
        let b = resolve_target(&targets, "b", 0);
        assert_eq!(b.context.as_ref().unwrap().0, "images/a");
        assert_eq!(b.dockerfile.as_ref().unwrap().0, "Containerfile");
        assert_eq!(b.dockerfile.as_ref().unwrap().1, Pos::new(13, 16));
        assert_eq!(groups["default"], ["b"]);
    }

    #[test]
    fn dockerfile_names() {
        assert!(is_dockerfile_name("Dockerfile.uv"));
        assert!(is_dockerfile_name("prod.Dockerfile"));
        assert!(is_dockerfile_name("Containerfile"));
        assert!(!is_dockerfile_name("docker-compose.yml"));
    }
}
