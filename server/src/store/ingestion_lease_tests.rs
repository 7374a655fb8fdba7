//! Ingestion lease queries every backend must share, run on SQLite (a file) and on
//! PostgreSQL (a fresh schema, when one answers): which files a claim takes, that the
//! finishing write needs the lease and releases it, and two stores on one database (as
//! two instances) racing for the same files.

use crate::models::{FileBatchStatus, VectorStoreFileStatus};
use crate::store::backend_tests::{in_progress, vector_store};
use crate::store::vector_stores::{AttachmentKey, IngestedFile, IngestionClaim};
use crate::store::{LeaseHolder, Tenant, VectorStoreStore};
use crate::vector_stores::model::{FileBatch, FileCounts, VectorStoreFile};

/// A lease that ran out a second ago as soon as it is written.
const RAN_OUT: i64 = -1000;
/// A lease that lasts the whole test.
const LIVE: i64 = 600_000;

fn tenant() -> Tenant {
    Tenant::from_api_key("sk-ingestion-leases")
}

/// Store `vs_1` with `ids` attached, in that order, nobody holding them.
async fn attached(store: &dyn VectorStoreStore, ids: &[&str]) -> Vec<VectorStoreFile> {
    let files: Vec<VectorStoreFile> = ids.iter().map(|id| in_progress("vs_1", id)).collect();
    store
        .insert_vector_store(&tenant(), &vector_store("vs_1"), &files)
        .await
        .unwrap();
    files
}

/// The attaching instance's claim of `files`, for `lease_ms`.
async fn claim_attached(
    store: &dyn VectorStoreStore,
    holder: &LeaseHolder,
    lease_ms: i64,
    files: &[VectorStoreFile],
) -> Vec<String> {
    let tenant = tenant();
    let claim = IngestionClaim::Attached {
        tenant: &tenant,
        files,
    };
    ids(store
        .claim_ingestion(holder, lease_ms, claim)
        .await
        .unwrap())
}

/// A sweep's claim of up to `limit` files, for [`LIVE`].
async fn claim_oldest(
    store: &dyn VectorStoreStore,
    holder: &LeaseHolder,
    limit: usize,
) -> Vec<String> {
    let claim = IngestionClaim::Oldest { limit };
    ids(store.claim_ingestion(holder, LIVE, claim).await.unwrap())
}

fn ids(claimed: Vec<(Tenant, VectorStoreFile)>) -> Vec<String> {
    claimed.into_iter().map(|(_, file)| file.id).collect()
}

/// `file` completed with `chunks`, as `holder`'s ingestion writes it; whether it did.
async fn finish(
    store: &dyn VectorStoreStore,
    holder: Option<&LeaseHolder>,
    file: &VectorStoreFile,
    chunks: &[&str],
) -> bool {
    let mut done = file.clone();
    done.status = VectorStoreFileStatus::Completed;
    let done = IngestedFile {
        file: done,
        text: Some(chunks.join(" ")),
        chunks: chunks.iter().map(|c| (*c).to_owned()).collect(),
    };
    store
        .finish_held_ingestion(&tenant(), &done, None, holder)
        .await
        .unwrap()
}

async fn status(store: &dyn VectorStoreStore, id: &str) -> VectorStoreFileStatus {
    store
        .get_vector_store_file(&tenant(), "vs_1", id)
        .await
        .unwrap()
        .status
}

async fn only_files_nobody_ingests_are_claimable(
    store: &dyn VectorStoreStore,
    _: &dyn VectorStoreStore,
) {
    let files = attached(store, &["f_live", "f_out", "f_done", "f_free"]).await;
    let (a, b) = (LeaseHolder::new("a:1"), LeaseHolder::new("b:1"));
    assert_eq!(
        claim_attached(store, &a, LIVE, &files[..1]).await,
        ["f_live"]
    );
    assert_eq!(
        claim_attached(store, &a, RAN_OUT, &files[1..3]).await,
        ["f_out", "f_done"]
    );
    assert!(finish(store, Some(&a), &files[2], &["done"]).await);

    // Not a file someone holds, nor one that is no longer in progress.
    assert_eq!(claim_oldest(store, &b, 10).await, ["f_out", "f_free"]);
    assert!(
        claim_oldest(store, &b, 10).await.is_empty(),
        "b holds them now"
    );
    assert!(claim_attached(store, &a, LIVE, &files).await.is_empty());
    // A restarted `a` (same instance, new process) takes its earlier life's file at once.
    let restarted = LeaseHolder::new("a:1");
    assert_eq!(claim_oldest(store, &restarted, 10).await, ["f_live"]);
    assert_eq!(
        claim_oldest(store, &LeaseHolder::new("c:1"), 10)
            .await
            .len(),
        0
    );
}

