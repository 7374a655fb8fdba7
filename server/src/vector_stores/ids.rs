//! Ids of vector stores (`vs_` + 32 hex) and file batches (`vsfb_` + 32 hex), the
//! 2025 shapes.

use rand::Rng;

/// A fresh vector store id.
pub fn new_vector_store_id() -> String {
    format!("vs_{:032x}", rand::thread_rng().gen::<u128>())
}

/// A fresh file batch id.
pub fn new_file_batch_id() -> String {
    format!("vsfb_{:032x}", rand::thread_rng().gen::<u128>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_2025_shapes() {
        let id = new_vector_store_id();
        assert_eq!(id.len(), 3 + 32);
        assert!(id[3..].bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(new_file_batch_id().starts_with("vsfb_"));
    }
}
