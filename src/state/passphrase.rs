//! Pulumi's passphrase secrets manager: PBKDF2-HMAC-SHA256 (1,000,000 rounds) → AES-256-GCM.
//!
//! The salt string (`v1:<salt>:v1:<nonce>:<ct>`) embeds `pulumi` encrypted under the derived key,
//! which is how a wrong passphrase is told apart. Parsing ([`SaltString`], [`Ciphertext`]) is
//! separate from the slow key derivation. Nothing here prints, and no error carries a passphrase,
//! key or plaintext.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

/// PBKDF2 iterations pulumi uses (`config.NewSymmetricCrypterFromPassphrase`).
const KDF_ROUNDS: u32 = 1_000_000;
/// AES-256 key length.
const KEY_BYTES: usize = 32;
/// AES-GCM nonce length.
const NONCE_BYTES: usize = 12;
/// AES-GCM tag length (appended to the ciphertext).
const TAG_BYTES: usize = 16;
/// What the salt string's embedded ciphertext decrypts to under the right passphrase.
const CHECK_PLAINTEXT: &[u8] = b"pulumi";

/// Go's `base64.StdEncoding`: padded, and lenient about non-zero trailing bits.
const GO_STD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// Environment variable holding the passphrase itself.
pub(crate) const PASSPHRASE_VAR: &str = "PULUMI_CONFIG_PASSPHRASE";
/// Environment variable naming a file that holds the passphrase.
pub(crate) const PASSPHRASE_FILE_VAR: &str = "PULUMI_CONFIG_PASSPHRASE_FILE";

/// How a missing or wrong passphrase is reported, whether stackwire or pulumi found it.
pub(crate) const MISSING: &str = "the passphrase is not set";
pub(crate) const MISSING_HINT: &str =
    "set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE";
pub(crate) const WRONG: &str = "the passphrase is wrong";
pub(crate) const WRONG_HINT: &str =
    "set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) to the stack's passphrase";

/// Why a passphrase could not be read or used, or a value not decrypted.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PassphraseError {
    /// Neither variable is set.
    #[error(
        "{MISSING}: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables\n  hint: {MISSING_HINT}"
    )]
    Missing,
    /// The passphrase does not match the salt string; records where it came from, if known.
    #[error("{WRONG}: incorrect passphrase{}\n  hint: {WRONG_HINT}", source_note(.0.as_ref()))]
    Incorrect(Option<PassphraseSource>),
    /// `PULUMI_CONFIG_PASSPHRASE_FILE` names a file that cannot be read.
    #[error("unable to read PULUMI_CONFIG_PASSPHRASE_FILE {}: {source}", path.display())]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A passphrase variable or file is not valid UTF-8.
    #[error("{0} is not valid UTF-8")]
    NotUnicode(String),
    /// The salt string (`encryptionsalt:` or the state's `secrets_providers.state.salt`) is malformed.
    #[error("malformed passphrase salt (expected `v1:<salt>:v1:<nonce>:<ciphertext>`): {0}")]
    BadSalt(String),
    /// A secret value is not of the form `v1:<nonce>:<ciphertext>`.
    #[error("malformed passphrase ciphertext (expected `v1:<nonce>:<ciphertext>`): {0}")]
    BadCiphertext(String),
    /// Authentication failed: the value was encrypted with another key, or is corrupt.
    #[error(
        "failed to decrypt: the value was not encrypted with this stack's passphrase key or is corrupt"
    )]
    Decrypt,
    /// The decrypted bytes are not UTF-8 text.
    #[error("decrypted value is not valid UTF-8")]
    NotUtf8,
}

fn source_note(source: Option<&PassphraseSource>) -> String {
    match source {
        None => String::new(),
        Some(PassphraseSource::Env) => format!(" (from {PASSPHRASE_VAR})"),
        Some(PassphraseSource::File(path)) => {
            format!(" (read from {PASSPHRASE_FILE_VAR}={})", path.display())
        }
    }
}

/// Where a [`Passphrase`] was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PassphraseSource {
    /// `PULUMI_CONFIG_PASSPHRASE`.
    Env,
    /// The file named by `PULUMI_CONFIG_PASSPHRASE_FILE`.
    File(PathBuf),
}

