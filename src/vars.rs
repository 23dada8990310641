//! Mapped variables: the result of applying a mapping file to a stack's outputs and config.
//!
//! A [`Var`] carries its secret-ness with it to every target. Its value is `None` only for a
//! secret whose plaintext was not read (commands that only print masked values never decrypt).

/// Text printed in place of a secret value, as `pulumi stack output` does.
pub(crate) const SECRET_MASK: &str = "[secret]";

/// One mapped environment variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Var {
    /// Variable name, validated against `^[A-Za-z_][A-Za-z0-9_]*$`.
    pub(crate) name: String,
    /// The value; `None` for a secret whose plaintext was not read.
    pub(crate) value: Option<String>,
    /// Whether the value is secret (marked by pulumi, forced by the mapping, or derived from one).
    pub(crate) secret: bool,
}

impl Var {
    /// The text to show for this variable: the value, or `[secret]` when it is secret and
    /// `reveal` is false.
    pub(crate) fn shown(&self, reveal: bool) -> Option<&str> {
        if self.secret && !reveal {
            Some(SECRET_MASK)
        } else {
            self.value.as_deref()
        }
    }
}
