//! `/v1/assistants`: create, list, get, modify and delete, with OpenAI's shapes,
//! defaults, normalisation, pagination and validation errors.

use crate::support::files::{hex_id_redaction, FilesApp};
use axum::http::{Method, StatusCode};
use rstest::rstest;
use serde_json::{json, Value};
use testkit::{assert_error, id_redaction, timestamp_redaction, TestApp, OTHER_KEY};

#[tokio::test]
async fn create_fills_in_openai_defaults() {
    let app = TestApp::new().await;
    let response = app.post("/v1/assistants", json!({"model": "gpt-4o"})).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.headers["content-type"], "application/json");
    insta::assert_json_snapshot!(response.json(), {
        ".id" => id_redaction("asst_"),
        ".created_at" => timestamp_redaction(),
    });
    assert!(
        response
            .text
            .contains("\"top_p\": 1.0,\n  \"temperature\": 1.0,"),
        "{}",
        response.text
    );
    assert!(!response.text.ends_with('\n'));
}

#[tokio::test]
async fn tools_are_normalised() {
    let app = TestApp::new().await;
    let store = app.create("/v1/vector_stores", json!({})).await;
    let body = app
        .create(
            "/v1/assistants",
            json!({"model": "gpt-4o", "instructions": "Be brief.", "tools": [
                {"type": "file_search"},
                {"type": "code_interpreter"},
                {"type": "function", "function": {"description": "Gets the weather", "name": "get_weather"}}
            ], "tool_resources": {"file_search": {"vector_store_ids": [store["id"]]}}}),
        )
        .await;
    assert_eq!(
        body["tool_resources"]["file_search"]["vector_store_ids"][0],
        store["id"]
    );
    insta::assert_json_snapshot!(body, {
        ".id" => id_redaction("asst_"),
        ".created_at" => timestamp_redaction(),
        ".tool_resources.file_search.vector_store_ids[0]" => hex_id_redaction("vs_"),
    });
}

#[tokio::test]
async fn tool_resources_must_name_objects_of_this_key() {
    let files = FilesApp::new().await;
    let app = &files.app;
    let theirs = app
        .call_as(OTHER_KEY, Method::POST, "/v1/vector_stores", Some("{}"))
        .await
        .json();
    let theirs = theirs["id"].as_str().unwrap();
    let their_file = files
        .upload_as(OTHER_KEY, "theirs.txt", "assistants", b"theirs")
        .await;
    let their_file = their_file["id"].as_str().unwrap();
    let mine = files.upload("mine.txt", "assistants", b"mine").await;
    let mine = mine["id"].as_str().unwrap();
    let with = |resources: Value| {
        json!({"model": "gpt-4o", "tools": [{"type": "code_interpreter"}, {"type": "file_search"}],
               "tool_resources": resources})
    };
    for store in ["vs_nope", theirs] {
        let resources = json!({"file_search": {"vector_store_ids": [store]}});
        let refused = app.post("/v1/assistants", with(resources)).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text);
        assert_eq!(
            refused.message(),
            format!("No vector store found with id '{store}'.")
        );
    }
    for file in ["file-nope", their_file] {
        let resources = json!({"code_interpreter": {"file_ids": [mine, file]}});
        assert_error(
            &app.post("/v1/assistants", with(resources)).await,
            400,
            &format!("No file found with id '{file}'."),
            Some("tool_resources.code_interpreter.file_ids[1]"),
            None,
        );
    }
    let too_many = [
        (
            json!({"code_interpreter": {"file_ids": vec![mine; 21]}}),
            "tool_resources.code_interpreter.file_ids",
            20,
            21,
        ),
        (
            json!({"file_search": {"vector_store_ids": ["vs_a", "vs_b"]}}),
            "tool_resources.file_search.vector_store_ids",
            1,
            2,
        ),
    ];
    for (resources, param, max, given) in too_many {
        assert_error(
            &app.post("/v1/assistants", with(resources)).await,
            400,
            &format!("Invalid '{param}': array too long. Expected an array with maximum length {max}, but got an array with length {given} instead."),
            Some(param),
            Some("array_above_max_length"),
        );
    }
    let listed = app.get("/v1/assistants").await.json();
    assert_eq!(listed["data"], json!([]), "nothing was stored");
    let resources = json!({"code_interpreter": {"file_ids": [mine]}});
    let created = app.create("/v1/assistants", with(resources.clone())).await;
    assert_eq!(
        created["tool_resources"]["code_interpreter"],
        resources["code_interpreter"]
    );
    let path = format!("/v1/assistants/{}", created["id"].as_str().unwrap());
    let modify = json!({"tool_resources": {"file_search": {"vector_store_ids": ["vs_nope"]}}});
    assert_eq!(app.post(&path, modify).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&path).await.json(),
        created,
        "a refused modify changes nothing"
    );
}

