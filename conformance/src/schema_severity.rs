//! How much a schema error of a response matters. A key the document does not declare where it
//! says `additionalProperties: false` (e.g. `VectorStoreSearchResultsPage`) is an extra key like
//! any other: OpenAI adds fields over time and clients ignore them, so it is NON-STRICT as the
//! recorded-body comparison makes extra keys, never a FAIL. Every other schema error FAILs.

use crate::results::FindingKind;
use crate::verdict::Verdict;

/// The finding kind and verdict of a schema error found by the keyword at `schema_path`.
pub fn classify(schema_path: &str) -> (FindingKind, Verdict) {
    if schema_path.ends_with("/additionalProperties") {
        (FindingKind::ExtraKey, Verdict::NonStrict)
    } else {
        (FindingKind::Schema, Verdict::Fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undeclared_keys_are_non_strict_and_other_errors_fail() {
        assert_eq!(
            classify("/$defs/VectorStoreSearchResultsPage/additionalProperties"),
            (FindingKind::ExtraKey, Verdict::NonStrict)
        );
        assert_eq!(
            classify("/$defs/RunObject/properties/status/enum"),
            (FindingKind::Schema, Verdict::Fail)
        );
        assert_eq!(
            classify("/$defs/Page/properties/additionalProperties/type"),
            (FindingKind::Schema, Verdict::Fail)
        );
    }
}
