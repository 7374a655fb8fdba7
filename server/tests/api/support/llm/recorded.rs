//! Reading the recorded Chat Completions exchanges (the .NET SDK's `ChatTests` and
//! `ChatToolTests` session records under `<workspace>/../shared/recordings`) and
//! turning them into requests, expected results and re-chunked event streams.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use server::llm::{
    collect, ChatCompletion, ChatMessage, ChatModel, ChatRequest, ContentPart, FinishReason,
    FunctionTool, LlmError, ResponseFormat, Role, ToolCall, ToolChoice, UpstreamModel,
};

use super::{FakeUpstream, Reply};

/// One recorded chat completion exchange.
pub(crate) struct Exchange {
    /// `Folder/File.json#entry`, for failure messages.
    pub name: String,
    pub request: Value,
    pub status: u16,
    pub response: Value,
}

pub(crate) fn recordings() -> Option<Vec<Exchange>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/recordings/openai-dotnet/SessionRecords");
    if !root.is_dir() {
        eprintln!(
            "SKIPPED: no recordings at {} (only the project-written llm_upstream cases ran)",
            root.display()
        );
        return None;
    }
    let mut exchanges = Vec::new();
    for folder in ["ChatTests", "ChatToolTests"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(folder))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
            .collect();
        files.sort();
        for file in files {
            let record: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
            let entries = record["Entries"].as_array().cloned().unwrap_or_default();
            for (n, entry) in entries.into_iter().enumerate() {
                let is_chat = entry["RequestMethod"] == "POST"
                    && entry["RequestUri"]
                        .as_str()
                        .is_some_and(|uri| uri.ends_with("/chat/completions"));
                if !is_chat {
                    continue;
                }
                exchanges.push(Exchange {
                    name: format!(
                        "{folder}/{}#{n}",
                        file.file_name().unwrap().to_string_lossy()
                    ),
                    request: entry["RequestBody"].clone(),
                    status: entry["StatusCode"].as_u64().unwrap() as u16,
                    response: entry["ResponseBody"].clone(),
                });
            }
        }
    }
    Some(exchanges)
}

/// The recorded request as a [`ChatRequest`], or `None` when it uses something the
/// LLM layer does not model (legacy `functions`, `name`d messages, refusal replays).
pub(crate) fn to_request(body: &Value) -> Option<ChatRequest> {
    let mut request = ChatRequest {
        model: body["model"].as_str()?.to_owned(),
        ..ChatRequest::default()
    };
    for (key, value) in body.as_object()? {
        match key.as_str() {
            "model" | "stream" | "stream_options" => {}
            "messages" => {
                for message in value.as_array()? {
                    request.messages.push(to_message(message)?);
                }
            }
            "tools" => {
                for tool in value.as_array()? {
                    let function = &tool["function"];
                    request.tools.push(FunctionTool {
                        name: function["name"].as_str()?.to_owned(),
                        description: function["description"].as_str().map(str::to_owned),
                        parameters: function.get("parameters").cloned(),
                        strict: function["strict"].as_bool(),
                    });
                }
            }
            "tool_choice" => {
                request.tool_choice = match value {
                    Value::String(choice) if choice == "none" => ToolChoice::None,
                    Value::String(choice) if choice == "auto" => ToolChoice::Auto,
                    Value::String(choice) if choice == "required" => ToolChoice::Required,
                    _ => ToolChoice::Function(value["function"]["name"].as_str()?.to_owned()),
                }
            }
            "parallel_tool_calls" => request.parallel_tool_calls = value.as_bool(),
            "response_format" => {
                request.response_format = match value["type"].as_str()? {
                    "json_object" => ResponseFormat::JsonObject,
                    "json_schema" => {
                        let schema = &value["json_schema"];
                        ResponseFormat::JsonSchema {
                            name: schema["name"].as_str()?.to_owned(),
                            description: schema["description"].as_str().map(str::to_owned),
                            schema: schema.get("schema").cloned(),
                            strict: schema["strict"].as_bool(),
                        }
                    }
                    _ => return None,
                }
            }
            "temperature" => request.temperature = value.as_f64(),
            "top_p" => request.top_p = value.as_f64(),
            "max_completion_tokens" => request.max_completion_tokens = Some(value.as_u64()? as u32),
            "functions" => return None,
            _ => {
                request.extra.insert(key.clone(), value.clone());
            }
        }
    }
    Some(request)
}