/// Something a [`Crypter`] can be derived from: a plain `str` or a [`Passphrase`].
pub(crate) trait PassphraseText {
    /// The passphrase text.
    fn text(&self) -> &str;
    /// Where it came from, if known (named in [`PassphraseError::Incorrect`]).
    fn source_of(&self) -> Option<&PassphraseSource>;
}

impl PassphraseText for str {
    fn text(&self) -> &str {
        self
    }
    fn source_of(&self) -> Option<&PassphraseSource> {
        None
    }
}

impl PassphraseText for String {
    fn text(&self) -> &str {
        self
    }
    fn source_of(&self) -> Option<&PassphraseSource> {
        None
    }
}

impl PassphraseText for Passphrase {
    fn text(&self) -> &str {
        &self.secret
    }
    fn source_of(&self) -> Option<&PassphraseSource> {
        Some(&self.source)
    }
}

/// A passphrase and where it came from. `Debug` and `Display` print `****`.
pub(crate) struct Passphrase {
    secret: String,
    source: PassphraseSource,
}

impl Passphrase {
    /// Wrap a passphrase read from `source`.
    pub(crate) fn new(secret: String, source: PassphraseSource) -> Self {
        Self { secret, source }
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

impl fmt::Display for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

/// Read the passphrase as pulumi does without a terminal: `PULUMI_CONFIG_PASSPHRASE` if set (even
/// empty), else the whitespace-trimmed contents of the file named by a non-empty
/// `PULUMI_CONFIG_PASSPHRASE_FILE`, else `Ok(None)` (the caller reports [`PassphraseError::Missing`]).
pub(crate) fn read_passphrase(
    get_env: impl Fn(&str) -> Option<OsString>,
) -> Result<Option<Passphrase>, PassphraseError> {
    if let Some(value) = get_env(PASSPHRASE_VAR) {
        let secret = value
            .into_string()
            .map_err(|_| PassphraseError::NotUnicode(PASSPHRASE_VAR.to_owned()))?;
        return Ok(Some(Passphrase::new(secret, PassphraseSource::Env)));
    }
    let Some(file) = get_env(PASSPHRASE_FILE_VAR).filter(|f| !f.is_empty()) else {
        return Ok(None);
    };
    let path = PathBuf::from(file);
    let bytes = std::fs::read(&path).map_err(|source| PassphraseError::File {
        path: path.clone(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        PassphraseError::NotUnicode(format!("{PASSPHRASE_FILE_VAR} {}", path.display()))
    })?;
    Ok(Some(Passphrase::new(
        text.trim().to_owned(),
        PassphraseSource::File(path),
    )))
}

/// A parsed `v1:<b64 nonce>:<b64 ciphertext‖tag>` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ciphertext {
    nonce: [u8; NONCE_BYTES],
    sealed: Vec<u8>,
}

impl Ciphertext {
    /// Parse without decrypting. Never panics.
    pub(crate) fn parse(text: &str) -> Result<Self, PassphraseError> {
        let bad = |reason: &str| PassphraseError::BadCiphertext(reason.to_owned());
        let parts: Vec<&str> = text.split(':').collect();
        let [version, nonce, sealed] = parts.as_slice() else {
            return Err(bad(&format!(
                "has {} `:`-separated parts, expected 3",
                parts.len()
            )));
        };
        if *version != "v1" {
            return Err(bad("unknown version (expected `v1`)"));
        }
        let nonce = GO_STD
            .decode(nonce)
            .map_err(|e| bad(&format!("nonce is not base64 ({e})")))?;
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|n: Vec<u8>| {
            bad(&format!(
                "nonce is {} bytes, expected {NONCE_BYTES}",
                n.len()
            ))
        })?;
        let sealed = GO_STD
            .decode(sealed)
            .map_err(|e| bad(&format!("ciphertext is not base64 ({e})")))?;
        if sealed.len() < TAG_BYTES {
            return Err(bad(&format!(
                "ciphertext is {} bytes, shorter than the {TAG_BYTES}-byte tag",
                sealed.len()
            )));
        }
        Ok(Self { nonce, sealed })
    }
}

/// A parsed salt string: `v1:<b64 salt>:` followed by the check [`Ciphertext`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SaltString {
    salt: Vec<u8>,
    check: Ciphertext,
}