#[tokio::test]
async fn get_modify_delete_round_trip() {
    let app = TestApp::new().await;
    let created = app
        .create(
            "/v1/assistants",
            json!({"model": "gpt-4o", "metadata": {"k": "hello!"}}),
        )
        .await;
    let id = created["id"].as_str().unwrap();
    let path = format!("/v1/assistants/{id}");

    let fetched = app.get(&path).await;
    assert_eq!(fetched.json(), created);

    let modified = app
        .post(
            &path,
            json!({"name": "test assistant name", "metadata": {"k": "goodbye!"}, "temperature": 0.5,
                   "response_format": {"type": "json_object"}, "reasoning_effort": "low"}),
        )
        .await
        .json();
    assert_eq!(modified["name"], "test assistant name");
    assert_eq!(modified["metadata"], json!({"k": "goodbye!"}));
    assert_eq!(modified["temperature"], 0.5);
    assert_eq!(modified["response_format"], json!({"type": "json_object"}));
    assert_eq!(modified["reasoning_effort"], "low");
    assert_eq!(modified["created_at"], created["created_at"]);
    assert_eq!(app.get(&path).await.json(), modified);

    let deleted = app.delete(&path).await;
    assert_eq!(deleted.text, format!("{{\n  \"id\": \"{id}\",\n  \"object\": \"assistant.deleted\",\n  \"deleted\": true\n}}"));
    assert_error(
        &app.get(&path).await,
        404,
        &format!("No assistant found with id '{id}'."),
        None,
        None,
    );
    assert_error(
        &app.delete(&path).await,
        404,
        &format!("No assistant found with id '{id}'."),
        None,
        None,
    );
}

#[tokio::test]
async fn modify_adding_code_interpreter_fills_its_resources() {
    let app = TestApp::new().await;
    let created = app
        .create("/v1/assistants", json!({"model": "gpt-4o"}))
        .await;
    let path = format!("/v1/assistants/{}", created["id"].as_str().unwrap());
    let modified = app
        .post(&path, json!({"tools": [{"type": "code_interpreter"}]}))
        .await
        .json();
    assert_eq!(
        modified["tool_resources"],
        json!({"code_interpreter": {"file_ids": []}})
    );
}

