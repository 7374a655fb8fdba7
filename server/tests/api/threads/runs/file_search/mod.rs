//! file_search inside runs, with the offline model: the vector_stores helper, the
//! search step (`results` only with `include[]`), the cited answer (annotation indices
//! in characters, pointing at the marker), forced `tool_choice`, message attachments
//! and the streamed event order of OpenAI's FileSearchStreamingWorks recording.

mod hybrid;

use std::path::PathBuf;

use crate::support::runs::{create_run, names_collapsed, parse_sse, poll_until, Event, SETTLED};
use crate::support::vector_stores::VsApp;
use serde_json::{json, Value};

const INCLUDE: &str =
    "include[]=step_details.tool_calls%5B%2A%5D.file_search.results%5B%2A%5D.content";
const FOODS: &str = "The favorite food of several people:\n- Summanus Ferdinand: tacos\n\
                     - Tekakwitha Effie: pizza\n- Filip Carola: cake";
const QUESTION: &str = "Using the files you have available, what's Filip's favorite food?";

/// An app with the foods file uploaded and an assistant searching it through the helper.
async fn searching_assistant() -> (VsApp, String, String) {
    let vs = VsApp::new().await;
    let file_id = vs.upload("favorite_foods.txt", FOODS).await;
    let assistant = vs
        .app()
        .create(
            "/v1/assistants",
            json!({"model": "gpt-4o", "tools": [{"type": "file_search"}],
                "tool_resources": {"file_search": {"vector_stores": [{"file_ids": [file_id]}]}}}),
        )
        .await;
    let store_ids = &assistant["tool_resources"]["file_search"]["vector_store_ids"];
    assert_eq!(store_ids.as_array().map(Vec::len), Some(1), "{assistant}");
    assert!(store_ids[0].as_str().unwrap().starts_with("vs_"));
    assert!(assistant["tool_resources"]["file_search"]
        .get("vector_stores")
        .is_none());
    let id = assistant["id"].as_str().unwrap().to_owned();
    (vs, id, file_id)
}

async fn thread_asking(vs: &VsApp, text: &str) -> String {
    let thread = vs
        .app()
        .create(
            "/v1/threads",
            json!({"messages": [{"role": "user", "content": text}]}),
        )
        .await;
    thread["id"].as_str().unwrap().to_owned()
}

/// Runs to completion (polled) and returns (run, steps oldest first with `include[]`).
async fn completed_run(vs: &VsApp, thread_id: &str, body: Value) -> (Value, Vec<Value>) {
    let run = create_run(vs.app(), thread_id, body).await;
    let run_id = run["id"].as_str().unwrap();
    let run = poll_until(vs.app(), thread_id, run_id, SETTLED).await;
    assert_eq!(run["status"], "completed", "{run}");
    let steps = vs
        .app()
        .get(&format!(
            "/v1/threads/{thread_id}/runs/{run_id}/steps?order=asc&{INCLUDE}"
        ))
        .await
        .json();
    (run, steps["data"].as_array().unwrap().clone())
}

/// The assistant's message of a thread.
async fn answer(vs: &VsApp, thread_id: &str) -> Value {
    let messages = vs
        .app()
        .get(&format!("/v1/threads/{thread_id}/messages"))
        .await
        .json();
    messages["data"][0].clone()
}

/// Checks the message cites `file_id` once, with indices (in characters) on the marker.
fn assert_cites(message: &Value, file_id: &str) {
    let text = &message["content"][0]["text"];
    let value = text["value"].as_str().unwrap();
    let annotations = text["annotations"].as_array().unwrap();
    assert_eq!(annotations.len(), 1, "{message}");
    let citation = &annotations[0];
    let keys: Vec<&str> = citation
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["type", "text", "start_index", "end_index", "file_citation"]
    );
    assert_eq!(citation["type"], "file_citation");
    assert_eq!(citation["file_citation"], json!({"file_id": file_id}));
    let start = citation["start_index"].as_u64().unwrap() as usize;
    let end = citation["end_index"].as_u64().unwrap() as usize;
    let cited: String = value.chars().skip(start).take(end - start).collect();
    assert_eq!(cited, citation["text"].as_str().unwrap());
    assert!(
        cited.starts_with('【') && cited.ends_with("†favorite_foods.txt】"),
        "{cited}"
    );
}

