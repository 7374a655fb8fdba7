//! Turning an operation into a request (path ids, query, headers, a JSON or multipart
//! body, valid or broken) and the objects the requests refer to.

use std::collections::HashMap;

use reqwest::{Client, Method};
use serde_json::{json, Value};

use super::generate::{encode, Generator};
use super::Operation;

/// The key every fuzz request uses (any key is accepted).
const KEY: &str = "sk-fuzz";

/// One request to send.
pub(super) struct Case {
    method: Method,
    url: String,
    headers: Vec<(&'static str, String)>,
    body: Option<(Vec<u8>, String)>,
}

impl Case {
    /// A request for `operation` from `generator`'s randomness.
    pub(super) fn generate(
        generator: &mut Generator<'_>,
        document: &Value,
        operation: &Operation,
        base_url: &str,
    ) -> Self {
        let spec = document
            .pointer(&format!(
                "/paths/{}/{}",
                operation.path.replace('~', "~0").replace('/', "~1"),
                operation.method.to_lowercase()
            ))
            .cloned()
            .unwrap_or(Value::Null);
        let parameters: Vec<Value> = spec
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut path = operation.path.clone();
        let mut query = Vec::new();
        for parameter in &parameters {
            let name = parameter["name"].as_str().unwrap_or_default();
            match parameter["in"].as_str() {
                Some("path") => {
                    let id = generator.id(name);
                    path = path.replace(&format!("{{{name}}}"), &encode(&id));
                }
                Some("query") if generator.rng.chance(50) => {
                    let value = if generator.rng.chance(15) {
                        Value::String(generator.nasty_string())
                    } else {
                        let schema: &Value = Box::leak(Box::new(parameter["schema"].clone()));
                        generator.value(schema, name, 0)
                    };
                    let values = match value {
                        Value::Array(items) => items,
                        other => vec![other],
                    };
                    for value in values {
                        let text = match value {
                            Value::String(text) => text,
                            other => other.to_string(),
                        };
                        query.push(format!("{}={}", encode(name), encode(&text)));
                    }
                }
                _ => {}
            }
        }
        if generator.rng.chance(3) {
            query.push("limit=%ZZ&&==&order".to_owned());
        }
        let mut url = format!("{base_url}{path}");
        if !query.is_empty() {
            url = format!("{url}?{}", query.join("&"));
        }
        let mut headers = Vec::new();
        match generator.rng.below(100) {
            0..=2 => {}
            3..=4 => headers.push(("authorization", format!("Bearer {KEY}"))),
            _ => {
                headers.push(("authorization", format!("Bearer {KEY}")));
                headers.push(("openai-beta", "assistants=v2".to_owned()));
            }
        }
        let body = body(generator, &spec);
        Self {
            method: Method::from_bytes(operation.method.as_bytes()).expect("method"),
            url,
            headers,
            body,
        }
    }

    /// Sends the request and reads the whole answer; the status, or why there was none.
    pub(super) async fn send(&self, client: &Client) -> Result<u16, reqwest::Error> {
        let mut request = client.request(self.method.clone(), &self.url);
        for (name, value) in &self.headers {
            request = request.header(*name, value);
        }
        if let Some((bytes, content_type)) = &self.body {
            request = request
                .header("content-type", content_type)
                .body(bytes.clone());
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        response.bytes().await?;
        Ok(status)
    }

    /// The request in a line, to reproduce a failure.
    pub(super) fn describe(&self) -> String {
        let body = self.body.as_ref().map(|(bytes, content_type)| {
            let text = String::from_utf8_lossy(bytes);
            let shown: String = text.chars().take(300).collect();
            format!(" [{content_type}] {shown:?}")
        });
        let url: String = self.url.chars().take(300).collect();
        format!("{} {url}{}", self.method, body.unwrap_or_default())
    }
}

/// A body for the operation `spec`: generated from its schema, often broken.
fn body(generator: &mut Generator<'_>, spec: &Value) -> Option<(Vec<u8>, String)> {
    let content = spec.pointer("/requestBody/content").cloned();
    let Some(content) = content.as_ref().and_then(Value::as_object) else {
        // Operations without a body get a stray one now and then.
        return generator
            .rng
            .chance(10)
            .then(|| (b"{\"stray\": true}".to_vec(), "application/json".to_owned()));
    };
    let (media, schema) = content.iter().next()?;
    let schema: &Value = Box::leak(Box::new(schema["schema"].clone()));
    let value = generator.value(schema, "body", 0);
    if media == "multipart/form-data" {
        return Some(multipart(generator, schema, &value));
    }
    let bytes = match generator.rng.below(100) {
        0..=59 => value.to_string().into_bytes(),
        60..=94 => generator.mutate(&value),
        _ => Vec::new(),
    };
    let content_type = if generator.rng.chance(5) {
        "text/plain".to_owned()
    } else {
        "application/json".to_owned()
    };
    Some((bytes, content_type))
}

/// A multipart form of `value`'s fields (binary ones as files), sometimes malformed.
fn multipart(generator: &mut Generator<'_>, schema: &Value, value: &Value) -> (Vec<u8>, String) {
    let boundary = format!("fuzz{:016x}", generator.rng.next());
    let schema = generator.resolve(schema);
    let mut body = Vec::new();
    if let Value::Object(fields) = value {
        for (name, field) in fields {
            let binary = schema
                .pointer(&format!("/properties/{name}/format"))
                .and_then(Value::as_str)
                == Some("binary");
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            let text = match field {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            if binary {
                let file_name = if generator.rng.chance(20) {
                    generator.nasty_string()
                } else {
                    "notes.txt".to_owned()
                };
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{}\"\r\n\
                         Content-Type: text/plain\r\n\r\n",
                        file_name.replace('"', "")
                    )
                    .as_bytes(),
                );
            } else {
                body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                );
            }
            body.extend_from_slice(text.as_bytes());
            body.extend_from_slice(b"\r\n");
        }
    }
    match generator.rng.below(100) {
        0..=74 => body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes()),
        75..=84 => {}
        85..=94 => {
            body = (0..generator.rng.below(200))
                .map(|_| generator.rng.next() as u8)
                .collect()
        }
        _ => body.extend_from_slice(b"--not-the-boundary--\r\n"),
    }
    (body, format!("multipart/form-data; boundary={boundary}"))
}

