//! `/v1/uploads`: create, add parts, complete (order, checksum, size), cancel, expiry
//! rules that can be checked without waiting, and tenant isolation; `uploads_limits`
//! adds the declared-size and quota limits on parts and the periodic expiry sweep.

mod limits;

use crate::support::files::{file_id_redaction, hex_id_redaction, FilesApp, Multipart};
use axum::http::StatusCode;
use md5::{Digest, Md5};
use serde_json::{json, Value};
use testkit::{assert_error, timestamp_redaction, KEY, OTHER_KEY};

async fn create_upload(app: &FilesApp, bytes: usize) -> Value {
    let response = app
        .app
        .post(
            "/v1/uploads",
            json!({"purpose": "assistants", "filename": "joined.txt", "bytes": bytes, "mime_type": "text/plain"}),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    assert!(response.text.ends_with("}\n"));
    response.json()
}

async fn add_part_as(
    app: &FilesApp,
    key: &str,
    upload_id: &str,
    bytes: &[u8],
) -> testkit::TestResponse {
    let body = Multipart::new().file("data", "blob", bytes).finish();
    app.post_form_as(key, &format!("/v1/uploads/{upload_id}/parts"), body)
        .await
}

async fn add_part(app: &FilesApp, upload_id: &str, bytes: &[u8]) -> String {
    let response = add_part_as(app, KEY, upload_id, bytes).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    response.json()["id"].as_str().unwrap().to_owned()
}

fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn created_upload_and_part_have_the_recorded_shapes() {
    let app = FilesApp::new().await;
    let upload = create_upload(&app, 8).await;
    assert_eq!(
        upload["expires_at"],
        upload["created_at"].as_i64().unwrap() + 3600
    );
    let id = upload["id"].as_str().unwrap().to_owned();
    insta::assert_json_snapshot!("created_upload", upload, {
        ".id" => hex_id_redaction("upload_"),
        ".created_at" => timestamp_redaction(),
        ".expires_at" => "[created_at + 3600]",
    });
    let part = add_part_as(&app, KEY, &id, b"12345678").await;
    assert!(part.text.ends_with("}\n"));
    insta::assert_json_snapshot!("upload_part", part.json(), {
        ".id" => hex_id_redaction("part_"),
        ".created_at" => timestamp_redaction(),
        ".upload_id" => hex_id_redaction("upload_"),
    });
}

#[tokio::test]
async fn completing_joins_parts_in_the_given_order_into_an_ordinary_file() {
    let app = FilesApp::new().await;
    let upload = create_upload(&app, 11).await;
    let upload_id = upload["id"].as_str().unwrap();
    let world = add_part(&app, upload_id, b" world").await;
    let hello = add_part(&app, upload_id, b"hello").await;
    let completed = app
        .app
        .post(
            &format!("/v1/uploads/{upload_id}/complete"),
            json!({"part_ids": [hello, world], "md5": md5_hex(b"hello world")}),
        )
        .await;
    assert_eq!(completed.status, StatusCode::OK, "{}", completed.text);
    let completed = completed.json();
    insta::assert_json_snapshot!("completed_upload", completed, {
        ".id" => hex_id_redaction("upload_"),
        ".created_at" => timestamp_redaction(),
        ".expires_at" => "[created_at + 3600]",
        ".file.id" => file_id_redaction(),
        ".file.created_at" => timestamp_redaction(),
    });
    assert_eq!(completed["file"]["created_at"], upload["created_at"]);
    let file_id = completed["file"]["id"].as_str().unwrap();
    let (_, _, bytes) = app.get_bytes(&format!("/v1/files/{file_id}/content")).await;
    assert_eq!(bytes, b"hello world");
    let listed = app.app.get("/v1/files").await.json();
    assert_eq!(listed["data"][0], completed["file"]);
    // Parts are gone; only the file's bytes remain.
    assert_eq!(app.stored_paths().len(), 1, "{:?}", app.stored_paths());

    let again = app
        .app
        .post(
            &format!("/v1/uploads/{upload_id}/complete"),
            json!({"part_ids": [hello, world]}),
        )
        .await;
    assert_error(
        &again,
        400,
        &format!("Upload {upload_id} is completed: only a pending Upload can be changed."),
        None,
        None,
    );
}

#[tokio::test]
async fn a_wrong_checksum_or_size_completes_nothing() {
    let app = FilesApp::new().await;
    let upload = create_upload(&app, 5).await;
    let upload_id = upload["id"].as_str().unwrap();
    let part = add_part(&app, upload_id, b"hello").await;
    let path = format!("/v1/uploads/{upload_id}/complete");

    let wrong_md5 = app
        .app
        .post(&path, json!({"part_ids": [part], "md5": md5_hex(b"other")}))
        .await;
    assert_eq!(
        wrong_md5.status,
        StatusCode::BAD_REQUEST,
        "{}",
        wrong_md5.text
    );
    assert_eq!(wrong_md5.json()["error"]["param"], "md5");

    let short = app.app.post(&path, json!({"part_ids": []})).await;
    assert_error(
        &short,
        400,
        "The Upload was created with bytes=5, but the given parts total 0 bytes.",
        Some("part_ids"),
        None,
    );
    let unknown = app
        .app
        .post(&path, json!({"part_ids": ["part_nope"]}))
        .await;
    assert_error(
        &unknown,
        400,
        "No such Part object: part_nope",
        Some("part_ids"),
        None,
    );
    let twice = app.app.post(&path, json!({"part_ids": [part, part]})).await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST);
    let missing = app.app.post(&path, json!({})).await;
    assert_error(
        &missing,
        400,
        "Missing required parameter: 'part_ids'.",
        Some("part_ids"),
        Some("missing_required_parameter"),
    );
    assert_eq!(app.app.get("/v1/files").await.json()["data"], json!([]));
    // Only the part remains on disk: no assembled file, no temporary leftovers.
    assert_eq!(app.stored_paths().len(), 1, "{:?}", app.stored_paths());

    let done = app
        .app
        .post(&path, json!({"part_ids": [part], "md5": md5_hex(b"hello")}))
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
}