pub(crate) fn to_message(message: &Value) -> Option<ChatMessage> {
    let allowed = ["role", "content", "tool_calls", "tool_call_id"];
    if message
        .as_object()?
        .keys()
        .any(|key| !allowed.contains(&key.as_str()))
    {
        return None;
    }
    let role = match message["role"].as_str()? {
        "system" => Role::System,
        "developer" => Role::Developer,
        "user" => Role::User,
        "assistant" => Role::Assistant,
        "tool" => Role::Tool,
        _ => return None,
    };
    let content = match &message["content"] {
        Value::Null => Vec::new(),
        Value::String(text) => vec![ContentPart::Text(text.clone())],
        Value::Array(parts) => parts
            .iter()
            .map(|part| match part["type"].as_str()? {
                "text" => Some(ContentPart::Text(part["text"].as_str()?.to_owned())),
                "image_url" => Some(ContentPart::ImageUrl {
                    url: part["image_url"]["url"].as_str()?.to_owned(),
                    detail: part["image_url"]["detail"].as_str().map(str::to_owned),
                }),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?,
        _ => return None,
    };
    let tool_calls = match message.get("tool_calls") {
        None => Vec::new(),
        Some(calls) => calls
            .as_array()?
            .iter()
            .map(|call| {
                Some(ToolCall {
                    id: call["id"].as_str()?.to_owned(),
                    name: call["function"]["name"].as_str()?.to_owned(),
                    arguments: call["function"]["arguments"].as_str()?.to_owned(),
                })
            })
            .collect::<Option<Vec<_>>>()?,
    };
    Some(ChatMessage {
        role,
        content,
        tool_calls,
        tool_call_id: message["tool_call_id"].as_str().map(str::to_owned),
    })
}

/// The recorded body as this client must send it: streamed, `tool_choice: auto` left
/// implicit, a lone text part as a plain string.
pub(crate) fn expected_body(recorded: &Value) -> Value {
    let mut body = recorded.clone();
    let object = body.as_object_mut().unwrap();
    object.insert("stream".into(), json!(true));
    object.insert("stream_options".into(), json!({"include_usage": true}));
    if object.get("tool_choice") == Some(&json!("auto")) {
        object.remove("tool_choice");
    }
    for message in object["messages"].as_array_mut().unwrap() {
        let content = &mut message["content"];
        if let Some([part]) = content.as_array().map(Vec::as_slice) {
            if part["type"] == "text" {
                *content = part["text"].clone();
            }
        }
    }
    body
}

/// JSON equality where `0` equals `0.0`.
pub(crate) fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// What the collected answer must be, read off a recorded whole completion.
pub(crate) fn expected_from_completion(
    response: &Value,
) -> (String, Vec<ToolCall>, FinishReason, [u64; 5]) {
    let message = &response["choices"][0]["message"];
    let text = ["content", "refusal"]
        .iter()
        .filter_map(|field| message[*field].as_str())
        .collect::<String>();
    let calls = message["tool_calls"]
        .as_array()
        .map(|calls| {
            calls
                .iter()
                .map(|call| ToolCall {
                    id: call["id"].as_str().unwrap().to_owned(),
                    name: call["function"]["name"].as_str().unwrap().to_owned(),
                    arguments: call["function"]["arguments"].as_str().unwrap().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    let finish = FinishReason::from_wire(response["choices"][0]["finish_reason"].as_str().unwrap());
    (text, calls, finish, usage_numbers(&response["usage"]))
}

pub(crate) fn usage_numbers(usage: &Value) -> [u64; 5] {
    [
        "/prompt_tokens",
        "/completion_tokens",
        "/total_tokens",
        "/prompt_tokens_details/cached_tokens",
        "/completion_tokens_details/reasoning_tokens",
    ]
    .map(|pointer| usage.pointer(pointer).and_then(Value::as_u64).unwrap_or(0))
}

pub(crate) fn actual(
    completion: &ChatCompletion,
) -> (String, Vec<ToolCall>, FinishReason, [u64; 5]) {
    let usage = completion.usage;
    (
        completion.text.clone(),
        completion.tool_calls.clone(),
        completion.finish_reason,
        [
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens,
            usage.cached_tokens,
            usage.reasoning_tokens,
        ]
        .map(u64::from),
    )
}

/// A recorded whole completion re-told as an OpenAI-style event stream, framed in one
/// of three styles (plain; CRLF without spaces plus keep-alives; split into 11-byte
/// network chunks).
pub(crate) fn rechunked(response: &Value, style: usize) -> Vec<String> {
    let choice = |delta: Value, finish: Value| {
        json!({"id": response["id"], "object": "chat.completion.chunk", "model": response["model"],
           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    let message = &response["choices"][0]["message"];
    let mut chunks = vec![choice(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    for field in ["content", "refusal"] {
        if let Some(text) = message[field].as_str() {
            let chars: Vec<char> = text.chars().collect();
            for piece in chars.chunks(4) {
                let piece: String = piece.iter().collect();
                chunks.push(choice(json!({ field: piece }), Value::Null));
            }
        }
    }
    for (index, call) in message["tool_calls"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        chunks.push(choice(
            json!({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
               "function": {"name": call["function"]["name"], "arguments": ""}}]}),
            Value::Null,
        ));
        let arguments: Vec<char> = call["function"]["arguments"]
            .as_str()
            .unwrap()
            .chars()
            .collect();
        for piece in arguments.chunks(5) {
            let piece: String = piece.iter().collect();
            chunks.push(choice(
                json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}),
                Value::Null,
            ));
        }
    }
    chunks.push(choice(
        json!({}),
        response["choices"][0]["finish_reason"].clone(),
    ));
    chunks.push(
        json!({"id": response["id"], "object": "chat.completion.chunk", "choices": [],
                   "usage": response["usage"]}),
    );
    let mut wire: Vec<String> = chunks
        .iter()
        .map(|chunk| match style {
            1 => format!(": keep-alive\r\n\r\ndata:{chunk}\r\n\r\n"),
            _ => format!("data: {chunk}\n\n"),
        })
        .collect();
    wire.push("data: [DONE]\n\n".into());
    if style == 2 {
        // ~11-byte network chunks (at character boundaries: the fake sends strings;
        // characters split across chunks are covered by the SSE decoder's own tests).
        let all = wire.concat();
        let mut pieces = Vec::new();
        let mut current = String::new();
        for c in all.chars() {
            current.push(c);
            if current.len() >= 11 {
                pieces.push(std::mem::take(&mut current));
            }
        }
        pieces.push(current);
        return pieces;
    }
    wire
}

pub(crate) async fn run(
    reply: Reply,
    request: ChatRequest,
) -> (FakeUpstream, Result<ChatCompletion, LlmError>) {
    let fake = FakeUpstream::start(vec![reply]).await;
    let model = UpstreamModel::new(fake.config()).unwrap();
    let result = match model.stream(request).await {
        Ok(stream) => collect(stream).await,
        Err(error) => Err(error),
    };
    (fake, result)
}
