//! `conflicting-deploy`: two or more workflows that deploy the same target on overlapping
//! triggers (event + branches/tags/paths, glob-aware) without a shared `concurrency.group`.
//!
//! A job deploys when it has an `environment:` (other than ones named like `ci`/`test`), or
//! runs `pulumi up`, `stackwire deploy`, `kubectl apply`, `helm upgrade`, ssh/scp/rsync to a
//! host, `terraform apply`, … in its scripts (and the repository scripts they run), or uses a
//! deploy action. Jobs are told apart by environment name, else by stack; a job whose target
//! is unknown overlaps every other. Per `shared/docs/k8s-adoption-and-ci-lint.md` B5,
//! precision first: manual (`workflow_dispatch`) and reusable (`workflow_call`) triggers never
//! overlap.

use super::shell;
use super::variables::working_directory;
use super::workflow::{Job, Trigger, Workflow};
use super::yaml::{Node, Pos};
use super::{Ctx, Finding, Related, Severity, rules};

/// What one workflow deploys and when.
#[derive(Debug)]
pub(crate) struct Summary {
    rel: String,
    triggers: Vec<Trigger>,
    /// The workflow's concurrency group (normalized), when shared across workflows.
    group: Option<String>,
    jobs: Vec<DeployJob>,
}

#[derive(Debug)]
struct DeployJob {
    id: String,
    pos: Pos,
    /// "environment `production`", "runs `pulumi up`".
    signal: String,
    /// `env:<name>` or `stack:<name>`; `None` when unknown.
    targets: Option<Vec<String>>,
    group: Option<String>,
}

/// Environments that do not mean a deploy.
fn non_deploy_environment(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "ci" | "build" | "lint" | "check" | "checks" | "release" | "publish"
    ) || n.starts_with("test")
        || n.starts_with("ci-")
}

/// Actions that deploy.
const DEPLOY_ACTIONS: &[&str] = &[
    "appleboy/ssh-action",
    "appleboy/scp-action",
    "easingthemes/ssh-deploy",
    "burnett01/rsync-deployments",
    "azure/webapps-deploy",
    "azure/k8s-deploy",
    "aws-actions/amazon-ecs-deploy-task-definition",
    "google-github-actions/deploy-cloudrun",
    "google-github-actions/deploy-appengine",
    "cloudflare/wrangler-action",
    "peaceiris/actions-gh-pages",
    "actions/deploy-pages",
    "jamesives/github-pages-deploy-action",
    "amondnet/vercel-action",
    "akhileshns/heroku-deploy",
    "nwtgck/actions-netlify",
];

/// A deploy command in a script: what it does and its stack, when it names one.
fn deploy_command(cmd: &shell::Command) -> Option<(String, Option<String>)> {
    let program = cmd.program();
    let name = cmd.name()?;
    let args: Vec<&str> = program[1..].iter().map(|w| w.text.as_str()).collect();
    let first = |set: &[&str]| {
        args.iter()
            .find(|a| !a.starts_with('-'))
            .is_some_and(|a| set.contains(a))
    };
    let stack = || {
        args.iter().enumerate().find_map(|(k, a)| match *a {
            "-s" | "--stack" => args.get(k + 1).map(|s| (*s).to_owned()),
            _ => a.strip_prefix("--stack=").map(str::to_owned),
        })
    };
    let has_host = || {
        args.iter().any(|a| {
            !a.starts_with('-')
                && a.contains(':')
                && !a.contains("://")
                && !a.starts_with('/')
                && !a.starts_with('.')
        })
    };
    let what = match name {
        "pulumi" if first(&["up", "update", "destroy"]) => "`pulumi up`",
        "stackwire" if args.contains(&"deploy") => "`stackwire deploy`",
        "kubectl" | "oc"
            if first(&[
                "apply", "create", "replace", "patch", "set", "rollout", "delete",
            ]) =>
        {
            "`kubectl apply`"
        }
        "helm" if first(&["upgrade", "install", "rollback", "uninstall"]) => "`helm upgrade`",
        "terraform" | "tofu" if first(&["apply", "destroy"]) => "`terraform apply`",
        "ssh" if args.iter().any(|a| !a.starts_with('-')) => "ssh to a host",
        "scp" if has_host() => "scp to a host",
        "rsync" if has_host() => "rsync to a host",
        "flyctl" | "fly" if first(&["deploy"]) => "`fly deploy`",
        "vercel" if args.contains(&"--prod") || first(&["deploy"]) => "`vercel deploy`",
        "gcloud" if args.contains(&"deploy") => "`gcloud … deploy`",
        "serverless" | "sls" | "cdk" | "firebase" | "netlify" | "kamal" if first(&["deploy"]) => {
            "a deploy command"
        }
        "wrangler" if first(&["deploy", "publish"]) => "`wrangler deploy`",
        "aws" if args.contains(&"update-service") || args.contains(&"update-function-code") => {
            "`aws … update`"
        }
        "ansible-playbook" => "`ansible-playbook`",
        _ => return None,
    };
    let stack = matches!(name, "pulumi" | "stackwire").then(stack).flatten();
    Some((what.to_owned(), stack))
}

