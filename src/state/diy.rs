//! Locating and reading stacks in a local DIY (`file://`) backend, as `pkg/backend/diy` lays them out.
//!
//! Project layout (`.pulumi/meta.yaml` `version: 1`): `.pulumi/stacks/<project>/<stack>.json[.gz|.zst]`;
//! legacy layout: `.pulumi/stacks/<stack>.json…`. When several compressions of one stack exist the most
//! recently modified wins, as pulumi's `stackPath` does. Files are decompressed by magic bytes with
//! a size cap. Read-only: nothing here writes to the backend.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Largest decompressed state accepted (guards against decompression bombs).
const MAX_STATE_BYTES: u64 = 4 << 30;
/// Compression suffixes after `.json`, in the order a bucket listing returns them (ties go to the later).
const SUFFIXES: [&str; 3] = ["", ".gz", ".zst"];
/// The only organization a DIY backend has.
const ORGANIZATION: &str = "organization";

/// Why a DIY backend or one of its stack files could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DiyError {
    /// The backend URL is not `file://` (`s3://`, `https://`, …).
    #[error(
        "backend URL scheme `{0}://` is not a local file backend; stackwire reads only `file://` backends directly (use the pulumi CLI for others)"
    )]
    NotFile(String),
    /// The `file://` URL cannot be turned into a directory.
    #[error("backend URL `{url}` is not usable: {reason}")]
    BadUrl { url: String, reason: String },
    /// `.pulumi/meta.yaml` is unreadable or malformed.
    #[error("corrupt DIY backend: {}: {reason}", path.display())]
    Meta { path: PathBuf, reason: String },
    /// `.pulumi/meta.yaml` has a layout version stackwire does not know.
    #[error("{} has layout version {version}, newer than stackwire understands (0 or 1); update stackwire", path.display())]
    LayoutTooNew { path: PathBuf, version: i64 },
    /// The stack name is not of the form `<stack>` or `organization/<project>/<stack>`.
    #[error("invalid stack name `{name}`: {reason}")]
    BadStackName { name: String, reason: String },
    /// A short stack name was given but the project is unknown.
    #[error(
        "no Pulumi.yaml project file found; either run this command from a directory containing a Pulumi project, or pass the fully qualified stack name (organization/project/stack)"
    )]
    NeedProject,
    /// No state file exists for the stack.
    #[error("no stack named '{name}' found in {}; {}", looked_in.display(), list_available(available))]
    NoStack {
        name: String,
        looked_in: PathBuf,
        available: Vec<String>,
    },
    /// A directory of the backend cannot be listed.
    #[error("cannot list {}: {source}", path.display())]
    List {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A state file cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A compressed state file is corrupt or truncated.
    #[error("{} is not a valid {format} file (corrupt or truncated): {source}", path.display())]
    Decompress {
        path: PathBuf,
        format: &'static str,
        source: std::io::Error,
    },
    /// A state file decompresses to more than the cap.
    #[error("{} decompresses to more than {limit} bytes; refusing to read it", path.display())]
    TooLarge { path: PathBuf, limit: u64 },
    /// A state file is not UTF-8.
    #[error("{} is not UTF-8 text, so it is not a Pulumi state file", path.display())]
    NotUtf8 { path: PathBuf },
    /// A state file is not a readable checkpoint.
    #[error("{} is not a readable Pulumi checkpoint: {source}", path.display())]
    Corrupt {
        path: PathBuf,
        source: super::StateError,
    },
}

fn list_available(available: &[String]) -> String {
    if available.is_empty() {
        "there are no stacks there".to_owned()
    } else {
        format!("available stacks: {}", available.join(", "))
    }
}

/// How stacks are laid out under `.pulumi/stacks`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Version 1: `.pulumi/stacks/<project>/<stack>.json`.
    Project,
    /// Version 0: `.pulumi/stacks/<stack>.json`, no projects.
    Legacy,
}

/// One stack of the backend, as `pulumi stack ls` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StackSummary {
    /// Short when its project is the one asked about, else `organization/<project>/<stack>`
    /// (legacy layout: always the bare name).
    pub(crate) name: String,
    /// The project, in the project layout.
    pub(crate) project: Option<String>,
    /// The state file read (the newest of its compressions).
    pub(crate) path: PathBuf,
    /// `manifest.time` as UTC `2006-01-02T15:04:05.000Z`; `None` if never deployed.
    pub(crate) last_update: Option<String>,
    /// Number of resources; `None` if never deployed.
    pub(crate) resource_count: Option<usize>,
}

