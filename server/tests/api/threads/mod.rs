//! `/v1/threads`: create (empty, with metadata, with initial messages and tool
//! resources), get (with OpenAI's `tool_resources` quirk), modify and delete.

mod messages;
mod runs;

use axum::http::{Method, StatusCode};
use serde_json::json;
use testkit::{assert_error, id_redaction, timestamp_redaction, TestApp};

#[tokio::test]
async fn create_without_body_gives_an_empty_thread() {
    let app = TestApp::new().await;
    let response = app.call(Method::POST, "/v1/threads", None).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    insta::assert_json_snapshot!(response.json(), {
        ".id" => id_redaction("thread_"),
        ".created_at" => timestamp_redaction(),
    });
}

#[tokio::test]
async fn retrieve_fills_in_code_interpreter_but_create_and_modify_do_not() {
    let app = TestApp::new().await;
    let created = app
        .create(
            "/v1/threads",
            json!({"messages": [], "metadata": {"threadMetadata": "threadMetadataValue"}}),
        )
        .await;
    assert_eq!(created["tool_resources"], json!({}));
    let path = format!("/v1/threads/{}", created["id"].as_str().unwrap());

    let fetched = app.get(&path).await.json();
    insta::assert_json_snapshot!("retrieved_thread", fetched, {
        ".id" => id_redaction("thread_"),
        ".created_at" => timestamp_redaction(),
    });

    let modified = app
        .post(
            &path,
            json!({"metadata": {"threadMetadata": "newThreadMetadataValue"}}),
        )
        .await
        .json();
    assert_eq!(modified["tool_resources"], json!({}));
    assert_eq!(
        modified["metadata"],
        json!({"threadMetadata": "newThreadMetadataValue"})
    );
    assert_eq!(modified["created_at"], created["created_at"]);
}

#[tokio::test]
async fn explicit_tool_resources_are_echoed() {
    let files = crate::support::files::FilesApp::new().await;
    let app = &files.app;
    let file = files.upload("data.csv", "assistants", b"x,y\n1,2\n").await;
    let store = app.create("/v1/vector_stores", json!({})).await;
    let resources = json!({"code_interpreter": {"file_ids": [file["id"]]}});
    let created = app
        .create("/v1/threads", json!({"tool_resources": resources}))
        .await;
    assert_eq!(created["tool_resources"], resources);
    let path = format!("/v1/threads/{}", created["id"].as_str().unwrap());
    assert_eq!(app.get(&path).await.json()["tool_resources"], resources);

    let search = json!({"file_search": {"vector_store_ids": [store["id"]]}});
    assert_eq!(
        app.post(&path, json!({"tool_resources": search}))
            .await
            .json()["tool_resources"],
        search
    );
}

