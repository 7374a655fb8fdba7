//! The server over a real socket: `server::run` on port 0 with a fresh database (on SQLite a
//! file in a directory that does not exist yet), then a full round trip with reqwest.

use serde_json::{json, Value};
use testkit::spawn_app;

#[tokio::test]
async fn serves_the_api_over_http() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    let created: Value = client
        .post(format!("{}/assistants", app.base_url))
        .bearer_auth("sk-test")
        .header("OpenAI-Beta", "assistants=v2")
        .json(&json!({"model": "gpt-4o", "name": "über"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["name"], "über");

    let response = client
        .get(format!(
            "{}/assistants/{}",
            app.base_url,
            created["id"].as_str().unwrap()
        ))
        .bearer_auth("sk-test")
        .header("OpenAI-Beta", "assistants=v2")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let text = response.text().await.unwrap();
    assert!(
        text.contains("\"name\": \"über\""),
        "raw UTF-8, not \\u escapes: {text}"
    );
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), created);
}