#[tokio::test]
async fn cancelling_drops_the_parts_and_closes_the_upload() {
    let app = FilesApp::new().await;
    let upload = create_upload(&app, 4).await;
    let upload_id = upload["id"].as_str().unwrap();
    add_part(&app, upload_id, b"ab").await;
    let cancelled = app
        .app
        .call(
            axum::http::Method::POST,
            &format!("/v1/uploads/{upload_id}/cancel"),
            None,
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);
    let mut expected = upload.clone();
    expected["status"] = json!("cancelled");
    assert_eq!(cancelled.json(), expected);
    assert!(app.stored_paths().is_empty(), "{:?}", app.stored_paths());

    let late = add_part_as(&app, KEY, upload_id, b"cd").await;
    assert_error(
        &late,
        400,
        &format!("Upload {upload_id} is cancelled: only a pending Upload can be changed."),
        None,
        None,
    );
    assert!(app.stored_paths().is_empty(), "{:?}", app.stored_paths());
}

#[tokio::test]
async fn create_upload_validates_its_body() {
    let app = FilesApp::new().await;
    let base = json!({"purpose": "assistants", "filename": "a.txt", "bytes": 1, "mime_type": "text/plain"});
    for (key, message, param, code) in [
        (
            "bytes",
            "Missing required parameter: 'bytes'.",
            "bytes",
            "missing_required_parameter",
        ),
        (
            "filename",
            "Missing required parameter: 'filename'.",
            "filename",
            "missing_required_parameter",
        ),
        (
            "mime_type",
            "Missing required parameter: 'mime_type'.",
            "mime_type",
            "missing_required_parameter",
        ),
        (
            "purpose",
            "Missing required parameter: 'purpose'.",
            "purpose",
            "missing_required_parameter",
        ),
    ] {
        let mut body = base.clone();
        body.as_object_mut().unwrap().remove(key);
        let response = app.app.post("/v1/uploads", body).await;
        assert_error(&response, 400, message, Some(param), Some(code));
    }
    let mut body = base.clone();
    body["purpose"] = json!("world_domination");
    let response = app.app.post("/v1/uploads", body).await;
    assert_error(
        &response,
        400,
        "'world_domination' is not one of ['fine-tune', 'assistants', 'batch', 'user_data', 'vision', 'evals'] - 'purpose'",
        Some("purpose"),
        None,
    );
    let mut body = base.clone();
    body["bytes"] = json!(9_000_000_000u64);
    assert_eq!(
        app.app.post("/v1/uploads", body).await.status,
        StatusCode::BAD_REQUEST
    );
    let mut body = base;
    body["colour"] = json!("red");
    let response = app.app.post("/v1/uploads", body).await;
    assert_error(
        &response,
        400,
        "Unknown parameter: 'colour'.",
        Some("colour"),
        Some("unknown_parameter"),
    );
}

