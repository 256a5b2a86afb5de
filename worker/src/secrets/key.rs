//! The key that encrypts model secrets at rest on one machine:
//! XChaCha20-Poly1305 (the `chacha20poly1305` crate, RustCrypto), a 256-bit
//! key and a random 192-bit nonce per value, so nonces never repeat in
//! practice. Each value is bound to its model and name as associated data:
//! a stored value moved to another model or name does not decrypt.
//!
//! The key comes from `MODELRUN_SECRETS_KEY` (64 hex digits), or from
//! `<data>/secrets.key`, which the server creates with mode 0600 when it
//! first starts; a key file that other users may read is refused.

use std::fmt;
use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use modelrun_core::crypto::sha256_hex;
use modelrun_core::model_secrets::VaultError;
use modelrun_core::secret::Secret;

/// The format of a sealed value: `v1:<key id>:<base64 of nonce and ciphertext>`.
const VERSION: &str = "v1";
const NONCE_BYTES: usize = 24;

/// The encryption key of this installation's secrets.
#[derive(Clone)]
pub struct SecretsKey {
    cipher: XChaCha20Poly1305,
    /// The first 8 hex digits of the key's SHA-256: names the key in a
    /// sealed value, so a value sealed with another key is recognised.
    id: String,
}

impl fmt::Debug for SecretsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretsKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl SecretsKey {
    /// A key from 64 hex digits.
    pub fn from_hex(text: &str) -> Result<Self, String> {
        let bytes = hex::decode(text.trim())
            .ok()
            .filter(|bytes| bytes.len() == 32)
            .ok_or("the secrets key must be 64 hex digits (256 bits), such as `openssl rand -hex 32` prints")?;
        Ok(Self::from_bytes(&bytes))
    }

    fn from_bytes(bytes: &[u8]) -> Self {
        SecretsKey {
            cipher: XChaCha20Poly1305::new(Key::from_slice(bytes)),
            id: sha256_hex(bytes)[..8].to_owned(),
        }
    }

    /// The key in `path`, or `None` when there is no such file. A file that
    /// other users may read or write is refused, as ssh refuses such a
    /// private key: the key opens every secret, and a copy may already
    /// have been taken.
    pub fn load(path: &Path) -> Result<Option<Self>, String> {
        let describe =
            |error: std::io::Error| format!("the secrets key {}: {error}", path.display());
        let mut file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(describe(error)),
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = file.metadata().map_err(describe)?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(format!(
                    "the secrets key {path} may be read or changed by other users (mode {mode:o}): \
                     make it its owner's alone with `chmod 600 {path}`; if someone else may have \
                     read it, make a new key and set every model secret again (see \
                     docs/security.md)",
                    path = path.display()
                ));
            }
        }
        let mut text = String::new();
        std::io::Read::read_to_string(&mut file, &mut text).map_err(describe)?;
        Self::from_hex(&text)
            .map(Some)
            .map_err(|why| format!("{}: {why}", path.display()))
    }

    /// The key in `path`, created (mode 0600, never replaced) when there is
    /// none: for the server, which owns the data directory.
    pub fn load_or_create(path: &Path) -> Result<Self, String> {
        if let Some(key) = Self::load(path)? {
            return Ok(key);
        }
        let describe =
            |error: std::io::Error| format!("the secrets key {}: {error}", path.display());
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(describe)?;
        }
        let key = modelrun_core::crypto::random_hex(32);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                writeln!(file, "{key}").map_err(describe)?;
                file.sync_all().map_err(describe)?;
                Self::from_hex(&key)
            }
            // Another process created it first: use theirs.
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Self::load(path)?
                .ok_or_else(|| format!("the secrets key {} vanished", path.display())),
            Err(error) => Err(describe(error)),
        }
    }

    /// Encrypts `value` for the secret `name` of `model`.
    pub fn seal(
        &self,
        model: &str,
        name: &str,
        value: &Secret<String>,
    ) -> Result<String, VaultError> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce)
            .map_err(|error| VaultError::Backend(format!("no randomness for a nonce: {error}")))?;
        let aad = associated_data(model, name);
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: value.expose().as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| VaultError::Backend("the value could not be encrypted".to_owned()))?;
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        Ok(format!("{VERSION}:{}:{}", self.id, STANDARD.encode(bytes)))
    }

    /// Decrypts a value sealed by [`SecretsKey::seal`] for `name` of `model`.
    pub fn open(
        &self,
        model: &str,
        name: &str,
        sealed: &str,
    ) -> Result<Secret<String>, VaultError> {
        let unreadable = || {
            VaultError::Key(format!(
                "the secret {name} of {model} cannot be decrypted with the key in use; \
                 set its value again"
            ))
        };
        let mut parts = sealed.splitn(3, ':');
        let (Some(VERSION), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(unreadable());
        };
        if id != self.id {
            return Err(VaultError::Key(format!(
                "the secret {name} of {model} was encrypted with another key (key {id}; the \
                 key in use is {}): restore that key (MODELRUN_SECRETS_KEY or secrets.key in \
                 the data directory), or set the value again",
                self.id
            )));
        }
        let bytes = STANDARD.decode(body).map_err(|_| unreadable())?;
        if bytes.len() < NONCE_BYTES {
            return Err(unreadable());
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let aad = associated_data(model, name);
        let plain = self
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| unreadable())?;
        String::from_utf8(plain)
            .map(Secret::new)
            .map_err(|_| unreadable())
    }
}

