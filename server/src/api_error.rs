//! The one error type every handler returns, rendered as OpenAI's error envelope
//! `{"error":{"message","type","param","code"}}`. Every message text the server can
//! send lives here, so the wording is checked against OpenAI's in one place.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::json::{render_pretty, render_pretty_indented};
use crate::models::RunStatus;
use crate::store::StoreError;

/// Link OpenAI puts into both of its 401 messages.
const API_KEYS_URL: &str = "https://platform.openai.com/account/api-keys";

/// An error answer: HTTP status plus the four envelope fields.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status of the answer.
    pub status: StatusCode,
    /// Human-readable `error.message`.
    pub message: String,
    /// `error.type`, e.g. `invalid_request_error`.
    pub kind: &'static str,
    /// `error.param`: the offending parameter, when OpenAI names one.
    pub param: Option<String>,
    /// `error.code`: machine-readable code, when OpenAI sends one.
    pub code: Option<&'static str>,
}

/// The JSON shape of the envelope, in OpenAI's key order.
#[derive(Serialize)]
struct Envelope<'a> {
    error: Body<'a>,
}

#[derive(Serialize)]
struct Body<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    param: Option<&'a str>,
    code: Option<&'a str>,
}

impl ApiError {
    fn invalid_request(status: StatusCode, message: String) -> Self {
        Self {
            status,
            message,
            kind: "invalid_request_error",
            param: None,
            code: None,
        }
    }

    fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    fn bad_request(message: String) -> Self {
        Self::invalid_request(StatusCode::BAD_REQUEST, message)
    }

    /// 401 when no `Authorization: Bearer` key came with the request (recorded text).
    pub fn missing_api_key() -> Self {
        Self::invalid_request(
            StatusCode::UNAUTHORIZED,
            format!(
                "You didn't provide an API key. You need to provide your API key in an Authorization header \
                 using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank \
                 username) if you're accessing the API from your browser and are prompted for a username and \
                 password. You can obtain an API key from {API_KEYS_URL}."
            ),
        )
    }

    /// 401 for a key the server does not know (recorded text, key masked as OpenAI does).
    pub fn incorrect_api_key(key: &str) -> Self {
        Self::invalid_request(
            StatusCode::UNAUTHORIZED,
            format!(
                "Incorrect API key provided: {}. You can find your API key at {API_KEYS_URL}.",
                mask_api_key(key)
            ),
        )
        .with_code("invalid_api_key")
    }

    /// 400 on `model` for a name no configured provider can answer (an unknown
    /// `provider/` prefix, or a provider this server cannot call).
    pub fn unroutable_model(message: String) -> Self {
        Self::bad_request(message).with_param("model")
    }

    /// 400 when the `OpenAI-Beta: assistants=v2` header is absent (quoted verbatim).
    pub fn missing_beta_header() -> Self {
        Self::bad_request(
            "You must provide the 'OpenAI-Beta' header to access the Assistants API. Please try again by \
             setting the header 'OpenAI-Beta: assistants=v2'."
                .to_owned(),
        )
        .with_code("invalid_beta")
    }

    /// 400 when the client still asks for the retired v1 Assistants API (quoted verbatim).
    pub fn deprecated_beta_v1() -> Self {
        Self::bad_request(
            "The v1 Assistants API has been deprecated. Please try again by setting the header \
             'OpenAI-Beta: assistants=v2'. See the migration guide for more information: \
             https://platform.openai.com/docs/assistants/migration."
                .to_owned(),
        )
        .with_code("invalid_beta")
    }

    /// 404 for every route the server does not serve, and wrong methods on known paths.
    pub fn invalid_url(method: &str, path: &str) -> Self {
        Self::invalid_request(
            StatusCode::NOT_FOUND,
            format!("Invalid URL ({method} {path})"),
        )
    }

    /// 404 for an id that does not exist for this tenant; `noun` is e.g. `assistant`.
    pub fn not_found(noun: &str, id: &str) -> Self {
        Self::invalid_request(
            StatusCode::NOT_FOUND,
            format!("No {noun} found with id '{id}'."),
        )
    }