impl SaltString {
    /// Parse without deriving the key. Never panics.
    pub(crate) fn parse(text: &str) -> Result<Self, PassphraseError> {
        let bad = |reason: String| PassphraseError::BadSalt(reason);
        if text.is_empty() {
            return Err(bad("it is empty".into()));
        }
        let mut parts = text.splitn(3, ':');
        let (Some(version), Some(salt), Some(check)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("it has fewer than 3 `:`-separated parts".into()));
        };
        if version != "v1" {
            return Err(bad("unknown version (expected `v1`)".into()));
        }
        // Pulumi writes 8 bytes but accepts any length; so do we, as long as it is base64.
        let salt = GO_STD
            .decode(salt)
            .map_err(|e| bad(format!("salt is not base64 ({e})")))?;
        let check = Ciphertext::parse(check).map_err(|e| match e {
            PassphraseError::BadCiphertext(reason) => {
                bad(format!("embedded check value: {reason}"))
            }
            other => other,
        })?;
        Ok(Self { salt, check })
    }
}

/// The AES-256-GCM key derived from a passphrase, verified against a salt string.
/// `Debug` prints `Crypter(****)`; cloning copies the key (derive once, share it).
#[derive(Clone)]
pub(crate) struct Crypter {
    key: [u8; KEY_BYTES],
}

impl Crypter {
    /// Parse `salt_string`, derive the key from `passphrase` (slow: 1,000,000 PBKDF2 rounds) and
    /// check that the embedded value decrypts to `pulumi`. `passphrase` is a `&str` or a
    /// [`&Passphrase`](Passphrase); with the latter, [`PassphraseError::Incorrect`] names its source.
    pub(crate) fn new(
        salt_string: &str,
        passphrase: &(impl PassphraseText + ?Sized),
    ) -> Result<Self, PassphraseError> {
        Self::from_parsed(&SaltString::parse(salt_string)?, passphrase)
    }

    /// Derive and verify the key for an already parsed salt string.
    pub(crate) fn from_parsed(
        salt: &SaltString,
        passphrase: &(impl PassphraseText + ?Sized),
    ) -> Result<Self, PassphraseError> {
        let mut key = [0u8; KEY_BYTES];
        // ring's PBKDF2 is compiled (optimised) in ring itself, so the 1,000,000 rounds stay
        // fast even in unoptimised test builds.
        ring::pbkdf2::derive(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            std::num::NonZeroU32::new(KDF_ROUNDS).unwrap_or(std::num::NonZeroU32::MIN),
            &salt.salt,
            passphrase.text().as_bytes(),
            &mut key,
        );
        let crypter = Self { key };
        match crypter.open(&salt.check) {
            Ok(plain) if plain == CHECK_PLAINTEXT => Ok(crypter),
            _ => Err(PassphraseError::Incorrect(passphrase.source_of().cloned())),
        }
    }

    fn open(&self, value: &Ciphertext) -> Result<Vec<u8>, PassphraseError> {
        let key = UnboundKey::new(&AES_256_GCM, &self.key).map_err(|_| PassphraseError::Decrypt)?;
        let mut buf = value.sealed.clone();
        let plain = LessSafeKey::new(key)
            .open_in_place(
                Nonce::assume_unique_for_key(value.nonce),
                Aad::empty(),
                &mut buf,
            )
            .map_err(|_| PassphraseError::Decrypt)?;
        Ok(plain.to_vec())
    }

    /// Decrypt a `v1:<nonce>:<ciphertext>` value to its bytes.
    pub(crate) fn decrypt(&self, ciphertext: &str) -> Result<Vec<u8>, PassphraseError> {
        self.open(&Ciphertext::parse(ciphertext)?)
    }

    /// Decrypt a value to UTF-8 text (config `secure:` values are raw strings; state secrets are
    /// JSON text).
    pub(crate) fn decrypt_str(&self, ciphertext: &str) -> Result<String, PassphraseError> {
        String::from_utf8(self.decrypt(ciphertext)?).map_err(|_| PassphraseError::NotUtf8)
    }
}

impl fmt::Debug for Crypter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Crypter(****)")
    }
}

impl Drop for Crypter {
    fn drop(&mut self) {
        // Best effort: no zeroize crate, so keep the store from being optimised away.
        self.key = [0; KEY_BYTES];
        std::hint::black_box(&self.key);
    }
}