/// A DIY backend rooted at a local directory (the one holding `.pulumi/`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Backend {
    root: PathBuf,
}

impl Backend {
    /// Resolve a `file://` backend URL as pulumi does: `file:///abs`, `file://relative` (against
    /// `base_dir`), `file://~` and `file://~/x` (against `home`); any `?query` is ignored.
    pub(crate) fn from_url(
        url: &str,
        base_dir: &Path,
        home: Option<&Path>,
    ) -> Result<Self, DiyError> {
        let bad = |reason: &str| DiyError::BadUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let Some(rest) = url.strip_prefix("file://") else {
            return match url.split_once("://") {
                Some((scheme, _)) => Err(DiyError::NotFile(scheme.to_owned())),
                None => Err(bad(
                    "it has no scheme; a DIY backend URL looks like `file:///path/to/state`",
                )),
            };
        };
        let path = rest.split_once('?').map_or(rest, |(path, _)| path);
        let root = if path == "~" || path.starts_with("~/") {
            let home = home
                .ok_or_else(|| bad("the home directory is unknown, so `~` cannot be expanded"))?;
            match path.strip_prefix("~/") {
                Some(below) => home.join(below),
                None => home.to_path_buf(),
            }
        } else if path.starts_with('~') {
            return Err(bad(
                "`~user` paths are not supported; use `~` or an absolute path",
            ));
        } else {
            // An absolute path replaces `base_dir`; `file://` alone is `base_dir` itself.
            base_dir.join(path)
        };
        Ok(Self { root })
    }