fn associated_data(model: &str, name: &str) -> String {
    format!("modelrun-secret\0{model}\0{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_bound_to_their_model_and_name() {
        let key = SecretsKey::from_hex(&"ab".repeat(32)).expect("key");
        let value = Secret::new("postgres://u:p@db/warehouse".to_owned());
        let sealed = key.seal("forecast", "WAREHOUSE_URL", &value).expect("seal");
        assert!(sealed.starts_with("v1:") && !sealed.contains("warehouse"));
        assert_ne!(
            sealed,
            key.seal("forecast", "WAREHOUSE_URL", &value).expect("seal"),
            "fresh nonces"
        );
        let opened = key
            .open("forecast", "WAREHOUSE_URL", &sealed)
            .expect("open");
        assert_eq!(opened.expose(), value.expose());
        assert!(matches!(
            key.open("other", "WAREHOUSE_URL", &sealed),
            Err(VaultError::Key(_))
        ));
        assert!(matches!(
            key.open("forecast", "OTHER", &sealed),
            Err(VaultError::Key(_))
        ));

        let other = SecretsKey::from_hex(&"cd".repeat(32)).expect("key");
        let error = other
            .open("forecast", "WAREHOUSE_URL", &sealed)
            .expect_err("other key");
        assert!(
            error.to_string().contains("encrypted with another key"),
            "{error}"
        );
        assert!(SecretsKey::from_hex("short").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn the_key_file_is_created_once_readable_only_by_its_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("data/secrets.key");
        let first = SecretsKey::load_or_create(&path).expect("created");
        let mode = std::fs::metadata(&path).expect("file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = SecretsKey::load_or_create(&path).expect("read");
        assert_eq!(first.id, again.id);
        assert!(
            !format!("{first:?}").contains(&std::fs::read_to_string(&path).expect("read")[..16])
        );
        assert_eq!(
            SecretsKey::load(&dir.path().join("none.key")).map(|key| key.is_some()),
            Ok(false),
            "loading never creates"
        );
        assert!(!dir.path().join("none.key").exists());

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        for refused in [
            SecretsKey::load(&path).map(|_| ()),
            SecretsKey::load_or_create(&path).map(|_| ()),
        ] {
            let why = refused.expect_err("readable by others");
            assert!(
                why.contains("may be read or changed by other users (mode 644)")
                    && why.contains(&format!("chmod 600 {}", path.display())),
                "{why}"
            );
        }
    }
}