async fn create_named(app: &TestApp, count: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..count {
        let body = app
            .create(
                "/v1/assistants",
                json!({"model": "gpt-4o", "name": format!("Test Assistant {i}")}),
            )
            .await;
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    ids
}

fn ids_of(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn list_pages_newest_first_with_after_cursor() {
    let app = TestApp::new().await;
    let mut ids = create_named(&app, 5).await;
    ids.reverse();

    let first = app.get("/v1/assistants?limit=2&order=desc").await.json();
    assert_eq!(ids_of(&first), ids[0..2]);
    assert_eq!(first["first_id"], ids[0]);
    assert_eq!(first["last_id"], ids[1]);
    assert_eq!(first["has_more"], true);

    let second = app
        .get(&format!("/v1/assistants?limit=2&after={}", ids[1]))
        .await
        .json();
    assert_eq!(ids_of(&second), ids[2..4]);
    assert_eq!(second["has_more"], true);

    let third = app
        .get(&format!("/v1/assistants?limit=2&after={}", ids[3]))
        .await
        .json();
    assert_eq!(ids_of(&third), ids[4..5]);
    assert_eq!(third["has_more"], false);
}

#[tokio::test]
async fn list_ascending_and_before_cursor() {
    let app = TestApp::new().await;
    let ids = create_named(&app, 4).await;

    let ascending = app.get("/v1/assistants?order=asc").await.json();
    assert_eq!(ids_of(&ascending), ids);
    assert_eq!(ascending["has_more"], false);

    // Newest first; "before" the oldest means the items newer than it, nearest first.
    let before = app
        .get(&format!("/v1/assistants?limit=2&before={}", ids[0]))
        .await
        .json();
    assert_eq!(ids_of(&before), vec![ids[2].clone(), ids[1].clone()]);
    assert_eq!(before["has_more"], true);

    let unknown = app
        .get("/v1/assistants?after=asst_000000000000000000000000")
        .await
        .json();
    assert_eq!(ids_of(&unknown), Vec::<String>::new());
}

#[tokio::test]
async fn empty_list_has_null_cursors() {
    let app = TestApp::new().await;
    let response = app.get("/v1/assistants").await;
    assert_eq!(
        response.text,
        "{\n  \"object\": \"list\",\n  \"data\": [],\n  \"first_id\": null,\n  \"last_id\": null,\n  \"has_more\": false\n}"
    );
}

#[tokio::test]
async fn default_page_size_is_20() {
    let app = TestApp::new().await;
    create_named(&app, 21).await;
    let page = app.get("/v1/assistants").await.json();
    assert_eq!(page["data"].as_array().unwrap().len(), 20);
    assert_eq!(page["has_more"], true);
}

#[rstest]
#[case(json!({}), "Missing required parameter: 'model'.", "model", "missing_required_parameter")]
#[case(json!({"model": "gpt-4o", "foo": 1}), "Unknown parameter: 'foo'.", "foo", "unknown_parameter")]
#[case(
    json!({"model": "gpt-4o", "metadata": {"modified": true}}),
    "Invalid type for 'metadata.modified': expected a string, but got a boolean instead.",
    "metadata.modified",
    "invalid_type"
)]
#[case(
    json!({"model": "gpt-4o", "name": 5}),
    "Invalid type for 'name': expected a string, but got an integer instead.",
    "name",
    "invalid_type"
)]
#[case(
    json!({"model": "gpt-4o", "tools": [{"type": "browser"}]}),
    "Invalid value: 'browser'. Supported values are: 'code_interpreter', 'file_search', and 'function'.",
    "tools[0].type",
    "invalid_value"
)]
#[tokio::test]
async fn create_rejects_bad_bodies(
    #[case] body: Value,
    #[case] message: &str,
    #[case] param: &str,
    #[case] code: &str,
) {
    let app = TestApp::new().await;
    let response = app.post("/v1/assistants", body).await;
    assert_error(&response, 400, message, Some(param), Some(code));
    assert_eq!(
        app.get("/v1/assistants").await.json()["data"],
        json!([]),
        "nothing was written"
    );
}

#[tokio::test]
async fn error_bodies_are_pretty_printed() {
    let app = TestApp::new().await;
    let response = app
        .call(Method::POST, "/v1/assistants", Some("{not json"))
        .await;
    assert_eq!(response.status, 400);
    insta::assert_snapshot!(response.text);
}

#[rstest]
#[case(
    "limit=0",
    "Invalid 'limit': integer below minimum value. Expected a value >= 1, but got 0 instead.",
    "limit"
)]
#[case(
    "limit=101",
    "Invalid 'limit': integer above maximum value. Expected a value <= 100, but got 101 instead.",
    "limit"
)]
#[case(
    "order=up",
    "Invalid value: 'up'. Supported values are: 'asc' and 'desc'.",
    "order"
)]
#[tokio::test]
async fn list_rejects_bad_query_values(
    #[case] query: &str,
    #[case] message: &str,
    #[case] param: &str,
) {
    let app = TestApp::new().await;
    let response = app.get(&format!("/v1/assistants?{query}")).await;
    assert_eq!(response.status, 400);
    assert_eq!(response.message(), message);
    assert_eq!(response.json()["error"]["param"], param);
}

#[tokio::test]
async fn id_without_prefix_is_rejected_like_openai() {
    let app = TestApp::new().await;
    let response = app.get("/v1/assistants/undefined").await;
    assert_error(
        &response,
        400,
        "Invalid 'assistant_id': 'undefined'. Expected an ID that begins with 'asst'.",
        None,
        None,
    );
}