fn search_call(step: &Value) -> Value {
    assert_eq!(step["type"], "tool_calls", "{step}");
    assert_eq!(step["status"], "completed", "{step}");
    let calls = step["step_details"]["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["type"], "file_search");
    assert!(calls[0]["id"].as_str().unwrap().starts_with("call_"));
    calls[0].clone()
}

#[tokio::test]
async fn a_question_is_searched_and_answered_with_a_citation() {
    let (vs, assistant_id, file_id) = searching_assistant().await;
    let thread_id = thread_asking(&vs, QUESTION).await;
    let (run, steps) = completed_run(&vs, &thread_id, json!({"assistant_id": assistant_id})).await;
    assert_eq!(steps.len(), 2, "{steps:?}");
    let call = search_call(&steps[0]);
    assert_eq!(
        call["file_search"]["ranking_options"],
        json!({"ranker": "default_2024_08_21", "score_threshold": 0.0})
    );
    let results = call["file_search"]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    let keys: Vec<&str> = results[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["file_id", "file_name", "score", "attributes", "content"]
    );
    assert_eq!(results[0]["file_id"], file_id.as_str());
    assert_eq!(results[0]["file_name"], "favorite_foods.txt");
    assert_eq!(results[0]["content"][0]["type"], "text");
    assert!(results[0]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("Filip Carola: cake"));
    assert!(steps[0]["usage"]["total_tokens"].as_u64().unwrap() > 0);
    assert_eq!(steps[1]["type"], "message_creation");
    let message = answer(&vs, &thread_id).await;
    assert_eq!(
        message["id"],
        steps[1]["step_details"]["message_creation"]["message_id"]
    );
    assert_cites(&message, &file_id);
    assert!(message["content"][0]["text"]["value"]
        .as_str()
        .unwrap()
        .contains("Filip Carola: cake"));
    let total = steps[0]["usage"]["total_tokens"].as_u64().unwrap()
        + steps[1]["usage"]["total_tokens"].as_u64().unwrap();
    assert_eq!(run["usage"]["total_tokens"].as_u64().unwrap(), total);
}

#[tokio::test]
async fn results_are_shown_only_with_include() {
    let (vs, assistant_id, _) = searching_assistant().await;
    let thread_id = thread_asking(&vs, QUESTION).await;
    let (run, steps) = completed_run(&vs, &thread_id, json!({"assistant_id": assistant_id})).await;
    let run_id = run["id"].as_str().unwrap();
    let step_id = steps[0]["id"].as_str().unwrap();
    let base = format!("/v1/threads/{thread_id}/runs/{run_id}/steps");
    let plain = vs.app().get(&format!("{base}/{step_id}")).await.json();
    let search = &search_call(&plain)["file_search"];
    assert!(search.get("results").is_none(), "{search}");
    assert!(search.get("ranking_options").is_some());
    let listed = vs.app().get(&base).await.json();
    let listed_step = &listed["data"][1];
    assert!(search_call(listed_step)["file_search"]
        .get("results")
        .is_none());
    let included = vs
        .app()
        .get(&format!("{base}/{step_id}?{INCLUDE}"))
        .await
        .json();
    assert!(search_call(&included)["file_search"]["results"][0]["content"].is_array());
}

#[tokio::test]
async fn a_forced_tool_choice_searches_even_without_a_question() {
    let (vs, assistant_id, file_id) = searching_assistant().await;
    let thread_id = thread_asking(&vs, "Tell me about Filip's favorite food").await;
    let body = json!({"assistant_id": assistant_id, "tool_choice": {"type": "file_search"}});
    let (run, steps) = completed_run(&vs, &thread_id, body).await;
    assert_eq!(run["tool_choice"], json!({"type": "file_search"}));
    assert_eq!(steps.len(), 2);
    search_call(&steps[0]);
    assert_cites(&answer(&vs, &thread_id).await, &file_id);
}

#[tokio::test]
async fn without_a_question_or_forcing_nothing_is_searched() {
    let (vs, assistant_id, _) = searching_assistant().await;
    let thread_id = thread_asking(&vs, "Hello there").await;
    let (_, steps) = completed_run(&vs, &thread_id, json!({"assistant_id": assistant_id})).await;
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0]["type"], "message_creation");
    let message = answer(&vs, &thread_id).await;
    assert_eq!(message["content"][0]["text"]["annotations"], json!([]));
}

