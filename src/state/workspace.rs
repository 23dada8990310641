//! The stack `pulumi stack select` chose for a project: pulumi keeps it per project and per
//! backend in `$PULUMI_HOME/workspaces/<project>-<sha1 of the Pulumi.yaml path>-workspace.json`
//! (`{"stacks": {"<backend URL>": "<stack>"}}`, or the older `{"stack": "<stack>"}`).
//! stackwire itself always names the stack; this is only for `stacks`' `current` column, so
//! that it says what `pulumi stack ls` says.

use std::path::Path;

/// The selected stack of the project whose `Pulumi.yaml` is `project_file`, for the backend
/// pulumi knows as `backend_url` (the URL string as pulumi was given it); `None` when none is
/// selected or the settings cannot be read.
pub(crate) fn selected_stack(
    pulumi_home: &Path,
    project_file: &Path,
    project: &str,
    backend_url: &str,
) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Settings {
        #[serde(default)]
        stack: String,
        #[serde(default)]
        stacks: std::collections::BTreeMap<String, String>,
    }
    let real = std::fs::canonicalize(project_file).unwrap_or_else(|_| project_file.to_owned());
    let digest = ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        real.to_string_lossy().as_bytes(),
    );
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    let file = pulumi_home
        .join("workspaces")
        .join(format!("{project}-{hex}-workspace.json"));
    let settings: Settings = serde_json::from_slice(&std::fs::read(file).ok()?).ok()?;
    // A per-backend map, once written, is the only answer for that backend (pulumi's
    // `StackForBackend`): the legacy field counts only while there is no map.
    let name = if settings.stacks.is_empty() {
        settings.stack
    } else {
        settings.stacks.get(backend_url)?.clone()
    };
    (!name.is_empty()).then_some(name)
}

/// Whether the selection `selected` (`dev` or `organization/proj/dev`) is the stack `name` of
/// project `project` (`None`: the legacy layout, no projects).
pub(crate) fn is_selected(selected: &str, project: Option<&str>, name: &str) -> bool {
    let short = name.rsplit('/').next().unwrap_or(name);
    match selected.split('/').collect::<Vec<_>>()[..] {
        [_org, p, s] => project == Some(p) && s == short,
        [s] => s == short,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_selection_is_found_per_backend_as_pulumi_keeps_it() {
        let home = tempfile::tempdir().unwrap();
        let project = tempfile::tempdir().unwrap();
        let file = project.path().join("Pulumi.yaml");
        std::fs::write(&file, "name: app\nruntime: yaml\n").unwrap();
        let real = std::fs::canonicalize(&file).unwrap();
        let digest = ring::digest::digest(
            &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
            real.to_string_lossy().as_bytes(),
        );
        let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        let dir = home.path().join("workspaces");
        std::fs::create_dir_all(&dir).unwrap();
        let settings = dir.join(format!("app-{hex}-workspace.json"));
        let select = |text: &str| std::fs::write(&settings, text).unwrap();
        let get = |url| selected_stack(home.path(), &file, "app", url);

        assert_eq!(get("file:///b"), None, "no settings file");
        select(r#"{"stack": "dev"}"#);
        assert_eq!(
            get("file:///b").as_deref(),
            Some("dev"),
            "legacy: any backend"
        );
        select(r#"{"stacks": {"file:///b": "organization/app/prod"}}"#);
        assert_eq!(get("file:///b").as_deref(), Some("organization/app/prod"));
        assert_eq!(get("file:///other"), None, "another backend's selection");
        select("not json");
        assert_eq!(get("file:///b"), None);

        assert!(is_selected("organization/app/prod", Some("app"), "prod"));
        assert!(is_selected(
            "organization/app/prod",
            Some("app"),
            "organization/app/prod"
        ));
        assert!(!is_selected(
            "organization/app/prod",
            Some("web"),
            "organization/web/prod"
        ));
        assert!(is_selected("dev", None, "dev"));
        assert!(!is_selected("dev", Some("app"), "prod"));
    }
}