impl crate::value::Unseal for Crypter {
    fn unseal(&self, ciphertext: &str) -> Result<Option<String>, String> {
        self.decrypt_str(ciphertext)
            .map(Some)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::value::Unseal as _;

    const SALT: &str = "v1:ThS5UPxP9qc=:v1:UZYAXF+ylaJ0rGhv:9OTvBnOEDFgxs7btjzSu+LZ470vLpg==";
    const PASSPHRASE: &str = "TestConfigRoundtripComments";
    const SECRET: &str = "v1:T1ftqhY0hqr+EJK6:+jvd5PMecFx80tcavzuZY4tLatgIfoe/xR72GA==";

    /// The test vector's crypter, derived once (the KDF takes seconds in debug builds).
    pub(crate) fn test_crypter() -> &'static Crypter {
        static CRYPTER: std::sync::OnceLock<Crypter> = std::sync::OnceLock::new();
        CRYPTER.get_or_init(|| Crypter::new(SALT, PASSPHRASE).unwrap())
    }

    #[test]
    fn public_test_vector() {
        let crypter = test_crypter();
        assert_eq!(crypter.decrypt_str(SECRET).unwrap(), "secret-value");
        assert_eq!(crypter.decrypt(SECRET).unwrap(), b"secret-value");
        assert_eq!(
            crypter.unseal(SECRET).unwrap().as_deref(),
            Some("secret-value")
        );
        assert_eq!(format!("{crypter:?}"), "Crypter(****)");

        // The salt string's own check value decrypts to `pulumi`.
        let check = &SALT[SALT.find(":v1:").unwrap() + 1..];
        assert_eq!(crypter.decrypt_str(check).unwrap(), "pulumi");

        // A tampered tag or a value from another key fails authentication, without panicking.
        let mut tampered = SECRET.to_owned();
        let at = tampered.len() - 10;
        let flipped = if &tampered[at..=at] == "A" { "B" } else { "A" };
        tampered.replace_range(at..=at, flipped);
        assert!(matches!(
            crypter.decrypt(&tampered),
            Err(PassphraseError::Decrypt)
        ));
        let err = crypter.unseal(&tampered).unwrap_err();
        assert!(
            !err.contains(PASSPHRASE) && !err.contains("secret-value"),
            "{err}"
        );
        assert!(matches!(
            crypter.decrypt("v1:abc"),
            Err(PassphraseError::BadCiphertext(_))
        ));
    }

    #[test]
    fn wrong_passphrase_is_incorrect() {
        // One KDF run: a wrong passphrase read from a file is named in the error, never shown.
        let file = PathBuf::from("/run/secrets/phrase");
        let phrase = Passphrase::new(
            "not-the-passphrase".into(),
            PassphraseSource::File(file.clone()),
        );
        let err = Crypter::new(SALT, &phrase).unwrap_err();
        assert!(
            matches!(err, PassphraseError::Incorrect(Some(PassphraseSource::File(ref f))) if *f == file),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg == "the passphrase is wrong: incorrect passphrase (read from PULUMI_CONFIG_PASSPHRASE_FILE=/run/secrets/phrase)\n  hint: set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) to the stack's passphrase",
            "{msg}"
        );
        assert!(!msg.contains("not-the-passphrase"));
        // A plain `str` has no source; the message then names no variable as used.
        assert!("x".source_of().is_none() && String::new().source_of().is_none());
        let msg = PassphraseError::Incorrect(None).to_string();
        assert!(
            msg.starts_with("the passphrase is wrong: incorrect passphrase\n  hint: set PULUMI_CONFIG_PASSPHRASE"),
            "{msg}"
        );
        let msg = PassphraseError::Incorrect(Some(PassphraseSource::Env)).to_string();
        assert!(
            msg.starts_with(
                "the passphrase is wrong: incorrect passphrase (from PULUMI_CONFIG_PASSPHRASE)\n"
            ),
            "{msg}"
        );
        // A malformed salt never reaches the KDF.
        assert!(matches!(
            Crypter::new("v1:x", &phrase),
            Err(PassphraseError::BadSalt(_))
        ));
    }