#[tokio::test]
async fn the_thread_helper_creates_a_store_the_run_searches() {
    let vs = VsApp::new().await;
    let file_id = vs.upload("favorite_foods.txt", FOODS).await;
    let assistant = vs
        .app()
        .create(
            "/v1/assistants",
            json!({"model": "gpt-4o", "tools": [{"type": "file_search"}]}),
        )
        .await;
    let thread = vs
        .app()
        .create(
            "/v1/threads",
            json!({"messages": [{"role": "user", "content": QUESTION}],
                "tool_resources": {"file_search": {"vector_stores": [{"file_ids": [file_id]}]}}}),
        )
        .await;
    let store_id = thread["tool_resources"]["file_search"]["vector_store_ids"][0]
        .as_str()
        .unwrap();
    assert!(store_id.starts_with("vs_"), "{thread}");
    let thread_id = thread["id"].as_str().unwrap();
    let (_, steps) = completed_run(&vs, thread_id, json!({"assistant_id": assistant["id"]})).await;
    assert_eq!(steps.len(), 2);
    assert_cites(&answer(&vs, thread_id).await, &file_id);
}

#[tokio::test]
async fn a_helper_with_an_unknown_file_is_refused() {
    let vs = VsApp::new().await;
    let response = vs
        .app()
        .post(
            "/v1/assistants",
            json!({"model": "gpt-4o", "tools": [{"type": "file_search"}],
                "tool_resources": {"file_search": {"vector_stores": [{"file_ids": ["file-nope"]}]}}}),
        )
        .await;
    assert!(response.status.is_client_error(), "{}", response.text);
    let stores = vs.app().get("/v1/vector_stores").await.json();
    assert_eq!(stores["data"], json!([]), "no store is left behind");
}

/// The SSE bodies of a recording, when the shared recordings are on this machine.
fn recorded_streams(name: &str) -> Option<Vec<Vec<Event>>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/recordings/openai-dotnet/SessionRecords/AssistantsTests")
        .join(name);
    let session: Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    let streams = session["Entries"]
        .as_array()?
        .iter()
        .filter_map(|entry| entry["ResponseBody"].as_array())
        .map(|lines| parse_sse(&lines.iter().filter_map(Value::as_str).collect::<String>()))
        .collect();
    Some(streams)
}

const SEARCH_RUN: &[&str] = &[
    "thread.run.created",
    "thread.run.queued",
    "thread.run.in_progress",
    "thread.run.step.created",
    "thread.run.step.in_progress",
    "thread.run.step.delta…",
    "thread.run.step.completed",
    "thread.run.step.created",
    "thread.run.step.in_progress",
    "thread.message.created",
    "thread.message.in_progress",
    "thread.message.delta…",
    "thread.message.completed",
    "thread.run.step.completed",
    "thread.run.completed",
    "done",
];

#[tokio::test]
async fn a_streamed_search_follows_the_recording() {
    let (vs, assistant_id, file_id) = searching_assistant().await;
    let thread_id = thread_asking(&vs, QUESTION).await;
    let response = vs
        .app()
        .post(
            &format!("/v1/threads/{thread_id}/runs?{INCLUDE}"),
            json!({"assistant_id": assistant_id, "additional_messages": [], "stream": true}),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text);
    let events = parse_sse(&response.text);
    assert_eq!(names_collapsed(&events), SEARCH_RUN);
    if let Some(recorded) = recorded_streams("FileSearchStreamingWorks.json") {
        assert_eq!(
            names_collapsed(&recorded[0]),
            SEARCH_RUN,
            "the recording agrees"
        );
    }
    let step_deltas: Vec<Value> = events
        .iter()
        .filter(|e| e.name == "thread.run.step.delta")
        .map(Event::json)
        .collect();
    assert_eq!(step_deltas.len(), 1, "one delta for the search");
    let call = &step_deltas[0]["delta"]["step_details"]["tool_calls"][0];
    let keys: Vec<&str> = call
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["index", "id", "type", "file_search"]);
    assert_eq!(
        call["file_search"],
        json!({"ranking_options": {"ranker": "default_2024_08_21", "score_threshold": 0.0},
            "results": []})
    );
    let tool_step_done = events
        .iter()
        .find(|e| e.name == "thread.run.step.completed")
        .unwrap()
        .json();
    assert_eq!(
        tool_step_done["step_details"]["tool_calls"][0]["id"],
        call["id"]
    );
    assert!(
        tool_step_done["step_details"]["tool_calls"][0]["file_search"]["results"][0]["content"]
            .is_array()
    );
    let deltas: Vec<Value> = events
        .iter()
        .filter(|e| e.name == "thread.message.delta")
        .map(Event::json)
        .collect();
    let cited: Vec<&Value> = deltas
        .iter()
        .filter(|d| {
            d["delta"]["content"][0]["text"]["annotations"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
        })
        .collect();
    assert_eq!(cited.len(), 1, "the marker is a delta of its own");
    let part = &cited[0]["delta"]["content"][0]["text"];
    let annotation = &part["annotations"][0];
    let keys: Vec<&str> = annotation
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "index",
            "type",
            "text",
            "start_index",
            "end_index",
            "file_citation"
        ]
    );
    assert_eq!(annotation["text"], part["value"]);
    assert_eq!(
        annotation["file_citation"],
        json!({"file_id": file_id, "quote": ""})
    );
    let before: usize = deltas
        .iter()
        .take_while(|d| !std::ptr::eq(*d, cited[0]))
        .map(|d| {
            d["delta"]["content"][0]["text"]["value"]
                .as_str()
                .unwrap()
                .chars()
                .count()
        })
        .sum();
    assert_eq!(annotation["start_index"], before);
    let completed = events
        .iter()
        .find(|e| e.name == "thread.message.completed")
        .unwrap()
        .json();
    assert_cites(&completed, &file_id);
}