    /// 400 for a path id without the expected prefix (quoted verbatim for `thread_id`).
    pub fn id_prefix(param: &str, id: &str, prefix: &str) -> Self {
        Self::bad_request(format!(
            "Invalid '{param}': '{id}'. Expected an ID that begins with '{prefix}'."
        ))
    }

    /// 400 for a body that is not JSON (OpenAI's text).
    pub fn unparsable_json() -> Self {
        Self::bad_request(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your \
             HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid \
             JSON. If you have trouble figuring out how to fix this, please contact us through our help \
             center at help.openai.com.)"
                .to_owned(),
        )
    }

    /// 400 for a JSON body that is valid but not an object (wording guessed).
    pub fn body_not_object(actual: &str) -> Self {
        Self::bad_request(format!(
            "Invalid type for body: expected an object, but got {actual} instead."
        ))
        .with_code("invalid_type")
    }

    /// 413 for a body above the configured limit (wording guessed).
    pub fn body_too_large(limit: usize) -> Self {
        Self::invalid_request(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Request body too large. The maximum request body size is {limit} bytes."),
        )
    }

    /// 400 for a request hyper could not parse as HTTP/1.1 (bad request line, header or
    /// version); OpenAI's front end answers these itself, wording ours.
    pub fn unparsable_request() -> Self {
        Self::bad_request("The request could not be parsed as HTTP/1.1.".to_owned())
    }

    /// 414 for a request line longer than hyper accepts (64 KiB; wording ours).
    pub fn uri_too_long() -> Self {
        Self::invalid_request(
            StatusCode::URI_TOO_LONG,
            "The request URI is too long.".to_owned(),
        )
    }

    /// 431 for request headers beyond hyper's buffer or count limits (wording ours).
    pub fn headers_too_large() -> Self {
        Self::invalid_request(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "The request headers are too large.".to_owned(),
        )
    }

    /// 400 for a body key the operation does not accept.
    pub fn unknown_parameter(param: &str) -> Self {
        Self::bad_request(format!("Unknown parameter: '{param}'."))
            .with_param(param)
            .with_code("unknown_parameter")
    }

    /// 400 for an absent required parameter.
    pub fn missing_parameter(param: &str) -> Self {
        Self::bad_request(format!("Missing required parameter: '{param}'."))
            .with_param(param)
            .with_code("missing_required_parameter")
    }

    /// 400 for a value of the wrong JSON type; `expected`/`actual` read "a string", "an integer"...
    pub fn invalid_type(param: &str, expected: &str, actual: &str) -> Self {
        Self::bad_request(format!(
            "Invalid type for '{param}': expected {expected}, but got {actual} instead."
        ))
        .with_param(param)
        .with_code("invalid_type")
    }

    /// 400 for a value outside an enumeration.
    pub fn invalid_value(param: &str, value: &str, supported: &[&str]) -> Self {
        Self::bad_request(format!(
            "Invalid value: '{value}'. Supported values are: {}.",
            english_list(supported)
        ))
        .with_param(param)
        .with_code("invalid_value")
    }

    /// 400 for a string longer than allowed.
    pub fn string_too_long(param: &str, max: usize, actual: usize) -> Self {
        Self::bad_request(format!(
            "Invalid '{param}': string too long. Expected a string with maximum length {max}, but got a \
             string with length {actual} instead."
        ))
        .with_param(param)
        .with_code("string_above_max_length")
    }

    /// 400 for an empty string where OpenAI wants at least one character.
    pub fn string_too_short(param: &str) -> Self {
        Self::bad_request(format!(
            "Invalid '{param}': string too short. Expected a string with minimum length 1, but got an empty \
             string instead."
        ))
        .with_param(param)
        .with_code("string_below_min_length")
    }

    /// 400 for an array with too many items.
    pub fn array_too_long(param: &str, max: usize, actual: usize) -> Self {
        Self::bad_request(format!(
            "Invalid '{param}': array too long. Expected an array with maximum length {max}, but got an \
             array with length {actual} instead."
        ))
        .with_param(param)
        .with_code("array_above_max_length")
    }

    /// 400 for an empty array where at least one item is needed.
    pub fn array_too_short(param: &str) -> Self {
        Self::bad_request(format!(
            "Invalid '{param}': empty array. Expected an array with minimum length 1, but got an empty array \
             instead."
        ))
        .with_param(param)
        .with_code("empty_array")
    }

    /// 400 for an object with too many keys (metadata).
    pub fn too_many_properties(param: &str, max: usize, actual: usize) -> Self {
        Self::bad_request(format!(
            "Invalid '{param}': too many properties. Expected an object with at most {max} properties, but \
             got an object with {actual} properties instead."
        ))
        .with_param(param)
        .with_code("object_above_max_properties")
    }

    /// 400 for an object key longer than allowed (metadata keys).
    pub fn key_too_long(param: &str, key: &str, max: usize) -> Self {
        Self::bad_request(format!(
            "Invalid '{param}': key '{key}' too long. Expected a key with maximum length {max}, but got a key \
             with length {} instead.",
            key.chars().count()
        ))
        .with_param(param)
        .with_code("invalid_value")
    }

    /// 400 for an integer below its minimum (e.g. `limit=0`).
    pub fn integer_below_min(param: &str, min: i64, actual: &str) -> Self {
        Self::bad_request(format!(
            "Invalid '{param}': integer below minimum value. Expected a value >= {min}, but got {actual} instead."
        ))
        .with_param(param)
        .with_code("integer_below_min_value")
    }

    /// 400 for an integer above its maximum (e.g. `limit=101`).
    pub fn integer_above_max(param: &str, max: i64, actual: &str) -> Self {
        Self::bad_request(format!(
            "Invalid '{param}': integer above maximum value. Expected a value <= {max}, but got {actual} instead."
        ))
        .with_param(param)
        .with_code("integer_above_max_value")
    }

    /// 400 for a number below its minimum (e.g. `temperature=-1`).
    pub fn decimal_below_min(param: &str, min: f64, actual: &str) -> Self {
        Self::bad_request(format!(
            "Invalid '{param}': decimal below minimum value. Expected a value >= {min}, but got {actual} instead."
        ))
        .with_param(param)
        .with_code("decimal_below_min_value")
    }

    /// 400 for a number above its maximum (e.g. `top_p=2`).
    pub fn decimal_above_max(param: &str, max: f64, actual: &str) -> Self {
        Self::bad_request(format!(
            "Invalid '{param}': decimal above maximum value. Expected a value <= {max}, but got {actual} instead."
        ))
        .with_param(param)
        .with_code("decimal_above_max_value")
    }

    /// 400 for a feature this implementation does not offer yet (wording ours).
    pub fn not_supported(param: &str, what: &str) -> Self {
        Self::bad_request(format!("{what} is not supported by this server yet.")).with_param(param)
    }

    /// 400 when a run is created on a thread that already has one (quoted verbatim).
    pub fn thread_has_active_run(thread_id: &str, run_id: &str) -> Self {
        Self::bad_request(format!(
            "Thread {thread_id} already has an active run {run_id}."
        ))
    }

    /// 400 when a message is added while a run holds the thread (quoted verbatim).
    pub fn thread_locked(thread_id: &str, run_id: &str) -> Self {
        Self::bad_request(format!(
            "Can't add messages to {thread_id} while a run {run_id} is active."
        ))
    }

    /// 400 when a run would have nothing to answer (recorded).
    pub fn invalid_thread() -> Self {
        Self::bad_request(
            "Run creation requires a Thread with a user message or an assistant with instructions."
                .to_owned(),
        )
        .with_code("invalid_thread")
    }

    /// 400 for a function's `parameters` OpenAI would not accept. The form and code are
    /// recorded (`Invalid schema for function 'NAME': ...`, code
    /// `invalid_function_parameters`, param `tools[0].function.parameters`); `reason`
    /// says what is wrong.
    pub fn invalid_function_parameters(param: &str, name: &str, reason: &str) -> Self {
        Self::bad_request(format!("Invalid schema for function '{name}': {reason}"))
            .with_param(param)
            .with_code("invalid_function_parameters")
    }

    /// 400 for a `json_schema` response format OpenAI would not accept; the message form
    /// is quoted in issue threads (`Invalid schema for response_format 'NAME': ...`),
    /// the code is not known and left null.
    pub fn invalid_response_schema(param: &str, name: &str, reason: &str) -> Self {
        Self::bad_request(format!(
            "Invalid schema for response_format '{name}': {reason}"
        ))
        .with_param(param)
    }

    /// 400 for tool outputs sent to a run that is not waiting for them (recorded).
    pub fn run_rejects_tool_outputs(status: RunStatus) -> Self {
        Self::bad_request(format!(
            "Runs in status \"{status}\" do not accept tool outputs."
        ))
    }

    /// 400 for tool outputs that do not answer exactly the pending calls (wording guessed).
    pub fn tool_outputs_mismatch(expected: &[String], got: &[String]) -> Self {
        let list = |ids: &[String]| {
            let quoted: Vec<String> = ids.iter().map(|id| format!("'{id}'")).collect();
            format!("[{}]", quoted.join(", "))
        };
        Self::bad_request(format!(
            "Expected tool outputs for call_ids {}, got {}",
            list(expected),
            list(got)
        ))
    }

    /// 400 for modifying a run the executor is working on (recorded in v1).
    pub fn run_not_updatable(status: RunStatus) -> Self {
        Self::bad_request(format!("Cannot update run with status '{status}'."))
    }

    /// 400 for cancelling a run that has already ended (wording guessed).
    pub fn run_not_cancellable(status: RunStatus) -> Self {
        Self::bad_request(format!("Cannot cancel run with status '{status}'."))
    }

    /// 500 for a failure that is not the client's fault (OpenAI's text).
    pub fn internal(request_hint: &str) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: format!(
                "The server had an error processing your request. Sorry about that! You can retry your \
                 request, or contact us through our help center at help.openai.com if you keep seeing this \
                 error.{request_hint}"
            ),
            kind: "server_error",
            param: None,
            code: None,
        }
    }

    /// Turns a store failure into an answer; `NotFound` needs the caller's noun and id.
    pub fn from_store(error: StoreError, noun: &str, id: &str) -> Self {
        match error {
            StoreError::NotFound => Self::not_found(noun, id),
            other => {
                tracing::error!(error = %other, "store failure");
                Self::internal("")
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        tracing::error!(error = %error, "store failure");
        Self::internal("")
    }
}

/// Masks an API key as OpenAI did: the first 8 and last 4 characters stay visible
/// (`not-a-re**************************ized`). Shorter keys are fully starred.
pub fn mask_api_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 12 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..8].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 12))
}

/// `'a'`, `'a' and 'b'`, `'a', 'b', and 'c'`: OpenAI's way of listing allowed values.
fn english_list(values: &[&str]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("'{v}'")).collect();
    match quoted.len() {
        0 => String::new(),
        1 => quoted[0].clone(),
        2 => format!("{} and {}", quoted[0], quoted[1]),
        n => format!("{}, and {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

impl ApiError {
    /// The answer's body and its content type.
    pub fn body(&self) -> (Vec<u8>, &'static str) {
        let envelope = Envelope {
            error: Body {
                message: &self.message,
                kind: self.kind,
                param: self.param.as_deref(),
                code: self.code,
            },
        };
        // OpenAI's authentication layer answered in a different style from the API
        // itself: 4-space indent, a trailing newline and a charset (ChatTests/AuthFailure).
        if self.status == StatusCode::UNAUTHORIZED {
            let mut body = render_pretty_indented(&envelope, b"    ");
            body.push(b'\n');
            (body, "application/json; charset=utf-8")
        } else {
            (render_pretty(&envelope), "application/json")
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (body, content_type) = self.body();
        let mut response = (self.status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    }
}