/// Objects of every kind the operations refer to, created up front so generated ids
/// often name something real; by path parameter name.
pub(super) async fn fixtures(client: &Client, base_url: &str) -> HashMap<String, Vec<String>> {
    let post = |path: &str, body: Value| {
        client
            .post(format!("{base_url}{path}"))
            .bearer_auth(KEY)
            .header("openai-beta", "assistants=v2")
            .json(&body)
            .send()
    };
    let id = |value: &Value| value["id"].as_str().expect("fixture id").to_owned();
    let json = |response: reqwest::Response| async move {
        let status = response.status();
        let value: Value = response.json().await.expect("fixture JSON");
        assert!(status.is_success(), "fixture failed: {value}");
        value
    };
    let mut ids: HashMap<String, Vec<String>> = HashMap::new();
    let assistant = json(
        post("/assistants", json!({"model": "gpt-4o"}))
            .await
            .unwrap(),
    )
    .await;
    let thread = json(
        post(
            "/threads",
            json!({"messages": [{"role": "user", "content": "hello"}]}),
        )
        .await
        .unwrap(),
    )
    .await;
    let thread_id = id(&thread);
    let messages = json(
        client
            .get(format!("{base_url}/threads/{thread_id}/messages"))
            .bearer_auth(KEY)
            .header("openai-beta", "assistants=v2")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let run = json(
        post(
            &format!("/threads/{thread_id}/runs"),
            json!({"assistant_id": id(&assistant), "stream": false}),
        )
        .await
        .unwrap(),
    )
    .await;
    // The offline model finishes at once; wait (bounded) for the run's steps to exist.
    let run_path = format!("{base_url}/threads/{thread_id}/runs/{}", id(&run));
    let mut steps = Value::Null;
    for _ in 0..200 {
        steps = json(
            client
                .get(format!("{run_path}/steps"))
                .bearer_auth(KEY)
                .header("openai-beta", "assistants=v2")
                .send()
                .await
                .unwrap(),
        )
        .await;
        if steps["data"]
            .as_array()
            .is_some_and(|data| !data.is_empty())
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let form =
        "--b\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nassistants\r\n--b\r\n\
         Content-Disposition: form-data; name=\"file\"; filename=\"fixture.txt\"\r\n\
         Content-Type: text/plain\r\n\r\nFuzzing fixtures are small.\r\n--b--\r\n";
    let file = json(
        client
            .post(format!("{base_url}/files"))
            .bearer_auth(KEY)
            .header("content-type", "multipart/form-data; boundary=b")
            .body(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let store = json(
        post("/vector_stores", json!({"file_ids": [id(&file)]}))
            .await
            .unwrap(),
    )
    .await;
    let batch = json(
        post(
            &format!("/vector_stores/{}/file_batches", id(&store)),
            json!({"file_ids": [id(&file)]}),
        )
        .await
        .unwrap(),
    )
    .await;
    let upload = json(
        post(
            "/uploads",
            json!({"filename": "a.txt", "purpose": "assistants", "bytes": 3, "mime_type": "text/plain"}),
        )
        .await
        .unwrap(),
    )
    .await;
    let mut insert = |key: &str, value: String| ids.entry(key.to_owned()).or_default().push(value);
    insert("assistant_id", id(&assistant));
    insert("thread_id", thread_id);
    if let Some(message) = messages["data"].get(0) {
        insert("message_id", id(message));
    }
    insert("run_id", id(&run));
    if let Some(step) = steps["data"].get(0) {
        insert("step_id", id(step));
    }
    insert("file_id", id(&file));
    insert("vector_store_id", id(&store));
    insert("batch_id", id(&batch));
    insert("upload_id", id(&upload));
    ids
}