/// Normalize a concurrency group; `None` when it is unique to the workflow or run.
fn normalize_group(node: Option<&Node>) -> Option<String> {
    let text = node?.as_str()?;
    let compact: String = text.split_whitespace().collect();
    const UNIQUE: &[&str] = &[
        "github.workflow",
        "github.run_id",
        "github.run_number",
        "github.run_attempt",
        "github.job",
        "github.workflow_ref",
        "github.action",
    ];
    (!UNIQUE.iter().any(|u| compact.contains(u)) && !compact.is_empty()).then_some(compact)
}

/// What a workflow deploys (`None` when nothing).
pub(crate) fn summarize(ctx: &Ctx<'_>, wf: &Workflow) -> Option<Summary> {
    let mut jobs = Vec::new();
    for job in wf.jobs() {
        if let Some(j) = deploy_job(ctx, wf, job) {
            jobs.push(j);
        }
    }
    if jobs.is_empty() {
        return None;
    }
    Some(Summary {
        rel: wf.rel.clone(),
        triggers: wf.triggers(),
        group: normalize_group(wf.concurrency()),
        jobs,
    })
}

fn deploy_job(ctx: &Ctx<'_>, wf: &Workflow, job: Job<'_>) -> Option<DeployJob> {
    let group = normalize_group(job.concurrency());
    if let Some(env) = job.environment() {
        let name = env.as_str().unwrap_or_default();
        if !non_deploy_environment(name) {
            let targets =
                (!name.contains("${{")).then(|| vec![format!("env:{}", name.to_ascii_lowercase())]);
            return Some(DeployJob {
                id: job.id.to_owned(),
                pos: env.pos,
                signal: format!("environment `{name}`"),
                targets,
                group,
            });
        }
    }
    let mut first: Option<(Pos, String)> = None;
    let mut stacks: Vec<String> = Vec::new();
    let mut unknown = false;
    for step in job.steps() {
        if let Some(action) = step.action() {
            let pulumi_up = action == "pulumi/actions"
                && step.with("command").and_then(Node::as_str) == Some("up");
            if pulumi_up || DEPLOY_ACTIONS.contains(&action.as_str()) {
                let what = if pulumi_up {
                    "`pulumi/actions` up".to_owned()
                } else {
                    format!("`{action}`")
                };
                first.get_or_insert((step.node.pos, what));
                match step.with("stack-name").and_then(Node::as_str) {
                    Some(s) if pulumi_up && !s.contains("${{") => stacks.push(format!("stack:{s}")),
                    _ => unknown = true,
                }
            }
        }
        let Some(run) = step.run() else { continue };
        let text = run.text(&wf.src);
        let scan = shell::scan(&text.text);
        let workdir = working_directory(wf, job, step);
        let mut found = |cmd: &shell::Command, pos: Pos| {
            if let Some((what, stack)) = deploy_command(cmd) {
                first.get_or_insert((pos, format!("runs {what}")));
                match stack {
                    Some(s) => stacks.push(format!("stack:{s}")),
                    None => unknown = true,
                }
            }
        };
        for cmd in &scan.commands {
            found(cmd, text.pos(cmd.offset));
            // A repository script it runs (one level).
            if let Some(rel) = script_of(ctx, cmd, workdir.as_deref()) {
                if let Some(inner_text) = ctx.read(&rel) {
                    let inner = shell::scan(&inner_text);
                    for c in &inner.commands {
                        found(c, text.pos(cmd.offset));
                    }
                }
            }
        }
    }
    let (pos, what) = first?;
    Some(DeployJob {
        id: job.id.to_owned(),
        pos,
        signal: what,
        targets: (!unknown).then_some(stacks),
        group,
    })
}