#[tokio::test]
async fn initial_messages_keep_their_order_and_share_created_at() {
    let app = TestApp::new().await;
    let thread = app
        .create(
            "/v1/threads",
            json!({"messages": [
                {"role": "user", "content": "Hello, world!"},
                {"role": "user", "content": [
                    {"type": "text", "text": "Can you describe this image for me?"},
                    {"type": "image_url", "image_url": {"url": "https://test.openai.com/image.png"}}
                ], "metadata": {"messageMetadata": "messageMetadataValue"}}
            ]}),
        )
        .await;
    let thread_id = thread["id"].as_str().unwrap();
    let listed = app
        .get(&format!("/v1/threads/{thread_id}/messages?order=asc"))
        .await
        .json();
    let data = listed["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["created_at"], thread["created_at"]);
    assert_eq!(data[1]["created_at"], thread["created_at"]);
    insta::assert_json_snapshot!(listed, {
        ".data[].id" => id_redaction("msg_"),
        ".first_id" => id_redaction("msg_"),
        ".last_id" => id_redaction("msg_"),
        ".data[].thread_id" => id_redaction("thread_"),
        ".data[].created_at" => timestamp_redaction(),
    });
}

#[tokio::test]
async fn a_bad_initial_message_writes_nothing() {
    let app = TestApp::new().await;
    let response = app
        .post("/v1/threads", json!({"messages": [{"role": "user", "content": "ok"}, {"role": "system", "content": "no"}]}))
        .await;
    assert_error(
        &response,
        400,
        "Invalid value: 'system'. Supported values are: 'user' and 'assistant'.",
        Some("messages[1].role"),
        Some("invalid_value"),
    );
}

#[tokio::test]
async fn deleting_a_thread_deletes_its_messages() {
    let app = TestApp::new().await;
    let thread = app
        .create(
            "/v1/threads",
            json!({"messages": [{"role": "user", "content": "first"}]}),
        )
        .await;
    let thread_id = thread["id"].as_str().unwrap();
    let message = app
        .create(
            &format!("/v1/threads/{thread_id}/messages"),
            json!({"role": "user", "content": "second"}),
        )
        .await;
    let message_id = message["id"].as_str().unwrap();

    let deleted = app.delete(&format!("/v1/threads/{thread_id}")).await;
    assert_eq!(
        deleted.json(),
        json!({"id": thread_id, "object": "thread.deleted", "deleted": true})
    );

    let not_found = format!("No thread found with id '{thread_id}'.");
    assert_error(
        &app.get(&format!("/v1/threads/{thread_id}")).await,
        404,
        &not_found,
        None,
        None,
    );
    assert_error(
        &app.get(&format!("/v1/threads/{thread_id}/messages")).await,
        404,
        &not_found,
        None,
        None,
    );
    assert_error(
        &app.get(&format!("/v1/threads/{thread_id}/messages/{message_id}"))
            .await,
        404,
        &not_found,
        None,
        None,
    );
}

#[tokio::test]
async fn unknown_and_malformed_ids() {
    let app = TestApp::new().await;
    let id = "thread_NoSuchThread000000000000";
    let message = format!("No thread found with id '{id}'.");
    assert_error(
        &app.get(&format!("/v1/threads/{id}")).await,
        404,
        &message,
        None,
        None,
    );
    assert_error(
        &app.post(&format!("/v1/threads/{id}"), json!({})).await,
        404,
        &message,
        None,
        None,
    );
    assert_error(
        &app.delete(&format!("/v1/threads/{id}")).await,
        404,
        &message,
        None,
        None,
    );
    assert_error(
        &app.get("/v1/threads/undefined").await,
        400,
        "Invalid 'thread_id': 'undefined'. Expected an ID that begins with 'thread'.",
        None,
        None,
    );
}

#[tokio::test]
async fn metadata_limits() {
    let app = TestApp::new().await;
    let seventeen: serde_json::Map<String, serde_json::Value> = (0..17)
        .map(|i| (format!("key_{i:02}"), json!("v")))
        .collect();
    assert_error(
        &app.post("/v1/threads", json!({"metadata": seventeen})).await,
        400,
        "Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got an object with 17 properties instead.",
        Some("metadata"),
        Some("object_above_max_properties"),
    );
    let at_limits = json!({"k".repeat(64): "v".repeat(512)});
    assert_eq!(
        app.post("/v1/threads", json!({"metadata": at_limits}))
            .await
            .status,
        200
    );
    assert_eq!(
        app.post("/v1/threads", json!({"metadata": {"k".repeat(65): "v"}}))
            .await
            .status,
        400
    );
    assert_eq!(
        app.post("/v1/threads", json!({"metadata": {"k": "v".repeat(513)}}))
            .await
            .status,
        400
    );

    let thread = app
        .create("/v1/threads", json!({"metadata": {"modified": "false"}}))
        .await;
    let path = format!("/v1/threads/{}", thread["id"].as_str().unwrap());
    assert_error(
        &app.post(&path, json!({"metadata": {"modified": true}}))
            .await,
        400,
        "Invalid type for 'metadata.modified': expected a string, but got a boolean instead.",
        Some("metadata.modified"),
        Some("invalid_type"),
    );
    assert_eq!(
        app.get(&path).await.json()["metadata"],
        json!({"modified": "false"}),
        "nothing was written"
    );
}
