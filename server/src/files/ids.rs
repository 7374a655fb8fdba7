//! Ids of the file service, whose shapes differ from the Assistants API's:
//! `file-` + 22 base62 (2025), `upload_` and `part_` + 32 hex.

use rand::distributions::Alphanumeric;
use rand::Rng;

/// Random base62 characters after `file-`.
pub const FILE_ID_RANDOM_LEN: usize = 22;

/// A fresh file id.
pub fn new_file_id() -> String {
    let random: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(FILE_ID_RANDOM_LEN)
        .map(char::from)
        .collect();
    format!("file-{random}")
}

/// A fresh upload id.
pub fn new_upload_id() -> String {
    format!("upload_{:032x}", rand::random::<u128>())
}

/// A fresh upload part id.
pub fn new_part_id() -> String {
    format!("part_{:032x}", rand::random::<u128>())
}

/// Whether `id` can name an object this server stores on disk: ids become file
/// names, so anything but the shapes above is refused before touching the disk.
pub fn is_safe_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_openais_shapes() {
        let file = new_file_id();
        assert_eq!(file.len(), 5 + 22);
        assert!(file.starts_with("file-") && is_safe_id(&file));
        let upload = new_upload_id();
        assert!(upload.starts_with("upload_") && upload.len() == 7 + 32);
        assert!(new_part_id().starts_with("part_"));
        assert!(!is_safe_id("../etc"));
    }
}
