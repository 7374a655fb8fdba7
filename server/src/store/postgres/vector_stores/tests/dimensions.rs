//! One vector dimension per store, on both backends: the first vectors record it, a
//! file of another dimension (or mixing dimensions) is a `Conflict` that writes nothing,
//! and on PostgreSQL concurrent first ingestions of two dimensions cannot both win.

use futures::future::join_all;

use super::{in_progress, sqlite, vector_store};
use crate::models::VectorStoreFileStatus;
use crate::store::postgres::test_store;
use crate::store::vector_stores::{ChunkVectors, IngestedFile, VectorStoreStore};
use crate::store::{StoreError, StoreResult, Tenant};

/// Completes `file_id` of `store_id` with one chunk per vector.
async fn ingest<S: VectorStoreStore>(
    store: &S,
    tenant: &Tenant,
    store_id: &str,
    file_id: &str,
    vectors: Vec<Vec<f32>>,
) -> StoreResult<bool> {
    let mut file = in_progress(store_id, file_id);
    file.status = VectorStoreFileStatus::Completed;
    let chunks: Vec<String> = (0..vectors.len()).map(|n| format!("chunk {n}")).collect();
    let ingested = IngestedFile {
        file,
        text: Some(chunks.join(" ")),
        chunks,
    };
    let vectors = ChunkVectors {
        model: "m".to_owned(),
        vectors,
    };
    store
        .finish_ingestion_with_vectors(tenant, &ingested, Some(&vectors))
        .await
}

/// What each step of the scenario answered: taken, or the conflict's message; then each
/// file's status and the store's chunk count.
async fn scenario<S: VectorStoreStore>(
    store: &S,
) -> (Vec<Result<bool, String>>, Vec<VectorStoreFileStatus>, u64) {
    let tenant = Tenant::from_api_key("k");
    let files: Vec<_> = ["file-a", "file-b", "file-c", "file-d"]
        .iter()
        .map(|id| in_progress("vs_1", id))
        .collect();
    store
        .insert_vector_store(&tenant, &vector_store("vs_1"), &files)
        .await
        .unwrap();
    let steps = [
        ("file-a", vec![vec![0.6, 0.8], vec![1.0, 0.0]]),
        ("file-b", vec![vec![1.0, 0.0, 0.0]]),
        ("file-c", vec![vec![1.0, 0.0], vec![1.0, 0.0, 0.0]]),
        ("file-d", vec![vec![0.0, 1.0]]),
    ];
    let mut answers = Vec::new();
    for (file_id, vectors) in steps {
        answers.push(
            match ingest(store, &tenant, "vs_1", file_id, vectors).await {
                Ok(taken) => Ok(taken),
                Err(StoreError::Conflict(message)) => Err(message),
                Err(other) => panic!("{file_id}: {other:?}"),
            },
        );
    }
    let mut statuses = Vec::new();
    for file in &files {
        let stored = store
            .get_vector_store_file(&tenant, "vs_1", &file.id)
            .await
            .unwrap();
        statuses.push(stored.status);
    }
    let chunks = store
        .keyword_stats(&tenant, &["vs_1".to_owned()])
        .await
        .unwrap()
        .chunks;
    (answers, statuses, chunks)
}

#[tokio::test]
async fn a_store_keeps_the_dimension_of_its_first_vectors() {
    let expected = (
        vec![
            Ok(true),
            Err(
                "vector store 'vs_1' holds 2-dimension vectors and the embedding model \
                 answered 3 dimensions"
                    .to_owned(),
            ),
            Err("the vectors of one file have different dimensions".to_owned()),
            Ok(true),
        ],
        vec![
            VectorStoreFileStatus::Completed,
            VectorStoreFileStatus::InProgress,
            VectorStoreFileStatus::InProgress,
            VectorStoreFileStatus::Completed,
        ],
        3,
    );
    assert_eq!(scenario(&sqlite().await).await, expected);
    let Some(pg) = test_store().await else {
        return;
    };
    assert_eq!(scenario(&*pg).await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_ingestions_agree_on_one_dimension() {
    let Some(pg) = test_store().await else {
        return;
    };
    let tenant = Tenant::from_api_key("k");
    let files: Vec<_> = (0..8)
        .map(|n| in_progress("vs_1", &format!("file-{n}")))
        .collect();
    pg.insert_vector_store(&tenant, &vector_store("vs_1"), &files)
        .await
        .unwrap();
    // Even files embed in 2 dimensions, odd ones in 3, all at once.
    let outcomes = join_all((0..8).map(|n| {
        let (store, tenant) = ((*pg).clone(), tenant.clone());
        tokio::spawn(async move {
            let dimensions = 2 + n % 2;
            let vector = vec![1.0; dimensions];
            let taken = ingest(&store, &tenant, "vs_1", &format!("file-{n}"), vec![vector]).await;
            (dimensions, taken)
        })
    }))
    .await;
    let outcomes: Vec<(usize, StoreResult<bool>)> =
        outcomes.into_iter().map(|o| o.unwrap()).collect();
    let winners: Vec<usize> = outcomes
        .iter()
        .filter(|(_, taken)| matches!(taken, Ok(true)))
        .map(|(dimensions, _)| *dimensions)
        .collect();
    assert_eq!(winners.len(), 4, "{outcomes:?}");
    assert!(winners.iter().all(|d| *d == winners[0]), "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .filter(|(d, _)| *d != winners[0])
            .all(|(_, taken)| matches!(taken, Err(StoreError::Conflict(_)))),
        "{outcomes:?}"
    );
    let recorded: Option<i32> =
        sqlx::query_scalar("SELECT embedding_dimensions FROM vector_stores WHERE id = 'vs_1'")
            .fetch_one(pg.pool())
            .await
            .unwrap();
    assert_eq!(recorded, i32::try_from(winners[0]).ok());
}
