//! sha256 helpers: every byte of a pinned document is checked against the pin before use.

use sha2::{Digest, Sha256};

use super::SpecError;

/// Lower-case hex sha256 of `bytes`.
pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Fails with [`SpecError::HashMismatch`] unless `bytes` hash to `expected`.
pub(super) fn verify(what: &str, bytes: &[u8], expected: &str) -> Result<(), SpecError> {
    let actual = sha256_hex(bytes);
    if actual == expected {
        Ok(())
    } else {
        Err(SpecError::HashMismatch {
            what: what.to_string(),
            expected: expected.to_string(),
            actual,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_the_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_mismatch_names_both_hashes() {
        let err = verify("thing", b"abc", &"0".repeat(64)).unwrap_err();
        assert!(err.to_string().contains("ba7816bf") && err.to_string().contains("thing"));
    }
}
