//! Migration 0020 on a database that already holds files: the rebuilt table keeps every
//! row (text included), leaves no file leased, and files left `in_progress` by a server
//! of before the leases are claimable at once.

use super::tests::{in_progress, migrated_from};
use crate::models::VectorStoreFileStatus;
use crate::store::vector_stores::IngestionClaim;
use crate::store::{LeaseHolder, Tenant, VectorStoreStore};

#[tokio::test]
async fn files_of_before_the_leases_keep_their_text_and_are_claimable() {
    let tenant = Tenant::from_api_key("k");
    let t = tenant.as_str();
    let waiting = serde_json::to_string(&in_progress("vs_1", "file-w")).unwrap();
    let mut done = in_progress("vs_1", "file-d");
    done.status = VectorStoreFileStatus::Completed;
    let done = serde_json::to_string(&done).unwrap();
    let populate = [
        format!("INSERT INTO vector_stores (id, tenant, data) VALUES ('vs_1', '{t}', '{{}}')"),
        format!(
            "INSERT INTO vector_store_files (id, tenant, vector_store_id, status, data, content) \
             VALUES ('file-d', '{t}', 'vs_1', 'completed', '{done}', 'the whole text'), \
             ('file-w', '{t}', 'vs_1', 'in_progress', '{waiting}', NULL)"
        ),
    ];
    let populate: Vec<&str> = populate.iter().map(String::as_str).collect();
    let (_dir, store) = migrated_from(19, &populate).await;

    let text = store
        .vector_store_file_text(&tenant, "vs_1", "file-d")
        .await
        .unwrap();
    assert_eq!(text.as_deref(), Some("the whole text"));
    let claim = IngestionClaim::Oldest { limit: 10 };
    let claimed = store
        .claim_ingestion(&LeaseHolder::new("a:1"), 60_000, claim)
        .await
        .unwrap();
    let ids: Vec<&str> = claimed.iter().map(|(_, file)| file.id.as_str()).collect();
    assert_eq!(ids, ["file-w"]);
    assert_eq!(claimed[0].0, tenant);
}