/// The repository shell script a command runs, relative to the root.
fn script_of(ctx: &Ctx<'_>, cmd: &shell::Command, workdir: Option<&str>) -> Option<String> {
    let program = cmd.program();
    let first = program.first()?;
    let word = match shell::basename(&first.text) {
        "bash" | "sh" => program[1..].iter().find(|w| !w.text.starts_with('-'))?,
        _ if first.text.contains('/') => first,
        _ => return None,
    };
    if !word.literal {
        return None;
    }
    let base = match &cmd.cwd {
        shell::Cwd::Rel(r) => shell::join(workdir?, r),
        shell::Cwd::Workspace(w) => w.clone(),
        shell::Cwd::Unknown => return None,
    };
    let rel = shell::normalize(&shell::join(&base, &word.text))?;
    (ctx.is_file(&rel) && (rel.ends_with(".sh") || rel.ends_with(".bash"))).then_some(rel)
}

/// Conflicts across workflows.
pub(crate) fn conflicts(summaries: &[Summary]) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, a) in summaries.iter().enumerate() {
        for ja in &a.jobs {
            let mut partners: Vec<(Related, String)> = Vec::new();
            for (k, b) in summaries.iter().enumerate() {
                if k == i {
                    continue;
                }
                let Some(trigger) = overlapping_trigger(&a.triggers, &b.triggers) else {
                    continue;
                };
                for jb in &b.jobs {
                    if !targets_overlap(&ja.targets, &jb.targets) {
                        continue;
                    }
                    let groups_a = [a.group.as_ref(), ja.group.as_ref()];
                    let groups_b = [b.group.as_ref(), jb.group.as_ref()];
                    let shared = groups_a
                        .iter()
                        .flatten()
                        .any(|g| groups_b.iter().flatten().any(|h| h == g));
                    if shared {
                        continue;
                    }
                    partners.push((
                        Related {
                            file: b.rel.clone(),
                            line: jb.pos.line,
                            column: jb.pos.column,
                            message: format!("job `{}` of {} ({})", jb.id, b.rel, jb.signal),
                        },
                        trigger.clone(),
                    ));
                }
            }
            if partners.is_empty() {
                continue;
            }
            let mut others: Vec<String> = partners
                .iter()
                .take(5)
                .map(|(r, t)| {
                    format!(
                        "{} line {} (job `{}`, {t})",
                        r.file,
                        r.line,
                        r.message.split('`').nth(1).unwrap_or("")
                    )
                })
                .collect();
            if partners.len() > 5 {
                others.push(format!("{} more", partners.len() - 5));
            }
            partners.truncate(20);
            let trigger = &partners[0].1;
            let group_name = match &ja.targets {
                Some(t) if !t.is_empty() => {
                    format!("deploy-{}", t[0].split(':').nth(1).unwrap_or("prod"))
                }
                _ => "deploy-production".to_owned(),
            };
            let mut f = Finding::new(
                rules::CONFLICTING_DEPLOY,
                Severity::Error,
                &a.rel,
                ja.pos.line,
                ja.pos.column,
                format!(
                    "job `{}` deploys ({}) on {trigger}, and so does {}, with no shared `concurrency.group`: \
                     one push runs them at once. Give the deploy jobs the same group, e.g. `concurrency: {{group: {group_name}, cancel-in-progress: false}}`",
                    ja.id,
                    ja.signal,
                    others.join("; ")
                ),
            );
            f.related = partners.into_iter().map(|(r, _)| r).collect();
            out.push(f);
        }
    }
    out
}

fn targets_overlap(a: &Option<Vec<String>>, b: &Option<Vec<String>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.iter().any(|t| b.contains(t)) || a.is_empty() || b.is_empty(),
        _ => true,
    }
}

/// The first pair of triggers that can fire together, described ("push to `main`").
fn overlapping_trigger(a: &[Trigger], b: &[Trigger]) -> Option<String> {
    for ta in a {
        for tb in b {
            if overlap(ta, tb) {
                return Some(describe(ta, tb));
            }
        }
    }
    None
}

