//! libsodium sealed boxes (`crypto_box_seal`) with a scope's public key, as GitHub requires
//! for every secret write: base64 in, base64 out; the ciphertext is the plaintext plus 48 bytes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// A scope's public key, as `GET …/secrets/public-key` returns it.
pub(crate) struct SealKey {
    pub(crate) key_id: String,
    key: crypto_box::PublicKey,
}

impl SealKey {
    /// Decode GitHub's `{key_id, key}` (key: base64 of a 32-byte X25519 public key).
    pub(crate) fn from_github(key_id: &str, key: &str) -> Result<Self, String> {
        let bytes = STANDARD
            .decode(key.trim())
            .map_err(|e| format!("the public key is not base64 ({e})"))?;
        let key = crypto_box::PublicKey::from_slice(&bytes)
            .map_err(|_| format!("the public key has {} bytes, not 32 (X25519)", bytes.len()))?;
        Ok(Self {
            key_id: key_id.to_owned(),
            key,
        })
    }

    /// `base64(crypto_box_seal(plaintext, key))`.
    pub(crate) fn seal(&self, plaintext: &str) -> Result<String, String> {
        let sealed = self
            .key
            .seal(&mut rand_core::OsRng, plaintext.as_bytes())
            .map_err(|_| "sealed-box encryption failed".to_owned())?;
        Ok(STANDARD.encode(sealed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_to_the_key_and_adds_48_bytes() {
        let secret = crypto_box::SecretKey::generate(&mut rand_core::OsRng);
        let public = STANDARD.encode(secret.public_key().as_bytes());
        let key = SealKey::from_github("568250167242549743", &public).unwrap();
        for plain in ["", "s3cr3t", "multi\nline ✓", &"x".repeat(48 * 1024)] {
            let sealed = STANDARD.decode(key.seal(plain).unwrap()).unwrap();
            assert_eq!(sealed.len(), plain.len() + 48);
            assert_eq!(secret.unseal(&sealed).unwrap(), plain.as_bytes());
        }
        // Two seals of the same value differ (fresh ephemeral key each time).
        assert_ne!(key.seal("same").unwrap(), key.seal("same").unwrap());
        assert!(SealKey::from_github("1", "AAAA").is_err());
        assert!(SealKey::from_github("1", "!!").is_err());
    }
}