#[tokio::test]
async fn attachments_for_file_search_go_into_the_threads_own_store() {
    let vs = VsApp::new().await;
    let file_id = vs.upload("favorite_foods.txt", FOODS).await;
    let assistant = vs
        .app()
        .create(
            "/v1/assistants",
            json!({"model": "gpt-4o", "tools": [{"type": "file_search"}]}),
        )
        .await;
    let thread = vs.app().create("/v1/threads", json!({})).await;
    let thread_id = thread["id"].as_str().unwrap();
    let attachments = json!([{"file_id": file_id, "tools": [{"type": "file_search"}]}]);
    let message = vs
        .app()
        .create(
            &format!("/v1/threads/{thread_id}/messages"),
            json!({"role": "user", "content": QUESTION, "attachments": attachments}),
        )
        .await;
    assert_eq!(message["attachments"], attachments);
    let thread = vs
        .app()
        .get(&format!("/v1/threads/{thread_id}"))
        .await
        .json();
    let store_id = thread["tool_resources"]["file_search"]["vector_store_ids"][0]
        .as_str()
        .unwrap_or_else(|| panic!("the thread has its own store: {thread}"))
        .to_owned();
    let files = vs
        .app()
        .get(&format!("/v1/vector_stores/{store_id}/files"))
        .await
        .json();
    assert_eq!(files["data"][0]["id"], file_id.as_str());
    let (_, steps) = completed_run(&vs, thread_id, json!({"assistant_id": assistant["id"]})).await;
    assert_eq!(steps.len(), 2);
    assert_cites(&answer(&vs, thread_id).await, &file_id);
    // A second attachment joins the same store.
    let other = vs.upload("other.txt", "Nothing relevant here").await;
    vs.app()
        .create(
            &format!("/v1/threads/{thread_id}/messages"),
            json!({"role": "user", "content": "more", "attachments":
                [{"file_id": other, "tools": [{"type": "file_search"}]}]}),
        )
        .await;
    let again = vs
        .app()
        .get(&format!("/v1/threads/{thread_id}"))
        .await
        .json();
    assert_eq!(
        again["tool_resources"]["file_search"]["vector_store_ids"],
        json!([store_id])
    );
    let files = vs
        .app()
        .get(&format!("/v1/vector_stores/{store_id}/files"))
        .await
        .json();
    assert_eq!(files["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn an_attachment_of_an_unknown_file_is_refused_and_creates_no_store() {
    let vs = VsApp::new().await;
    let thread = vs.app().create("/v1/threads", json!({})).await;
    let thread_id = thread["id"].as_str().unwrap();
    let attachments = json!([{"file_id": "file-nope", "tools": [{"type": "file_search"}]}]);
    let refused = vs
        .app()
        .post(
            &format!("/v1/threads/{thread_id}/messages"),
            json!({"role": "user", "content": "x", "attachments": attachments}),
        )
        .await;
    assert_eq!(refused.status.as_u16(), 400, "{}", refused.text);
    assert_eq!(refused.message(), "No file found with id 'file-nope'.");
    let stores = vs.app().get("/v1/vector_stores").await.json();
    assert_eq!(
        stores["data"],
        json!([]),
        "no store for files that do not exist"
    );
}
