//! `/v1/threads/{thread_id}/messages`: create (every content form, attachments),
//! list (order, cursors, ties on `created_at`), get, modify (the `file_ids` quirk), delete.

use crate::support::files::{file_id_redaction, FilesApp};
use rstest::rstest;
use serde_json::{json, Value};
use testkit::{assert_error, id_redaction, timestamp_redaction, TestApp, OTHER_KEY};

async fn new_thread(app: &TestApp) -> String {
    app.create("/v1/threads", json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn create_get_modify_delete() {
    let app = TestApp::new().await;
    let thread = new_thread(&app).await;
    let messages = format!("/v1/threads/{thread}/messages");
    let created = app
        .create(&messages, json!({"role": "user", "content": "Goodbye, world!", "metadata": {"messageMetadata": "messageMetadataValue"}}))
        .await;
    insta::assert_json_snapshot!("created_message", created, {
        ".id" => id_redaction("msg_"),
        ".thread_id" => id_redaction("thread_"),
        ".created_at" => timestamp_redaction(),
    });
    let id = created["id"].as_str().unwrap();
    let path = format!("{messages}/{id}");
    assert_eq!(app.get(&path).await.json(), created);

    let modified = app
        .post(&path, json!({"metadata": {"messageMetadata": "newValue"}}))
        .await;
    insta::assert_json_snapshot!("modified_message", modified.json(), {
        ".id" => id_redaction("msg_"),
        ".thread_id" => id_redaction("thread_"),
        ".created_at" => timestamp_redaction(),
    });
    let listed = app.get(&messages).await.json();
    assert_eq!(
        listed["data"][0]["attachments"],
        json!([]),
        "list shows attachments again"
    );
    assert_eq!(
        listed["data"][0]["metadata"],
        json!({"messageMetadata": "newValue"})
    );

    let deleted = app.delete(&path).await.json();
    assert_eq!(
        deleted,
        json!({"id": id, "object": "thread.message.deleted", "deleted": true})
    );
    assert_error(
        &app.get(&path).await,
        404,
        &format!("No message found with id '{id}'."),
        None,
        None,
    );
    assert_eq!(app.get(&messages).await.json()["data"], json!([]));
}

#[tokio::test]
async fn content_forms_and_attachments() {
    let files = FilesApp::new().await;
    let app = &files.app;
    let file = files.upload("data.txt", "assistants", b"some data").await;
    let file_id = file["id"].as_str().unwrap();
    let thread = new_thread(app).await;
    let created = app
        .create(
            &format!("/v1/threads/{thread}/messages"),
            json!({"role": "user", "content": [
                {"type": "text", "text": "Describe these"},
                {"type": "image_url", "image_url": {"url": "https://test.openai.com/image.png", "detail": "low"}},
                {"type": "image_file", "image_file": {"file_id": "file-abc"}}
            ], "attachments": [
                {"file_id": file_id, "tools": [{"type": "file_search"}]},
                {"file_id": file_id, "tools": [{"type": "code_interpreter"}]}
            ]}),
        )
        .await;
    assert_eq!(created["attachments"][1]["file_id"], file_id);
    insta::assert_json_snapshot!(created, {
        ".id" => id_redaction("msg_"),
        ".thread_id" => id_redaction("thread_"),
        ".created_at" => timestamp_redaction(),
        ".attachments[].file_id" => file_id_redaction(),
    });
}

#[tokio::test]
async fn attachments_must_name_files_of_this_key() {
    let files = FilesApp::new().await;
    let app = &files.app;
    let mine = files.upload("mine.txt", "assistants", b"mine").await;
    let mine = mine["id"].as_str().unwrap();
    let theirs = files
        .upload_as(OTHER_KEY, "theirs.txt", "assistants", b"theirs")
        .await;
    let theirs = theirs["id"].as_str().unwrap();
    let thread = new_thread(app).await;
    let messages = format!("/v1/threads/{thread}/messages");
    let attach = |ids: &[&str]| -> Value {
        let items: Vec<Value> = ids
            .iter()
            .map(|id| json!({"file_id": id, "tools": [{"type": "code_interpreter"}]}))
            .collect();
        json!({"role": "user", "content": "x", "attachments": items})
    };
    for (ids, bad) in [
        (vec![mine, "file-nope"], "file-nope"),
        (vec![theirs], theirs),
    ] {
        let index = ids.len() - 1;
        assert_error(
            &app.post(&messages, attach(&ids)).await,
            400,
            &format!("No file found with id '{bad}'."),
            Some(&format!("attachments[{index}].file_id")),
            None,
        );
    }
    let eleven = [mine; 11];
    assert_error(
        &app.post(&messages, attach(&eleven)).await,
        400,
        "Invalid 'attachments': array too long. Expected an array with maximum length 10, but got an array with length 11 instead.",
        Some("attachments"),
        Some("array_above_max_length"),
    );
    assert_eq!(app.get(&messages).await.json()["data"], json!([]));
    let created = app.post(&messages, attach(&[mine; 10])).await;
    assert_eq!(created.status.as_u16(), 200, "{}", created.text);

    let bad_thread = json!({"messages": [
        {"role": "user", "content": "fine"},
        {"role": "user", "content": "x", "attachments": [{"file_id": "file-nope", "tools": []}]}
    ]});
    assert_error(
        &app.post("/v1/threads", bad_thread).await,
        400,
        "No file found with id 'file-nope'.",
        Some("messages[1].attachments[0].file_id"),
        None,
    );
}

#[tokio::test]
async fn list_orders_by_insertion_when_created_at_ties() {
    let app = TestApp::new().await;
    let thread = app
        .create(
            "/v1/threads",
            json!({"messages": [
                {"role": "user", "content": "Hello, assistant!"},
                {"role": "assistant", "content": "Hi there, user."}
            ]}),
        )
        .await;
    let thread_id = thread["id"].as_str().unwrap();
    let messages = format!("/v1/threads/{thread_id}/messages");
    let listed = app.get(&messages).await.json();
    let roles: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        ["assistant", "user"],
        "newest first, ties broken by insertion"
    );
    assert_eq!(listed["data"][0]["assistant_id"], Value::Null);

    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            app.create(
                &messages,
                json!({"role": "user", "content": format!("m{i}")}),
            )
            .await["id"]
                .clone(),
        );
    }
    let page = app.get(&format!("{messages}?limit=2")).await.json();
    assert_eq!(page["data"][0]["id"], ids[2]);
    assert_eq!(page["data"][1]["id"], ids[1]);
    assert_eq!(page["has_more"], true);
    let next = app
        .get(&format!(
            "{messages}?limit=2&after={}",
            page["last_id"].as_str().unwrap()
        ))
        .await
        .json();
    assert_eq!(next["data"][0]["id"], ids[0]);
    assert_eq!(next["data"][1]["role"], "assistant");
    assert_eq!(
        next["has_more"], true,
        "the first user message is still ahead"
    );
    let last = app
        .get(&format!(
            "{messages}?limit=2&after={}",
            next["last_id"].as_str().unwrap()
        ))
        .await
        .json();
    assert_eq!(last["data"].as_array().unwrap().len(), 1);
    assert_eq!(last["has_more"], false);
}