    /// The directory holding `.pulumi/`.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    fn stacks_dir(&self) -> PathBuf {
        self.root.join(".pulumi").join("stacks")
    }

    /// The layout, from `.pulumi/meta.yaml`; without one, legacy if legacy stack files exist.
    pub(crate) fn layout(&self) -> Result<Layout, DiyError> {
        let path = self.root.join(".pulumi").join("meta.yaml");
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let legacy = !self.stack_files(&self.stacks_dir())?.is_empty();
                return Ok(if legacy {
                    Layout::Legacy
                } else {
                    Layout::Project
                });
            }
            Err(e) => {
                return Err(DiyError::Meta {
                    path,
                    reason: e.to_string(),
                });
            }
        };
        #[derive(serde::Deserialize)]
        struct Meta {
            #[serde(default)]
            version: Option<i64>,
        }
        let meta: Option<Meta> = if text.trim().is_empty() {
            None
        } else {
            serde_saphyr::from_str(&text).map_err(|e| {
                let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
                let message = super::stack_config::yaml_message(&e, line, column);
                DiyError::Meta {
                    path: path.clone(),
                    reason: format!("not valid YAML at line {line}, column {column}: {message}"),
                }
            })?
        };
        match meta.and_then(|m| m.version) {
            None => Err(DiyError::Meta {
                path,
                reason: "missing `version`".into(),
            }),
            Some(0) => Ok(Layout::Legacy),
            Some(1) => Ok(Layout::Project),
            Some(version) => Err(DiyError::LayoutTooNew { path, version }),
        }
    }

    /// The state file of `stack` (`dev` or `organization/<project>/dev`; a project in the name
    /// overrides `project`). Among `.json`, `.json.gz` and `.json.zst` the newest wins.
    pub(crate) fn locate(&self, project: &str, stack: &str) -> Result<PathBuf, DiyError> {
        let (name_project, name) = parse_stack_ref(stack)?;
        let layout = self.layout()?;
        let dir = match layout {
            // Legacy stacks are not project-scoped: `organization/p/dev` can only mean `dev`.
            Layout::Legacy => self.stacks_dir(),
            Layout::Project => {
                let project = name_project.unwrap_or(project);
                if project.is_empty() {
                    return Err(DiyError::NeedProject);
                }
                if !is_name(project) {
                    return Err(DiyError::BadStackName {
                        name: stack.to_owned(),
                        reason: format!(
                            "project name `{project}` may only contain A-Z, a-z, 0-9, `_`, `.` and `-`"
                        ),
                    });
                }
                self.stacks_dir().join(project)
            }
        };
        if let Some(path) = self.newest_variant(&dir, name)? {
            return Ok(path);
        }
        let available = match layout {
            Layout::Legacy => self.stack_files(&dir)?.into_keys().collect(),
            Layout::Project => {
                let here: Vec<String> = self.stack_files(&dir)?.into_keys().collect();
                if here.is_empty() {
                    // Perhaps the project name is wrong: show every stack, qualified.
                    self.all_stack_files(Layout::Project)?
                        .into_iter()
                        .map(|(project, name, _)| display_name(None, project.as_deref(), &name))
                        .collect()
                } else {
                    here
                }
            }
        };
        Err(DiyError::NoStack {
            name: stack.to_owned(),
            looked_in: dir,
            available,
        })
    }

    /// The newest existing `<dir>/<name>.json{,.gz,.zst}`.
    fn newest_variant(&self, dir: &Path, name: &str) -> Result<Option<PathBuf>, DiyError> {
        let mut best: Option<(PathBuf, SystemTime)> = None;
        for suffix in SUFFIXES {
            let path = dir.join(format!("{name}.json{suffix}"));
            let meta = match fs::metadata(&path) {
                Ok(meta) if meta.is_file() => meta,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => return Err(DiyError::Read { path, source }),
            };
            let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            if best.as_ref().is_none_or(|(_, time)| modified >= *time) {
                best = Some((path, modified));
            }
        }
        Ok(best.map(|(path, _)| path))
    }

    /// Stack files directly in `dir`: stack name → newest file. Skips `.bak`, `.pulumi-tags`,
    /// retained checkpoints (`.json.<unixnano>`), folders and names pulumi would not accept.
    fn stack_files(&self, dir: &Path) -> Result<BTreeMap<String, PathBuf>, DiyError> {
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(source) => {
                return Err(DiyError::List {
                    path: dir.to_path_buf(),
                    source,
                });
            }
        };
        let mut newest: BTreeMap<String, (PathBuf, SystemTime, usize)> = BTreeMap::new();
        for entry in entries {
            let entry = entry.map_err(|source| DiyError::List {
                path: dir.to_path_buf(),
                source,
            })?;
            let Ok(file_name) = entry.file_name().into_string() else {
                continue;
            };
            let Some((name, rank)) = stack_file_name(&file_name) else {
                continue;
            };
            let path = entry.path();
            let Ok(meta) = fs::metadata(&path) else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            let replace = newest
                .get(name)
                .is_none_or(|(_, time, r)| (modified, rank) >= (*time, *r));
            if replace {
                newest.insert(name.to_owned(), (path, modified, rank));
            }
        }
        Ok(newest
            .into_iter()
            .map(|(name, (path, _, _))| (name, path))
            .collect())
    }

    /// Every stack file: (project, stack name, path).
    fn all_stack_files(
        &self,
        layout: Layout,
    ) -> Result<Vec<(Option<String>, String, PathBuf)>, DiyError> {
        let stacks = self.stacks_dir();
        match layout {
            Layout::Legacy => Ok(self
                .stack_files(&stacks)?
                .into_iter()
                .map(|(name, path)| (None, name, path))
                .collect()),
            Layout::Project => {
                let entries = match fs::read_dir(&stacks) {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                    Err(source) => {
                        return Err(DiyError::List {
                            path: stacks,
                            source,
                        });
                    }
                };
                let mut projects = Vec::new();
                for entry in entries {
                    let entry = entry.map_err(|source| DiyError::List {
                        path: stacks.clone(),
                        source,
                    })?;
                    let Ok(project) = entry.file_name().into_string() else {
                        continue;
                    };
                    if is_name(&project) && entry.path().is_dir() {
                        projects.push(project);
                    }
                }
                projects.sort();
                let mut out = Vec::new();
                for project in projects {
                    for (name, path) in self.stack_files(&stacks.join(&project))? {
                        out.push((Some(project.clone()), name, path));
                    }
                }
                Ok(out)
            }
        }
    }

    /// Every stack of the backend, sorted by displayed name. Names are short for stacks of
    /// `project`, else `organization/<project>/<stack>`. Reads each state file for its last
    /// update time and resource count; a corrupt file is an error naming it.
    pub(crate) fn list(&self, project: Option<&str>) -> Result<Vec<StackSummary>, DiyError> {
        let layout = self.layout()?;
        let mut out = Vec::new();
        for (stack_project, name, path) in self.all_stack_files(layout)? {
            let text = read_state_text(&path)?;
            let dep = super::parse(&text).map_err(|source| DiyError::Corrupt {
                path: path.clone(),
                source,
            })?;
            // `parse` reports no `latest` as zero resources and no time; a deployed stack has a time
            // (real files) or resources (pulumi's zero-time test data).
            let deployed = dep.time.is_some() || dep.resource_count > 0;
            out.push(StackSummary {
                name: display_name(project, stack_project.as_deref(), &name),
                project: stack_project,
                path,
                last_update: dep.time.as_deref().map(format_utc_millis),
                resource_count: deployed.then_some(dep.resource_count),
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}

/// `organization/<project>/<stack>`, or the bare name for the current project and legacy stacks.
fn display_name(current: Option<&str>, project: Option<&str>, name: &str) -> String {
    match project {
        Some(p) if current != Some(p) => format!("{ORGANIZATION}/{p}/{name}"),
        _ => name.to_owned(),
    }
}

/// Split `stack`, `organization/stack` or `organization/project/stack`.
fn parse_stack_ref(stack: &str) -> Result<(Option<&str>, &str), DiyError> {
    let bad = |reason: String| DiyError::BadStackName {
        name: stack.to_owned(),
        reason,
    };
    let parts: Vec<&str> = stack.split('/').collect();
    let (org, project, name) = match parts.as_slice() {
        [name] => (None, None, *name),
        [org, name] => (Some(*org), None, *name),
        [org, project, name] => (Some(*org), Some(*project), *name),
        _ => {
            return Err(bad(
                "expected `<stack>` or `organization/<project>/<stack>`".into(),
            ));
        }
    };
    if let Some(org) = org.filter(|o| *o != ORGANIZATION) {
        return Err(bad(format!(
            "a DIY backend's only organization is `organization`, not `{org}`; use `organization/<project>/<stack>`"
        )));
    }
    if !is_name(name) || name.len() > 100 {
        return Err(bad(format!(
            "stack name `{name}` must be 1-100 characters of A-Z, a-z, 0-9, `_`, `.` and `-`"
        )));
    }
    Ok((project, name))
}

/// Pulumi's `tokens.IsName` (`[A-Za-z0-9_.-]+`), minus `.` and `..` so no name leaves its folder.
fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// `<name>.json[.gz|.zst]` → (name, rank of the suffix in listing order).
fn stack_file_name(file: &str) -> Option<(&str, usize)> {
    let (base, rank) = if let Some(base) = file.strip_suffix(".zst") {
        (base, 2)
    } else if let Some(base) = file.strip_suffix(".gz") {
        (base, 1)
    } else {
        (file, 0)
    };
    let name = base.strip_suffix(".json")?;
    (is_name(name) && name.len() <= 100).then_some((name, rank))
}

/// Read a state file, decompressing gzip (`1f 8b 08`) or zstd (`28 b5 2f fd`) by magic bytes.
pub(crate) fn read_state_bytes(path: &Path) -> Result<Vec<u8>, DiyError> {
    read_capped(path, MAX_STATE_BYTES)
}

fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, DiyError> {
    let raw = fs::read(path).map_err(|source| DiyError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let decompress = |format: &'static str, reader: Box<dyn std::io::Read + '_>| {
        let mut out = Vec::new();
        reader
            .take(cap + 1)
            .read_to_end(&mut out)
            .map_err(|source| DiyError::Decompress {
                path: path.to_path_buf(),
                format,
                source,
            })?;
        if out.len() as u64 > cap {
            return Err(DiyError::TooLarge {
                path: path.to_path_buf(),
                limit: cap,
            });
        }
        Ok(out)
    };
    if raw.starts_with(&[0x1f, 0x8b, 0x08]) {
        decompress(
            "gzip",
            Box::new(flate2::read::MultiGzDecoder::new(raw.as_slice())),
        )
    } else if raw.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let decoder = zstd::stream::read::Decoder::new(raw.as_slice()).map_err(|source| {
            DiyError::Decompress {
                path: path.to_path_buf(),
                format: "zstd",
                source,
            }
        })?;
        decompress("zstd", Box::new(decoder))
    } else {
        Ok(raw)
    }
}

/// [`read_state_bytes`], checked to be UTF-8 text.
pub(crate) fn read_state_text(path: &Path) -> Result<String, DiyError> {
    String::from_utf8(read_state_bytes(path)?).map_err(|_| DiyError::NotUtf8 {
        path: path.to_path_buf(),
    })
}

/// An RFC 3339 time (Go's `time.Time` JSON) as `pulumi stack ls --json` prints it: UTC with
/// milliseconds truncated, `2006-01-02T15:04:05.000Z`. Unparseable text is returned unchanged.
pub(crate) fn format_utc_millis(time: &str) -> String {
    parse_rfc3339(time).map_or_else(
        || time.to_owned(),
        |(secs, millis)| {
            let days = secs.div_euclid(86_400);
            let rem = secs.rem_euclid(86_400);
            let (y, m, d) = civil_from_days(days);
            format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
                rem / 3600,
                rem / 60 % 60,
                rem % 60
            )
        },
    )
}

/// Seconds since the Unix epoch (UTC) and the truncated milliseconds.
fn parse_rfc3339(s: &str) -> Option<(i64, u32)> {
    let b = s.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(range)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &s[19..];
    let mut millis = 0u32;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let ms = format!("{:0<3}", &frac[..digits.min(3)]);
        millis = ms.parse().ok()?;
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let tz = &rest[1..];
            if tz.len() != 5 || tz.as_bytes()[2] != b':' {
                return None;
            }
            let (h, m): (i64, i64) = (tz[..2].parse().ok()?, tz[3..].parse().ok()?);
            sign * (h * 3600 + m * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    Some((
        days * 86_400 + hour * 3600 + minute * 60 + second - offset,
        millis,
    ))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;
    use std::time::Duration;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/pulumi")
            .join(name)
    }

    fn checkpoint(stack: &str, time: &str, resources: usize) -> String {
        let resources: Vec<String> = (0..resources)
            .map(|i| format!(r#"{{"urn":"urn:pulumi:s::p::t::r{i}","type":"t","custom":true}}"#))
            .collect();
        format!(
            r#"{{"version":3,"checkpoint":{{"stack":"{stack}","latest":{{"manifest":{{"time":"{time}","magic":"","version":"v3.0.0"}},"resources":[{}]}}}}}}"#,
            resources.join(",")
        )
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn zst(data: &[u8]) -> Vec<u8> {
        zstd::stream::encode_all(data, 3).unwrap()
    }

    fn write(path: &Path, data: &[u8], age_secs: u64) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, data).unwrap();
        let when = SystemTime::now() - Duration::from_secs(age_secs);
        fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(when)
            .unwrap();
    }

    #[test]
    fn urls_resolve_like_pulumi() {
        let base = Path::new("/work/proj");
        let home = Path::new("/home/me");
        let root =
            |url: &str| Backend::from_url(url, base, Some(home)).map(|b| b.root().to_path_buf());
        assert_eq!(root("file:///srv/state").unwrap(), Path::new("/srv/state"));
        assert_eq!(
            root("file:///srv/state?no_tmp_dir=true").unwrap(),
            Path::new("/srv/state")
        );
        assert_eq!(
            root("file://state/dir").unwrap(),
            Path::new("/work/proj/state/dir")
        );
        assert_eq!(root("file://~").unwrap(), Path::new("/home/me"));
        assert_eq!(
            root("file://~/pulumi").unwrap(),
            Path::new("/home/me/pulumi")
        );
        assert_eq!(root("file://").unwrap(), Path::new("/work/proj"));
        assert!(matches!(root("s3://bucket/prefix"), Err(DiyError::NotFile(s)) if s == "s3"));
        assert!(
            matches!(root("https://api.pulumi.com"), Err(DiyError::NotFile(s)) if s == "https")
        );
        assert!(matches!(root("/no/scheme"), Err(DiyError::BadUrl { .. })));
        assert!(matches!(
            root("file://~bob/x"),
            Err(DiyError::BadUrl { .. })
        ));
        assert!(matches!(
            Backend::from_url("file://~", base, None),
            Err(DiyError::BadUrl { .. })
        ));
    }

    #[test]
    fn project_layout_locate_and_list() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(&root.join(".pulumi/meta.yaml"), b"version: 1\n", 0);
        let stacks = root.join(".pulumi/stacks");
        write(
            &stacks.join("web/dev.json"),
            checkpoint(
                "organization/web/dev",
                "2024-05-01T12:00:00.123456789+02:00",
                3,
            )
            .as_bytes(),
            10,
        );
        write(
            &stacks.join("web/prod.json"),
            br#"{"version":0,"checkpoint":{"stack":"organization/web/prod"}}"#,
            10,
        );
        write(&stacks.join("web/dev.json.bak"), b"not json", 10);
        write(
            &stacks.join("web/dev.pulumi-tags"),
            br#"{"version":1,"tags":{}}"#,
            10,
        );
        write(
            &stacks.join("web/dev.json.1700000000000000000"),
            b"retained",
            10,
        );
        write(
            &stacks.join("api/dev.json.gz"),
            &gzip(checkpoint("organization/api/dev", "2023-01-02T03:04:05Z", 0).as_bytes()),
            10,
        );
        write(
            &root.join(".pulumi/history/web/dev/dev-1.history.json"),
            b"{}",
            10,
        );
        write(&root.join(".pulumi/backups/web/dev/dev.1.json"), b"{}", 10);
        write(
            &root.join(".pulumi/locks/organization/web/dev/x.json"),
            b"{}",
            10,
        );

        let backend = Backend {
            root: root.to_path_buf(),
        };
        assert_eq!(backend.layout().unwrap(), Layout::Project);
        assert_eq!(
            backend.locate("web", "dev").unwrap(),
            stacks.join("web/dev.json")
        );
        assert_eq!(
            backend.locate("other", "organization/api/dev").unwrap(),
            stacks.join("api/dev.json.gz")
        );
        assert_eq!(
            backend.locate("", "organization/web/prod").unwrap(),
            stacks.join("web/prod.json")
        );
        assert!(matches!(
            backend.locate("", "dev"),
            Err(DiyError::NeedProject)
        ));
        assert!(matches!(
            backend.locate("web", "acme/web/dev"),
            Err(DiyError::BadStackName { .. })
        ));
        assert!(matches!(
            backend.locate("web", "../dev"),
            Err(DiyError::BadStackName { .. })
        ));
        assert!(matches!(
            backend.locate("..", "dev"),
            Err(DiyError::BadStackName { .. })
        ));

        let err = backend.locate("web", "staging").unwrap_err();
        let DiyError::NoStack { ref available, .. } = err else {
            panic!("{err:?}")
        };
        assert_eq!(available, &["dev", "prod"]);
        let msg = err.to_string();
        assert!(
            msg.starts_with("no stack named 'staging' found in "),
            "{msg}"
        );
        assert!(msg.ends_with("available stacks: dev, prod"), "{msg}");
        let err = backend.locate("wbe", "dev").unwrap_err();
        let DiyError::NoStack { available, .. } = err else {
            panic!()
        };
        assert_eq!(
            available,
            [
                "organization/api/dev",
                "organization/web/dev",
                "organization/web/prod"
            ]
        );

        let list = backend.list(Some("web")).unwrap();
        let names: Vec<&str> = list.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["dev", "organization/api/dev", "prod"]);
        assert_eq!(
            list[0].last_update.as_deref(),
            Some("2024-05-01T10:00:00.123Z")
        );
        assert_eq!(list[0].resource_count, Some(3));
        assert_eq!(list[0].project.as_deref(), Some("web"));
        // Deployed, then destroyed: a time and zero resources.
        assert_eq!(
            list[1].last_update.as_deref(),
            Some("2023-01-02T03:04:05.000Z")
        );
        assert_eq!(list[1].resource_count, Some(0));
        // Never deployed.
        assert_eq!(
            (list[2].last_update.as_deref(), list[2].resource_count),
            (None, None)
        );
        let all = backend.list(None).unwrap();
        assert!(all.iter().all(|s| s.name.starts_with("organization/")));
    }

    #[test]
    fn legacy_layout() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let stacks = root.join(".pulumi/stacks");
        write(
            &stacks.join("dev.json"),
            checkpoint("dev", "2024-01-01T00:00:00Z", 1).as_bytes(),
            10,
        );
        write(
            &stacks.join("prod.json.zst"),
            &zst(checkpoint("prod", "2024-01-01T00:00:00Z", 2).as_bytes()),
            10,
        );
        let backend = Backend {
            root: root.to_path_buf(),
        };
        assert_eq!(backend.layout().unwrap(), Layout::Legacy);
        assert_eq!(backend.locate("", "dev").unwrap(), stacks.join("dev.json"));
        assert_eq!(
            backend.locate("p", "organization/p/prod").unwrap(),
            stacks.join("prod.json.zst")
        );
        let list = backend.list(Some("p")).unwrap();
        assert_eq!(
            list.iter()
                .map(|s| (s.name.as_str(), s.project.is_none()))
                .collect::<Vec<_>>(),
            [("dev", true), ("prod", true)]
        );
        assert_eq!(list[1].resource_count, Some(2));

        // An explicit `version: 0` is legacy too; an empty backend is the project layout.
        write(&root.join(".pulumi/meta.yaml"), b"version: 0\n", 0);
        assert_eq!(backend.layout().unwrap(), Layout::Legacy);
        let empty = tempfile::tempdir().unwrap();
        let backend = Backend {
            root: empty.path().to_path_buf(),
        };
        assert_eq!(backend.layout().unwrap(), Layout::Project);
        assert!(backend.list(None).unwrap().is_empty());
    }

    #[test]
    fn bad_meta_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let backend = Backend {
            root: dir.path().to_path_buf(),
        };
        let meta = dir.path().join(".pulumi/meta.yaml");
        for (text, expect) in [
            ("", "missing `version`"),
            ("other: 1\n", "missing `version`"),
            ("version: [\n", "not valid YAML"),
        ] {
            write(&meta, text.as_bytes(), 0);
            let err = backend.layout().unwrap_err();
            assert!(err.to_string().contains(expect), "{text:?}: {err}");
            assert!(err.to_string().contains("meta.yaml"), "{err}");
        }
        write(&meta, b"version: 2\n", 0);
        assert!(matches!(
            backend.layout(),
            Err(DiyError::LayoutTooNew { version: 2, .. })
        ));
    }

    #[test]
    fn newest_compression_wins() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(&root.join(".pulumi/meta.yaml"), b"version: 1\n", 0);
        let base = root.join(".pulumi/stacks/p");
        let plain = checkpoint("organization/p/dev", "2024-01-01T00:00:00Z", 1);
        let gz = checkpoint("organization/p/dev", "2024-01-02T00:00:00Z", 2);
        let zs = checkpoint("organization/p/dev", "2024-01-03T00:00:00Z", 3);
        let backend = Backend {
            root: root.to_path_buf(),
        };
        for (newest, expect) in [("json.gz", 2), ("json.zst", 3), ("json", 1)] {
            for (ext, data) in [
                ("json", plain.as_bytes().to_vec()),
                ("json.gz", gzip(gz.as_bytes())),
                ("json.zst", zst(zs.as_bytes())),
            ] {
                write(
                    &base.join(format!("dev.{ext}")),
                    &data,
                    if ext == newest { 10 } else { 100 },
                );
            }
            let path = backend.locate("p", "dev").unwrap();
            assert_eq!(path, base.join(format!("dev.{newest}")));
            let list = backend.list(Some("p")).unwrap();
            assert_eq!(list.len(), 1, "one entry per stack");
            assert_eq!(
                (list[0].path.clone(), list[0].resource_count),
                (path, Some(expect))
            );
        }
        // Equal times: the later in listing order wins, as in pulumi (`.zst` > `.gz` > `.json`).
        for ext in ["json", "json.gz", "json.zst"] {
            let file = fs::File::options()
                .write(true)
                .open(base.join(format!("dev.{ext}")))
                .unwrap();
            file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000))
                .unwrap();
        }
        assert_eq!(
            backend.locate("p", "dev").unwrap(),
            base.join("dev.json.zst")
        );
    }

    #[test]
    fn compressed_round_trips_and_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let text = fs::read_to_string(fixture("checkpoint-v4.json")).unwrap();
        for (name, data) in [
            ("a.json", text.as_bytes().to_vec()),
            ("a.json.gz", gzip(text.as_bytes())),
            ("a.json.zst", zst(text.as_bytes())),
        ] {
            let path = dir.path().join(name);
            fs::write(&path, &data).unwrap();
            assert_eq!(read_state_text(&path).unwrap(), text, "{name}");
        }
        let gz = gzip(text.as_bytes());
        let zs = zst(text.as_bytes());
        for (name, data, format) in [
            ("trunc.gz", &gz[..gz.len() / 2], "gzip"),
            ("trunc.zst", &zs[..zs.len() / 2], "zstd"),
            ("junk.gz", &[0x1f, 0x8b, 0x08, 0xff, 0xff, 0xff][..], "gzip"),
            (
                "junk.zst",
                &[0x28, 0xb5, 0x2f, 0xfd, 0xff, 0xff, 0xff, 0xff][..],
                "zstd",
            ),
        ] {
            let path = dir.path().join(name);
            fs::write(&path, data).unwrap();
            let err = read_state_bytes(&path).unwrap_err();
            assert!(
                matches!(err, DiyError::Decompress { format: f, .. } if f == format),
                "{name}: {err:?}"
            );
            assert!(err.to_string().contains(name), "{err}");
        }
        // Bombs stop at the cap instead of filling memory.
        let bomb = dir.path().join("bomb.json.gz");
        fs::write(&bomb, gzip(&[b' '; 10_000])).unwrap();
        assert!(matches!(
            read_capped(&bomb, 1000),
            Err(DiyError::TooLarge { limit: 1000, .. })
        ));
        assert_eq!(read_capped(&bomb, 10_000).unwrap().len(), 10_000);

        let bin = dir.path().join("bin.json");
        fs::write(&bin, [0xff, 0xfe, 0x00]).unwrap();
        assert!(matches!(
            read_state_text(&bin),
            Err(DiyError::NotUtf8 { .. })
        ));
        let missing = dir.path().join("missing.json");
        assert!(matches!(
            read_state_bytes(&missing),
            Err(DiyError::Read { .. })
        ));
    }

    #[test]
    fn real_checkpoints_list_and_parse() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(&root.join(".pulumi/meta.yaml"), b"version: 1\n", 0);
        for (stack, file) in [
            ("v3", "checkpoint-v3.json"),
            ("v4", "checkpoint-v4.json"),
            ("secrets", "checkpoint-secrets.json"),
        ] {
            let data = fs::read(fixture(file)).unwrap();
            let data = if stack == "v4" { gzip(&data) } else { data };
            let ext = if stack == "v4" { "json.gz" } else { "json" };
            write(
                &root.join(format!(".pulumi/stacks/proj/{stack}.{ext}")),
                &data,
                10,
            );
        }
        let backend = Backend {
            root: root.to_path_buf(),
        };
        let list = backend.list(Some("proj")).unwrap();
        assert_eq!(
            list.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            ["secrets", "v3", "v4"]
        );
        for s in &list {
            // Zero-valued manifest time: no last update, but 30 resources.
            assert_eq!(
                (s.last_update.as_deref(), s.resource_count),
                (None, Some(30)),
                "{}",
                s.name
            );
        }
        let text = read_state_text(&backend.locate("proj", "v4").unwrap()).unwrap();
        let dep = crate::state::parse(&text).unwrap();
        assert_eq!(dep.version, 4);

        // A corrupt stack file makes listing fail, naming the file.
        write(
            &root.join(".pulumi/stacks/proj/broken.json"),
            b"{\"version\":",
            0,
        );
        let err = backend.list(None).unwrap_err();
        assert!(matches!(err, DiyError::Corrupt { .. }));
        assert!(err.to_string().contains("broken.json"), "{err}");
    }

    #[test]
    fn times_format_like_stack_ls() {
        for (input, want) in [
            ("2024-05-01T10:00:00Z", "2024-05-01T10:00:00.000Z"),
            ("2024-05-01T10:00:00.9999Z", "2024-05-01T10:00:00.999Z"),
            ("2024-05-01T10:00:00.5Z", "2024-05-01T10:00:00.500Z"),
            (
                "2024-03-01T01:30:00.123456789+02:00",
                "2024-02-29T23:30:00.123Z",
            ),
            ("2023-12-31T22:00:00-05:30", "2024-01-01T03:30:00.000Z"),
            ("1969-12-31T23:59:59Z", "1969-12-31T23:59:59.000Z"),
            ("garbage", "garbage"),
            ("2024-05-01T10:00:00", "2024-05-01T10:00:00"),
        ] {
            assert_eq!(format_utc_millis(input), want, "{input}");
        }
    }
}