    #[test]
    fn malformed_salts_and_ciphertexts_are_errors() {
        for salt in [
            "",
            "v1",
            "v1:ThS5UPxP9qc=",
            "v2:ThS5UPxP9qc=:v1:UZYAXF+ylaJ0rGhv:9OTvBnOEDFgxs7btjzSu+LZ470vLpg==",
            "v1:not base64!:v1:UZYAXF+ylaJ0rGhv:9OTvBnOEDFgxs7btjzSu+LZ470vLpg==",
            "v1:ThS5UPxP9qc=:v1:UZYAXF+ylaJ0:9OTvBnOEDFgxs7btjzSu+LZ470vLpg==",
            "v1:ThS5UPxP9qc=:v1:UZYAXF+ylaJ0rGhv",
            "v1:ThS5UPxP9qc=:v1:UZYAXF+ylaJ0rGhv:9OTv",
            "v1:ThS5UPxP9qc=:v1:UZYAXF+ylaJ0rGhv:9OTvBnOEDFgxs7btjzSu+LZ470vLpg==:x",
        ] {
            let err = SaltString::parse(salt).unwrap_err();
            assert!(
                matches!(err, PassphraseError::BadSalt(_)),
                "{salt:?}: {err:?}"
            );
            // `Crypter::new` fails the same way, before running the KDF.
            assert!(matches!(
                Crypter::new(salt, PASSPHRASE),
                Err(PassphraseError::BadSalt(_))
            ));
        }
        for ct in [
            "",
            "v1",
            "v1:T1ftqhY0hqr+EJK6",
            "v2:T1ftqhY0hqr+EJK6:+jvd5PMecFx80tcavzuZY4tLatgIfoe/xR72GA==",
            "v1:T1ftqhY0hqr+:+jvd5PMecFx80tcavzuZY4tLatgIfoe/xR72GA==",
            "v1:T1ftqhY0hqr+EJK6:+jvd5PMe%x80tcavzuZY4tLatgIfoe/xR72GA==",
            "v1:T1ftqhY0hqr+EJK6:+jvd5PMecFx80tca",
            "v1:T1ftqhY0hqr+EJK6:+jvd5PMecFx80tcavzuZY4tLatgIfoe/xR72GA",
            "v1:T1ftqhY0hqr+EJK6:+jvd:5PMecFx80tcavzuZY4tLatgIfoe/xR72GA==",
        ] {
            let err = Ciphertext::parse(ct).unwrap_err();
            assert!(
                matches!(err, PassphraseError::BadCiphertext(_)),
                "{ct:?}: {err:?}"
            );
        }
        assert!(SaltString::parse(SALT).is_ok());
        assert!(Ciphertext::parse(SECRET).is_ok());
    }

    #[test]
    fn parsers_never_panic_on_noise() {
        // Tiny xorshift PRNG: deterministic, no extra crates.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        const ALPHABET: &[u8] =
            b"v1:=+/ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_\n \xff";
        let seeds = [SALT, SECRET, "v1::v1::", "::::"];
        for i in 0..5000 {
            let text = if i % 2 == 0 {
                // Mutate a valid value: flip, insert or delete a few bytes.
                let mut bytes = seeds[(next() % seeds.len() as u64) as usize]
                    .as_bytes()
                    .to_vec();
                for _ in 0..=(next() % 4) {
                    let at = (next() % (bytes.len() as u64 + 1)) as usize;
                    let byte = ALPHABET[(next() % ALPHABET.len() as u64) as usize];
                    match next() % 3 {
                        0 if at < bytes.len() => bytes[at] = byte,
                        1 if at < bytes.len() => {
                            bytes.remove(at);
                        }
                        _ => bytes.insert(at, byte),
                    }
                }
                String::from_utf8_lossy(&bytes).into_owned()
            } else {
                let len = (next() % 80) as usize;
                let bytes: Vec<u8> = (0..len)
                    .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                    .collect();
                String::from_utf8_lossy(&bytes).into_owned()
            };
            let _ = SaltString::parse(&text);
            let _ = Ciphertext::parse(&text);
        }
    }

