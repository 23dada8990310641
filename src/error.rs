//! Exit codes, and which error means which.
//!
//! 0 ok · 1 the command ran and found problems · 2 bad usage or invalid input ·
//! 3 an external program or service failed. Module errors are classified here by walking the
//! `anyhow` chain, so domain modules keep their own `thiserror` enums.

use crate::config::SettingsError;
use crate::format::FormatError;
use crate::mapping::MappingError;
use crate::pulumi::PulumiError;
use crate::resolve::ResolveError;
use crate::source::SourceError;
use crate::state::StateError;
use crate::state::diy::DiyError;
use crate::state::passphrase::PassphraseError;
use crate::state::stack_config::ConfigError;

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExitStatus {
    /// Everything ran and nothing is wrong.
    Success = 0,
    /// The command ran and found problems (drift, failing checks).
    Problems = 1,
    /// Bad usage or invalid input.
    Invalid = 2,
    /// An external program or service failed.
    External = 3,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        Self::from(status as u8)
    }
}

/// An error that carries its own exit status: module errors that `classify` does not list
/// are wrapped in it by the command that returns them (`with_status(ExitStatus::External, e)`).
#[derive(Debug)]
pub(crate) struct WithStatus {
    pub(crate) status: ExitStatus,
    error: Box<dyn std::error::Error + Send + Sync>,
}

impl std::fmt::Display for WithStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for WithStatus {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

/// Wrap `error` so that it ends the run with `status`.
pub(crate) fn with_status(
    status: ExitStatus,
    error: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> WithStatus {
    WithStatus {
        status,
        error: error.into(),
    }
}

/// The exit status for an error: the first classified error in its chain wins.
pub(crate) fn classify(err: &anyhow::Error) -> ExitStatus {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<WithStatus>() {
            return e.status;
        }
        if let Some(e) = cause.downcast_ref::<SourceError>() {
            return e.exit_status();
        }
        if let Some(e) = cause.downcast_ref::<PulumiError>() {
            return pulumi_status(e);
        }
        if cause.is::<MappingError>()
            || cause.is::<SettingsError>()
            || cause.is::<DiyError>()
            || cause.is::<StateError>()
            || cause.is::<ConfigError>()
            || cause.is::<PassphraseError>()
            || cause.is::<ResolveError>()
            || cause.is::<FormatError>()
        {
            return ExitStatus::Invalid;
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::NotFound | std::io::ErrorKind::InvalidData => {
                    ExitStatus::Invalid
                }
                _ => ExitStatus::External,
            };
        }
    }
    ExitStatus::Invalid
}

/// A pulumi failure is the user's input when pulumi refused what it was given (the stack, the
/// project, the passphrase: exit 2, as when stackwire reads the backend itself), else pulumi's
/// or its backend's failure (exit 3).
pub(crate) fn pulumi_status(e: &PulumiError) -> ExitStatus {
    if e.is_bad_input() {
        ExitStatus::Invalid
    } else {
        ExitStatus::External
    }
}

/// Whether the error is a closed stdout (`stackwire env | head -1`), which is not a failure.
pub(crate) fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