fn describe(a: &Trigger, b: &Trigger) -> String {
    let branches = a.branches.as_ref().or(b.branches.as_ref());
    match (a.event.as_str(), branches) {
        ("push", Some(list)) => format!(
            "push to {}",
            list.iter()
                .map(|b| format!("`{b}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        ("push", None) if a.tags.is_some() || b.tags.is_some() => "tag pushes".into(),
        (event, _) => format!("`{event}`"),
    }
}

/// A branch, tag or path filter.
enum Filter<'a> {
    Any,
    Nothing,
    /// Patterns, `!` negations allowed, last match wins.
    Include(&'a [String]),
    Exclude(&'a [String]),
}

fn ref_filter<'a>(
    include: &'a Option<Vec<String>>,
    exclude: &'a Option<Vec<String>>,
    other_kind: bool,
) -> Filter<'a> {
    match (include, exclude) {
        (Some(i), _) => Filter::Include(i),
        (None, Some(e)) => Filter::Exclude(e),
        (None, None) if other_kind => Filter::Nothing,
        (None, None) => Filter::Any,
    }
}

fn overlap(a: &Trigger, b: &Trigger) -> bool {
    if a.event != b.event {
        return false;
    }
    let types = || match (&a.types, &b.types) {
        (Some(x), Some(y)) => x.iter().any(|t| y.contains(t)),
        _ => true,
    };
    let paths = || {
        filters_overlap(
            &ref_filter(&a.paths, &a.paths_ignore, false),
            &ref_filter(&b.paths, &b.paths_ignore, false),
        )
    };
    match a.event.as_str() {
        "workflow_dispatch" | "workflow_call" | "repository_dispatch" => false,
        "schedule" => a.crons.iter().any(|c| b.crons.contains(c)),
        "push" => {
            let a_tags = a.tags.is_some() || a.tags_ignore.is_some();
            let b_tags = b.tags.is_some() || b.tags_ignore.is_some();
            let a_branches = a.branches.is_some() || a.branches_ignore.is_some();
            let b_branches = b.branches.is_some() || b.branches_ignore.is_some();
            let branches = filters_overlap(
                &ref_filter(&a.branches, &a.branches_ignore, a_tags),
                &ref_filter(&b.branches, &b.branches_ignore, b_tags),
            );
            let tags = filters_overlap(
                &ref_filter(&a.tags, &a.tags_ignore, a_branches),
                &ref_filter(&b.tags, &b.tags_ignore, b_branches),
            );
            (branches || tags) && paths()
        }
        "pull_request" | "pull_request_target" => {
            filters_overlap(
                &ref_filter(&a.branches, &a.branches_ignore, false),
                &ref_filter(&b.branches, &b.branches_ignore, false),
            ) && types()
                && paths()
        }
        "workflow_run" => {
            let workflows = match (&a.workflows, &b.workflows) {
                (Some(x), Some(y)) => x.iter().any(|w| y.contains(w)),
                _ => true,
            };
            workflows
                && types()
                && filters_overlap(
                    &ref_filter(&a.branches, &a.branches_ignore, false),
                    &ref_filter(&b.branches, &b.branches_ignore, false),
                )
        }
        _ => types(),
    }
}

fn is_glob(p: &str) -> bool {
    p.contains(['*', '?', '[', '+'])
}

/// Whether `value` passes `filter`.
fn passes(filter: &Filter<'_>, value: &str) -> bool {
    match filter {
        Filter::Any => true,
        Filter::Nothing => false,
        Filter::Include(list) => {
            let mut ok = false;
            for p in *list {
                if let Some(neg) = p.strip_prefix('!') {
                    if glob_match(neg, value) {
                        ok = false;
                    }
                } else if glob_match(p, value) {
                    ok = true;
                }
            }
            ok
        }
        Filter::Exclude(list) => !list.iter().any(|p| glob_match(p, value)),
    }
}

fn filters_overlap(a: &Filter<'_>, b: &Filter<'_>) -> bool {
    match (a, b) {
        (Filter::Nothing, _) | (_, Filter::Nothing) => false,
        (Filter::Any | Filter::Exclude(_), Filter::Any | Filter::Exclude(_)) => true,
        (Filter::Include(list), other) | (other, Filter::Include(list)) => {
            let other_patterns: &[String] = match other {
                Filter::Include(l) => l,
                _ => &[],
            };
            list.iter().filter(|p| !p.starts_with('!')).any(|p| {
                if !is_glob(p) {
                    // A literal: does the other filter let it through?
                    return passes(other, p) && passes(&Filter::Include(list), p);
                }
                match other {
                    Filter::Include(_) => other_patterns
                        .iter()
                        .filter(|q| !q.starts_with('!'))
                        .any(|q| {
                            if is_glob(q) {
                                globs_overlap(p, q)
                            } else {
                                glob_match(p, q) && passes(&Filter::Include(list), q)
                            }
                        }),
                    Filter::Exclude(ex) => !ex.iter().any(|e| e == p),
                    _ => true,
                }
            })
        }
    }
}

/// GitHub filter glob: `*` within a segment, `**` across, `?`, `[…]`.
fn glob_match(pattern: &str, value: &str) -> bool {
    if !is_glob(pattern) {
        return pattern == value;
    }
    globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map(|g| g.compile_matcher().is_match(value))
        .unwrap_or(false)
}

/// Whether two globs can match the same name: their literal prefixes and suffixes agree.
fn globs_overlap(a: &str, b: &str) -> bool {
    let prefix = |p: &str| p[..p.find(['*', '?', '[', '+']).unwrap_or(p.len())].to_owned();
    let suffix = |p: &str| p[p.rfind(['*', '?', ']', '+']).map_or(0, |i| i + 1)..].to_owned();
    let (pa, pb) = (prefix(a), prefix(b));
    let (sa, sb) = (suffix(a), suffix(b));
    (pa.starts_with(&pb) || pb.starts_with(&pa)) && (sa.ends_with(&sb) || sb.ends_with(&sa))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(branches: &[&str]) -> Trigger {
        Trigger {
            event: "push".into(),
            branches: Some(branches.iter().map(|s| (*s).to_owned()).collect()),
            ..Trigger::default()
        }
    }

    #[test]
    fn branch_overlap() {
        assert!(overlap(&push(&["main"]), &push(&["main", "dev"])));
        assert!(!overlap(&push(&["main"]), &push(&["dev"])));
        assert!(overlap(&push(&["release/*"]), &push(&["release/v1"])));
        assert!(overlap(&push(&["release/*"]), &push(&["release/v*"])));
        assert!(!overlap(&push(&["feature/*"]), &push(&["main"])));
        assert!(!overlap(&push(&["main", "!main"]), &push(&["main"])));
        let all = Trigger {
            event: "push".into(),
            ..Trigger::default()
        };
        assert!(overlap(&all, &push(&["main"])));
        let tags = Trigger {
            event: "push".into(),
            tags: Some(vec!["v*".into()]),
            ..Trigger::default()
        };
        assert!(!overlap(&tags, &push(&["main"])));
        let ignore = Trigger {
            event: "push".into(),
            branches_ignore: Some(vec!["main".into()]),
            ..Trigger::default()
        };
        assert!(!overlap(&ignore, &push(&["main"])));
    }

    #[test]
    fn path_overlap() {
        let mut a = push(&["main"]);
        a.paths = Some(vec!["app/**".into()]);
        let mut b = push(&["main"]);
        b.paths = Some(vec!["infra/**".into()]);
        assert!(!overlap(&a, &b));
        b.paths = Some(vec!["**.py".into()]);
        assert!(overlap(&a, &b));
    }

    #[test]
    fn manual_triggers_never_overlap() {
        let d = Trigger {
            event: "workflow_dispatch".into(),
            ..Trigger::default()
        };
        assert!(!overlap(&d, &d.clone()));
    }

    #[test]
    fn groups() {
        let n = crate::lint::yaml::parse(
            "g: ${{ github.workflow }}-${{ github.ref }}\nh: deploy-${{ github.ref }}\n",
        )
        .unwrap();
        assert_eq!(normalize_group(n.get("g")), None);
        assert_eq!(
            normalize_group(n.get("h")).as_deref(),
            Some("deploy-${{github.ref}}")
        );
    }
}
