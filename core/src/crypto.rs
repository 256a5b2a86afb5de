//! Random tokens and digests for sessions, API tokens and task leases.

use sha2::{Digest, Sha256};

/// `bytes` random bytes from the operating system, as lowercase hex.
///
/// # Panics
/// If the operating system has no randomness to give, which leaves nothing
/// safe to do.
pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut buffer).expect("the operating system's random number generator failed");
    hex::encode(buffer)
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(data: impl AsRef<[u8]>) -> String {
    hex::encode(Sha256::digest(data.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_digests_are_stable() {
        assert_eq!(random_hex(16).len(), 32);
        assert_ne!(random_hex(16), random_hex(16));
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