#[tokio::test]
async fn an_upload_with_expires_after_gives_an_expiring_file() {
    let app = FilesApp::new().await;
    let upload = app
        .app
        .post(
            "/v1/uploads",
            json!({"purpose": "assistants", "filename": "t.txt", "bytes": 1, "mime_type": "text/plain",
                   "expires_after": {"anchor": "created_at", "seconds": 7200}}),
        )
        .await
        .json();
    let upload_id = upload["id"].as_str().unwrap();
    let part = add_part(&app, upload_id, b"x").await;
    let completed = app
        .app
        .post(
            &format!("/v1/uploads/{upload_id}/complete"),
            json!({"part_ids": [part]}),
        )
        .await
        .json();
    assert_eq!(
        completed["file"]["expires_at"],
        upload["created_at"].as_i64().unwrap() + 7200
    );
}

#[tokio::test]
async fn unknown_uploads_and_other_tenants_get_404() {
    let app = FilesApp::new().await;
    let upload = create_upload(&app, 2).await;
    let upload_id = upload["id"].as_str().unwrap();
    let response = add_part_as(&app, OTHER_KEY, upload_id, b"ab").await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(
        response.message(),
        format!("No such Upload object: {upload_id}")
    );
    assert_eq!(response.json()["error"]["param"], "id");
    for action in ["complete", "cancel"] {
        let response = app
            .app
            .call_as(
                OTHER_KEY,
                axum::http::Method::POST,
                &format!("/v1/uploads/{upload_id}/{action}"),
                Some(r#"{"part_ids": []}"#),
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::NOT_FOUND,
            "{action}: {}",
            response.text
        );
    }
    let unknown = app
        .app
        .call(
            axum::http::Method::POST,
            "/v1/uploads/upload_nope/cancel",
            None,
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    // The owner's upload is untouched.
    add_part(&app, upload_id, b"ab").await;
    assert!(app.stored_paths().iter().all(|p| !p.starts_with("files")));
}

#[tokio::test]
async fn overdue_uploads_expire_and_lose_their_parts() {
    use server::files::expiry::expire_overdue_uploads;
    use server::files::DataDir;
    use server::models::upload::Upload;
    use server::models::UploadStatus;
    use server::store::{Store, Tenant, UploadRecord};

    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path());
    let database = testkit::TestDatabase::new().await;
    let store = database.connect().await;
    let tenant = Tenant::from_api_key("k");
    let now = server::ids::unix_now();
    let upload = Upload {
        id: "upload_old".into(),
        object: "upload".into(),
        bytes: 1,
        created_at: now - 3601,
        filename: "f".into(),
        purpose: "assistants".into(),
        status: UploadStatus::Pending,
        expires_at: now - 1,
        file: None,
    };
    store
        .insert_upload(
            &tenant,
            &UploadRecord {
                upload,
                file_expires_after: None,
            },
        )
        .await
        .unwrap();
    let part = data.part_path(&tenant, "upload_old", "part_a");
    std::fs::create_dir_all(part.parent().unwrap()).unwrap();
    std::fs::write(&part, b"x").unwrap();
    let store: &dyn Store = store.as_ref();
    expire_overdue_uploads(store, &data).await.unwrap();
    let stored = store.get_upload(&tenant, "upload_old").await.unwrap();
    assert_eq!(stored.upload.status, UploadStatus::Expired);
    assert!(!part.exists());
}
