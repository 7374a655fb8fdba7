//! Message input: role, the content forms (string, text, `image_url` and
//! `image_file` parts) normalised to OpenAI's stored shape, and attachments.

use serde_json::{json, Value};

use super::{json_type_name, string_value, Checked, Fields};
use crate::api_error::ApiError;
use crate::models::JsonMap;

/// Roles a client may give a message.
pub const ROLES: &[&str] = &["user", "assistant"];
/// Content part types a client may send.
const PART_TYPES: &[&str] = &["image_file", "image_url", "text"];
/// Image detail levels.
const DETAILS: &[&str] = &["auto", "low", "high"];
/// Longest text OpenAI accepted in one message.
pub const MAX_TEXT_LEN: usize = 256_000;

/// A validated message body (create message, or one of a new thread's messages).
#[derive(Debug, Clone, PartialEq)]
pub struct MessageInput {
    /// `user` or `assistant`.
    pub role: String,
    /// Normalised content parts.
    pub content: Vec<Value>,
    /// Attachments as echoed back.
    pub attachments: Vec<Value>,
    /// Metadata, `{}` when absent.
    pub metadata: JsonMap,
}

/// Most attachments one message may carry: the 10 files per message OpenAI documented
/// for v1's `file_ids` (v2's limit was not published).
pub const MAX_ATTACHMENTS: usize = 10;

/// Checks one message object; `prefix` is `""` or e.g. `messages[0].`.
pub fn message_input(map: &JsonMap, prefix: &str) -> Checked<MessageInput> {
    let fields = Fields::new(map, prefix);
    fields.only(&["role", "content", "attachments", "metadata"])?;
    let role = fields.required_string("role", usize::MAX)?;
    if !ROLES.contains(&role.as_str()) {
        return Err(ApiError::invalid_value(&fields.param("role"), &role, ROLES));
    }
    let content = content_parts(&fields.param("content"), fields.require("content")?)?;
    let attachments = match fields.array("attachments", MAX_ATTACHMENTS)?.set() {
        Some(items) => attachments(&fields.param("attachments"), items)?,
        None => Vec::new(),
    };
    let metadata = fields.metadata()?.set().unwrap_or_default();
    Ok(MessageInput {
        role,
        content,
        attachments,
        metadata,
    })
}

fn text_part(value: String) -> Value {
    json!({"type": "text", "text": {"value": value, "annotations": []}})
}

/// A string becomes one text part; an array is checked part by part.
pub fn content_parts(param: &str, value: &Value) -> Checked<Vec<Value>> {
    match value {
        Value::String(_) => Ok(vec![text_part(string_value(param, value, MAX_TEXT_LEN)?)]),
        Value::Array(parts) if parts.is_empty() => Err(ApiError::array_too_short(param)),
        Value::Array(parts) => parts
            .iter()
            .enumerate()
            .map(|(index, part)| content_part(&format!("{param}[{index}]"), part))
            .collect(),
        other => Err(ApiError::invalid_type(
            param,
            "a string",
            json_type_name(other),
        )),
    }
}

fn content_part(param: &str, part: &Value) -> Checked<Value> {
    let Value::Object(map) = part else {
        return Err(ApiError::invalid_type(
            param,
            "an object",
            json_type_name(part),
        ));
    };
    let prefix = format!("{param}.");
    let fields = Fields::new(map, &prefix);
    let kind = fields.required_string("type", usize::MAX)?;
    match kind.as_str() {
        "text" => {
            fields.only(&["type", "text"])?;
            Ok(text_part(fields.required_string("text", MAX_TEXT_LEN)?))
        }
        "image_url" => {
            fields.only(&["type", "image_url"])?;
            let image = image_fields(&fields, "image_url", "url")?;
            Ok(json!({"type": "image_url", "image_url": image}))
        }
        "image_file" => {
            fields.only(&["type", "image_file"])?;
            let image = image_fields(&fields, "image_file", "file_id")?;
            Ok(json!({"type": "image_file", "image_file": image}))
        }
        other => Err(ApiError::invalid_value(
            &fields.param("type"),
            other,
            PART_TYPES,
        )),
    }
}