#[rstest]
#[case(json!({"content": "x"}), "Missing required parameter: 'role'.", "role", "missing_required_parameter")]
#[case(json!({"role": "user"}), "Missing required parameter: 'content'.", "content", "missing_required_parameter")]
#[case(json!({"role": "user", "content": "x", "file_ids": []}), "Unknown parameter: 'file_ids'.", "file_ids", "unknown_parameter")]
#[case(
    json!({"role": "user", "content": "x", "metadata": {"modified": true}}),
    "Invalid type for 'metadata.modified': expected a string, but got a boolean instead.",
    "metadata.modified",
    "invalid_type"
)]
#[tokio::test]
async fn create_rejects_bad_bodies(
    #[case] body: Value,
    #[case] message: &str,
    #[case] param: &str,
    #[case] code: &str,
) {
    let app = TestApp::new().await;
    let thread = new_thread(&app).await;
    let messages = format!("/v1/threads/{thread}/messages");
    assert_error(
        &app.post(&messages, body).await,
        400,
        message,
        Some(param),
        Some(code),
    );
    assert_eq!(app.get(&messages).await.json()["data"], json!([]));
}

#[tokio::test]
async fn messages_of_another_thread_are_not_found() {
    let app = TestApp::new().await;
    let first = new_thread(&app).await;
    let second = new_thread(&app).await;
    let message = app
        .create(
            &format!("/v1/threads/{first}/messages"),
            json!({"role": "user", "content": "x"}),
        )
        .await;
    let id = message["id"].as_str().unwrap();
    assert_error(
        &app.get(&format!("/v1/threads/{second}/messages/{id}"))
            .await,
        404,
        &format!("No message found with id '{id}'."),
        None,
        None,
    );
    assert_error(
        &app.post(
            "/v1/threads/thread_NoSuchThread000000000000/messages",
            json!({"role": "user", "content": "x"}),
        )
        .await,
        404,
        "No thread found with id 'thread_NoSuchThread000000000000'.",
        None,
        None,
    );
}

#[tokio::test]
async fn run_requests_check_their_messages_attachments_too() {
    let app = TestApp::new().await;
    let assistant = app
        .create("/v1/assistants", json!({"model": "gpt-4o"}))
        .await;
    let thread = new_thread(&app).await;
    let message = json!({"role": "user", "content": "x",
        "attachments": [{"file_id": "file-nope", "tools": [{"type": "code_interpreter"}]}]});
    for (path, body, param) in [
        (
            format!("/v1/threads/{thread}/runs"),
            json!({"assistant_id": assistant["id"], "additional_messages": [message]}),
            "additional_messages[0].attachments[0].file_id",
        ),
        (
            "/v1/threads/runs".to_owned(),
            json!({"assistant_id": assistant["id"], "thread": {"messages": [message]}}),
            "thread.messages[0].attachments[0].file_id",
        ),
    ] {
        assert_error(
            &app.post(&path, body).await,
            400,
            "No file found with id 'file-nope'.",
            Some(param),
            None,
        );
    }
    let runs = app.get(&format!("/v1/threads/{thread}/runs")).await.json();
    assert_eq!(runs["data"], json!([]));
    let messages = app
        .get(&format!("/v1/threads/{thread}/messages"))
        .await
        .json();
    assert_eq!(messages["data"], json!([]));
}