async fn the_finishing_write_needs_the_lease_and_releases_it(
    store: &dyn VectorStoreStore,
    _: &dyn VectorStoreStore,
) {
    let files = attached(store, &["f_1", "f_2"]).await;
    let (a, b, c) = (
        LeaseHolder::new("a:1"),
        LeaseHolder::new("b:1"),
        LeaseHolder::new("c:1"),
    );
    assert_eq!(
        claim_attached(store, &a, RAN_OUT, &files[..1]).await,
        ["f_1"]
    );
    // `a` stalled past its lease; `b` took the file over.
    assert_eq!(claim_oldest(store, &b, 1).await, ["f_1"]);
    let key = [AttachmentKey::of(&files[0])];
    assert_eq!(store.renew_ingestion(&a, &key, LIVE).await.unwrap(), 0);
    assert!(!finish(store, Some(&a), &files[0], &["a's", "chunks"]).await);
    assert_eq!(
        status(store, "f_1").await,
        VectorStoreFileStatus::InProgress
    );
    assert!(finish(store, Some(&b), &files[0], &["b's only chunk"]).await);
    assert_eq!(status(store, "f_1").await, VectorStoreFileStatus::Completed);
    let stats = store
        .keyword_stats(&tenant(), &["vs_1".to_owned()])
        .await
        .unwrap();
    assert_eq!(stats.chunks, 1, "only the holder's chunks were written");
    assert!(!finish(store, Some(&b), &files[0], &["again"]).await);

    // Renewed leases stay; released ones are claimable at once.
    assert_eq!(
        claim_attached(store, &a, RAN_OUT, &files[1..]).await,
        ["f_2"]
    );
    let key = [AttachmentKey::of(&files[1])];
    assert_eq!(store.renew_ingestion(&a, &key, LIVE).await.unwrap(), 1);
    assert!(claim_oldest(store, &c, 10).await.is_empty());
    assert_eq!(store.release_ingestion(&a).await.unwrap(), 1);
    assert_eq!(claim_oldest(store, &c, 10).await, ["f_2"]);
}

async fn cancelled_files_are_neither_claimed_nor_renewed(
    store: &dyn VectorStoreStore,
    _: &dyn VectorStoreStore,
) {
    attached(store, &[]).await;
    let batch = FileBatch {
        id: "vsfb_1".to_owned(),
        object: "vector_store.file_batch".to_owned(),
        created_at: 2,
        status: FileBatchStatus::InProgress,
        vector_store_id: "vs_1".to_owned(),
        file_counts: FileCounts::default(),
    };
    let files = vec![in_progress("vs_1", "f_1"), in_progress("vs_1", "f_2")];
    store
        .attach_files(&tenant(), &files, Some(&batch))
        .await
        .unwrap();
    let a = LeaseHolder::new("a:1");
    assert_eq!(
        claim_attached(store, &a, RAN_OUT, &files).await,
        ["f_1", "f_2"]
    );
    store
        .cancel_file_batch(&tenant(), "vs_1", "vsfb_1")
        .await
        .unwrap();
    let keys: Vec<AttachmentKey> = files.iter().map(AttachmentKey::of).collect();
    assert_eq!(store.renew_ingestion(&a, &keys, LIVE).await.unwrap(), 0);
    assert!(claim_oldest(store, &LeaseHolder::new("b:1"), 10)
        .await
        .is_empty());
    assert!(!finish(store, Some(&a), &files[0], &["late"]).await);
    assert_eq!(status(store, "f_1").await, VectorStoreFileStatus::Cancelled);
}

async fn two_holders_racing_for_the_same_expired_files_never_share_one(
    first: &dyn VectorStoreStore,
    second: &dyn VectorStoreStore,
) {
    let names: Vec<String> = (0..40).map(|n| format!("f_{n:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let files = attached(first, &refs).await;
    let dead = LeaseHolder::new("dead:1");
    claim_attached(first, &dead, RAN_OUT, &files).await;
    let (a, b) = (LeaseHolder::new("a:1"), LeaseHolder::new("b:1"));

    // The first half one file at a time, both naming the same file (two attaching
    // instances); the rest by sweeps.
    let (mut got_a, mut got_b) = (Vec::new(), Vec::new());
    for file in &files[..20] {
        let one = std::slice::from_ref(file);
        let (from_a, from_b) = tokio::join!(
            claim_attached(first, &a, LIVE, one),
            claim_attached(second, &b, LIVE, one)
        );
        assert_eq!(
            from_a.len() + from_b.len(),
            1,
            "{} went to exactly one",
            file.id
        );
        got_a.extend(from_a);
        got_b.extend(from_b);
    }
    for _ in 0..20 {
        let (from_a, from_b) =
            tokio::join!(claim_oldest(first, &a, 2), claim_oldest(second, &b, 2));
        got_a.extend(from_a);
        got_b.extend(from_b);
    }
    assert!(
        got_a.iter().all(|id| !got_b.contains(id)),
        "{got_a:?} {got_b:?}"
    );
    let mut both: Vec<String> = got_a.into_iter().chain(got_b).collect();
    both.sort();
    assert_eq!(both, names, "every file claimed exactly once");
}

// Each test above on both backends, as two instances.
crate::store::two_instances::on_two_instances!(
    only_files_nobody_ingests_are_claimable,
    the_finishing_write_needs_the_lease_and_releases_it,
    cancelled_files_are_neither_claimed_nor_renewed,
    two_holders_racing_for_the_same_expired_files_never_share_one,
);