/// `{<source_key>, detail}` with `detail` defaulting to `auto`.
fn image_fields(fields: &Fields<'_>, key: &str, source_key: &str) -> Checked<Value> {
    let Value::Object(map) = fields.require(key)? else {
        let value = fields.require(key)?;
        return Err(ApiError::invalid_type(
            &fields.param(key),
            "an object",
            json_type_name(value),
        ));
    };
    let prefix = format!("{}.", fields.param(key));
    let image = Fields::new(map, &prefix);
    image.only(&[source_key, "detail"])?;
    let source = image.required_string(source_key, usize::MAX)?;
    let detail = image
        .choice("detail", DETAILS)?
        .set()
        .unwrap_or_else(|| "auto".to_owned());
    let mut out = JsonMap::new();
    out.insert(source_key.to_owned(), json!(source));
    out.insert("detail".to_owned(), json!(detail));
    Ok(Value::Object(out))
}

fn attachments(param: &str, items: &[Value]) -> Checked<Vec<Value>> {
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let item_param = format!("{param}[{index}]");
            let Value::Object(map) = item else {
                return Err(ApiError::invalid_type(
                    &item_param,
                    "an object",
                    json_type_name(item),
                ));
            };
            let prefix = format!("{item_param}.");
            let fields = Fields::new(map, &prefix);
            fields.only(&["file_id", "tools"])?;
            let file_id = fields.required_string("file_id", usize::MAX)?;
            let tools = fields
                .array("tools", usize::MAX)?
                .set()
                .map(Vec::as_slice)
                .unwrap_or_default();
            let tools = tools
                .iter()
                .enumerate()
                .map(|(tool_index, tool)| {
                    attachment_tool(&format!("{prefix}tools[{tool_index}]"), tool)
                })
                .collect::<Checked<Vec<Value>>>()?;
            Ok(json!({"file_id": file_id, "tools": tools}))
        })
        .collect()
}

fn attachment_tool(param: &str, tool: &Value) -> Checked<Value> {
    let Value::Object(map) = tool else {
        return Err(ApiError::invalid_type(
            param,
            "an object",
            json_type_name(tool),
        ));
    };
    let prefix = format!("{param}.");
    let fields = Fields::new(map, &prefix);
    fields.only(&["type"])?;
    let kind = fields.required_string("type", usize::MAX)?;
    const TYPES: &[&str] = &["code_interpreter", "file_search"];
    if !TYPES.contains(&kind.as_str()) {
        return Err(ApiError::invalid_value(&fields.param("type"), &kind, TYPES));
    }
    Ok(json!({"type": kind}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn input(value: Value) -> Checked<MessageInput> {
        message_input(value.as_object().unwrap(), "")
    }

    #[test]
    fn string_content_becomes_a_text_part() {
        let message = input(json!({"role": "user", "content": "Hello, world!"})).unwrap();
        assert_eq!(
            message.content,
            vec![json!({"type": "text", "text": {"value": "Hello, world!", "annotations": []}})]
        );
    }

    #[test]
    fn image_url_detail_defaults_to_auto() {
        let message = input(json!({"role": "user", "content": [
            {"type": "text", "text": "Describe"},
            {"type": "image_url", "image_url": {"url": "https://x/y.png"}}
        ]}))
        .unwrap();
        assert_eq!(
            message.content[1],
            json!({"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "auto"}})
        );
    }

    #[rstest]
    #[case(json!({"content": "x"}), "role", "missing_required_parameter")]
    #[case(json!({"role": "user"}), "content", "missing_required_parameter")]
    #[case(json!({"role": "system", "content": "x"}), "role", "invalid_value")]
    #[case(json!({"role": "user", "content": 5}), "content", "invalid_type")]
    #[case(json!({"role": "user", "content": []}), "content", "empty_array")]
    #[case(json!({"role": "user", "content": [{"type": "video"}]}), "content[0].type", "invalid_value")]
    #[case(json!({"role": "user", "content": "x", "attachments": [{"tools": []}]}), "attachments[0].file_id", "missing_required_parameter")]
    fn rejects_bad_messages(#[case] body: Value, #[case] param: &str, #[case] code: &str) {
        let error = input(body).unwrap_err();
        assert_eq!(
            (error.param.as_deref(), error.code),
            (Some(param), Some(code))
        );
    }

    #[test]
    fn attachments_are_echoed() {
        let given = json!([{"file_id": "file-1", "tools": [{"type": "file_search"}]}]);
        let message = input(json!({"role": "user", "content": "x", "attachments": given})).unwrap();
        assert_eq!(Value::Array(message.attachments), given);
    }
}
