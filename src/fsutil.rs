//! Atomic file replacement: write a temp file in the target's folder, fsync, then rename.
//!
//! [`replace_all`] stages every file before renaming any, and puts back what it already
//! replaced if a later rename fails, so a failed run leaves every target as it was.

use std::fs;
use std::io::{self, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

/// One file to write.
pub(crate) struct NewFile<'a> {
    pub(crate) path: &'a Path,
    pub(crate) content: &'a [u8],
    pub(crate) mode: u32,
}

/// A failed write, naming the file.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub(crate) struct WriteError {
    pub(crate) path: PathBuf,
    pub(crate) source: io::Error,
}

fn stage(file: &NewFile<'_>) -> Result<tempfile::NamedTempFile, WriteError> {
    let err = |source| WriteError {
        path: file.path.to_owned(),
        source,
    };
    let dir = file
        .path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(err)?;
    let name = file
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // tempfile creates the file with mode 0600, so a secret is never readable by others.
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(err)?;
    tmp.write_all(file.content).map_err(err)?;
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(file.mode))
        .map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    Ok(tmp)
}

fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

/// Replace every file atomically, all or nothing (as far as the file system allows).
pub(crate) fn replace_all(files: &[NewFile<'_>]) -> Result<(), WriteError> {
    let originals: Vec<Option<(Vec<u8>, u32)>> = files
        .iter()
        .map(|f| {
            let content = fs::read(f.path).ok()?;
            let mode = fs::metadata(f.path).ok()?.permissions().mode() & 0o7777;
            Some((content, mode))
        })
        .collect();
    let mut staged = Vec::with_capacity(files.len());
    for file in files {
        staged.push(stage(file)?); // dropping `staged` on error removes the temp files
    }
    for (i, tmp) in staged.into_iter().enumerate() {
        if let Err(e) = tmp.persist(files[i].path) {
            rollback(&files[..i], &originals[..i]);
            return Err(WriteError {
                path: files[i].path.to_owned(),
                source: e.error,
            });
        }
        sync_dir(files[i].path);
    }
    Ok(())
}

fn rollback(done: &[NewFile<'_>], originals: &[Option<(Vec<u8>, u32)>]) {
    for (file, original) in done.iter().zip(originals) {
        match original {
            Some((content, mode)) => {
                let _ = stage(&NewFile {
                    path: file.path,
                    content,
                    mode: *mode,
                })
                .and_then(|t| {
                    t.persist(file.path).map_err(|e| WriteError {
                        path: file.path.to_owned(),
                        source: e.error,
                    })
                });
            }
            None => {
                let _ = fs::remove_file(file.path);
            }
        }
    }
}

/// Append `text` to `path` in one write (for `$GITHUB_ENV`, which the runner owns).
pub(crate) fn append(path: &Path, text: &str) -> Result<(), WriteError> {
    let err = |source| WriteError {
        path: path.to_owned(),
        source,
    };
    let mut f = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(err)?;
    f.write_all(text.as_bytes()).map_err(err)?;
    f.sync_all().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_with_mode_and_keeps_nothing_half_written() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.env");
        let b = dir.path().join("sub/b.yaml");
        fs::write(&a, "old").unwrap();
        replace_all(&[
            NewFile {
                path: &a,
                content: b"new",
                mode: 0o600,
            },
            NewFile {
                path: &b,
                content: b"b",
                mode: 0o644,
            },
        ])
        .unwrap();
        assert_eq!(fs::read_to_string(&a).unwrap(), "new");
        assert_eq!(
            fs::metadata(&a).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            fs::metadata(&b).unwrap().permissions().mode() & 0o777,
            0o644
        );

        // A target whose folder is a file cannot be written: the first target is put back.
        let blocker = dir.path().join("blocker");
        fs::write(&blocker, "").unwrap();
        let bad = blocker.join("c.env");
        let err = replace_all(&[
            NewFile {
                path: &a,
                content: b"newer",
                mode: 0o600,
            },
            NewFile {
                path: &bad,
                content: b"c",
                mode: 0o600,
            },
        ])
        .unwrap_err();
        assert_eq!(err.path, bad);
        assert_eq!(fs::read_to_string(&a).unwrap(), "new");
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    }
}