    #[test]
    fn passphrase_sources() {
        use std::collections::HashMap;
        let env = |pairs: &[(&str, &str)]| {
            let map: HashMap<String, OsString> = pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), OsString::from(v)))
                .collect();
            move |name: &str| map.get(name).cloned()
        };

        assert!(read_passphrase(env(&[])).unwrap().is_none());
        // Set but empty still counts, and wins over the file.
        let p = read_passphrase(env(&[
            (PASSPHRASE_VAR, ""),
            (PASSPHRASE_FILE_VAR, "/nonexistent"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(p.text(), "");
        assert_eq!(p.source_of().unwrap(), &PassphraseSource::Env);
        assert_eq!(format!("{p:?} {p}"), "**** ****");

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("phrase");
        std::fs::write(&file, "  hunter2 \n").unwrap();
        let p = read_passphrase(env(&[(PASSPHRASE_FILE_VAR, file.to_str().unwrap())]))
            .unwrap()
            .unwrap();
        assert_eq!(p.text(), "hunter2");
        assert_eq!(
            p.source_of().unwrap(),
            &PassphraseSource::File(file.clone())
        );

        // An empty file variable is ignored, as pulumi does.
        assert!(
            read_passphrase(env(&[(PASSPHRASE_FILE_VAR, "")]))
                .unwrap()
                .is_none()
        );

        let missing = dir.path().join("missing");
        let err =
            read_passphrase(env(&[(PASSPHRASE_FILE_VAR, missing.to_str().unwrap())])).unwrap_err();
        assert!(matches!(err, PassphraseError::File { .. }));
        assert!(err.to_string().contains(missing.to_str().unwrap()), "{err}");

        assert!(
            PassphraseError::Missing
                .to_string()
                .starts_with("the passphrase is not set: passphrase must be set with")
        );
    }
}

/// Fuzzing the secret-envelope parsers (issue 3, acceptance 3): [`SaltString::parse`] and
/// [`Ciphertext::parse`] take any text without a panic and read every well-formed value back
/// exactly; AES-GCM values sealed under a known key (no KDF) decrypt, and any tampering fails
/// cleanly, also inside state secret envelopes.
#[cfg(test)]
mod proptests {
    use base64::Engine as _;
    use proptest::prelude::*;
    use proptest::sample::Index;
    use serde_json::{Value as Json, json};

    use super::*;
    use crate::value::proptests::{arb_plain_json, config};
    use crate::value::{SIG_KEY, SIG_SECRET, Value};

    const SALT: &str = "v1:ThS5UPxP9qc=:v1:UZYAXF+ylaJ0rGhv:9OTvBnOEDFgxs7btjzSu+LZ470vLpg==";
    const SECRET: &str = "v1:T1ftqhY0hqr+EJK6:+jvd5PMecFx80tcavzuZY4tLatgIfoe/xR72GA==";

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// `v1:<nonce>:<ciphertext‖tag>` of `plaintext` under `key`, as pulumi writes it.
    fn seal(key: &[u8; KEY_BYTES], nonce: &[u8; NONCE_BYTES], plaintext: &[u8]) -> String {
        use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).unwrap());
        let mut sealed = plaintext.to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(*nonce),
            Aad::empty(),
            &mut sealed,
        )
        .unwrap();
        format!("v1:{}:{}", b64(nonce), b64(&sealed))
    }

    /// Text shaped like the values: `v`-versions, base64 alphabet, padding, colons.
    fn shaped_text() -> impl Strategy<Value = String> {
        "(v1|v2|V1|)(:[A-Za-z0-9+/=_-]{0,30}){0,6}:?"
    }

    /// A byte edit of a valid value: replace, delete or insert one byte.
    fn edit(text: &str, at: Index, op: u8, byte: u8) -> String {
        let mut bytes = text.as_bytes().to_vec();
        let i = at.index(bytes.len());
        match op % 3 {
            0 => bytes[i] = byte,
            1 => {
                bytes.remove(i);
            }
            _ => bytes.insert(i, byte),
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn parsers_never_panic_on_any_text(text in any::<String>()) {
            let _ = SaltString::parse(&text);
            let _ = Ciphertext::parse(&text);
        }

        #[test]
        fn parsers_never_panic_on_shaped_text(text in shaped_text()) {
            let salt = SaltString::parse(&text);
            let ct = Ciphertext::parse(&text);
            let salt_ok = matches!(salt, Ok(_) | Err(PassphraseError::BadSalt(_)));
            prop_assert!(salt_ok, "{salt:?}");
            let ct_ok = matches!(ct, Ok(_) | Err(PassphraseError::BadCiphertext(_)));
            prop_assert!(ct_ok, "{ct:?}");
        }

        #[test]
        fn edited_test_vectors_never_panic(
            which in any::<bool>(),
            edits in prop::collection::vec((any::<Index>(), any::<u8>(), any::<u8>()), 1..5),
        ) {
            let mut text = (if which { SALT } else { SECRET }).to_owned();
            for (at, op, byte) in edits {
                if !text.is_empty() {
                    text = edit(&text, at, op, byte);
                }
            }
            let _ = SaltString::parse(&text);
            if let Ok(ct) = Ciphertext::parse(&text) {
                prop_assert_eq!(ct.nonce.len(), NONCE_BYTES);
                prop_assert!(ct.sealed.len() >= TAG_BYTES);
            }
        }

        #[test]
        fn well_formed_ciphertexts_parse_exactly(
            nonce in any::<[u8; NONCE_BYTES]>(),
            sealed in prop::collection::vec(any::<u8>(), TAG_BYTES..200),
        ) {
            let text = format!("v1:{}:{}", b64(&nonce), b64(&sealed));
            prop_assert_eq!(Ciphertext::parse(&text).unwrap(), Ciphertext { nonce, sealed });
        }

        #[test]
        fn wrong_sizes_are_rejected(
            nonce in prop::collection::vec(any::<u8>(), 0..40),
            sealed in prop::collection::vec(any::<u8>(), 0..40),
        ) {
            prop_assume!(nonce.len() != NONCE_BYTES || sealed.len() < TAG_BYTES);
            let text = format!("v1:{}:{}", b64(&nonce), b64(&sealed));
            let parsed = Ciphertext::parse(&text);
            prop_assert!(matches!(parsed, Err(PassphraseError::BadCiphertext(_))), "{parsed:?}");
        }

        #[test]
        fn well_formed_salt_strings_parse_exactly(
            salt in prop::collection::vec(any::<u8>(), 0..32),
            nonce in any::<[u8; NONCE_BYTES]>(),
            sealed in prop::collection::vec(any::<u8>(), TAG_BYTES..64),
        ) {
            let text = format!("v1:{}:v1:{}:{}", b64(&salt), b64(&nonce), b64(&sealed));
            let parsed = SaltString::parse(&text).unwrap();
            let want = SaltString { salt, check: Ciphertext { nonce, sealed } };
            prop_assert_eq!(parsed, want);
        }

        #[test]
        fn sealed_values_decrypt_and_tampering_fails(
            key in any::<[u8; KEY_BYTES]>(),
            nonce in any::<[u8; NONCE_BYTES]>(),
            plaintext in prop::collection::vec(any::<u8>(), 0..100),
            flip in any::<Index>(),
            bit in 0u8..8,
        ) {
            let crypter = Crypter { key };
            let text = seal(&key, &nonce, &plaintext);
            prop_assert_eq!(crypter.decrypt(&text).unwrap(), plaintext.clone());
            let mut ct = Ciphertext::parse(&text).unwrap();
            let i = flip.index(ct.sealed.len());
            ct.sealed[i] ^= 1 << bit;
            let tampered = format!("v1:{}:{}", b64(&ct.nonce), b64(&ct.sealed));
            prop_assert!(matches!(crypter.decrypt(&tampered), Err(PassphraseError::Decrypt)));
            let mut other = key;
            other[0] ^= 1;
            let wrong_key = Crypter { key: other }.decrypt(&text);
            prop_assert!(matches!(wrong_key, Err(PassphraseError::Decrypt)));
        }

        #[test]
        fn state_secrets_decrypt_through_envelopes(
            value in arb_plain_json(),
            nonce in any::<[u8; NONCE_BYTES]>(),
            junk in prop::collection::vec(any::<u8>(), 0..40),
            noise in shaped_text(),
        ) {
            let key = [7u8; KEY_BYTES];
            let crypter = Crypter { key };
            let envelope = |ct: String| json!({"a": [{SIG_KEY: SIG_SECRET, "ciphertext": ct}]});
            // A well-formed secret decrypts to its value.
            let text = value.to_string();
            let stored = envelope(seal(&key, &nonce, text.as_bytes()));
            let v = Value::from_state(&stored, &crypter, "o").unwrap();
            let want = Value::from_plain(&serde_json::from_str::<Json>(&text).unwrap());
            let Value::Object(map) = v else { panic!("{v:?}") };
            prop_assert_eq!(&map["a"], &Value::Array(vec![Value::Secret(Box::new(want))]));
            // Plaintext that is not JSON, or not UTF-8, and noise instead of a ciphertext, are
            // errors that name the place and never show the plaintext.
            for ct in [seal(&key, &nonce, &junk), noise.clone()] {
                match Value::from_state(&envelope(ct), &crypter, "o") {
                    Ok(_) => prop_assert!(serde_json::from_slice::<Json>(&junk).is_ok()),
                    Err(e) => prop_assert_eq!(e.path, "o.a[0]"),
                }
            }
        }
    }
}
