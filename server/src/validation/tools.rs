//! Assistant tools, `tool_resources` and `response_format`: checked and normalised
//! the way OpenAI stored them (function tools gain `strict: false`, file_search gains
//! its `ranking_options`, a code_interpreter tool brings an empty file list).

use serde_json::{json, Value};

use super::schema_limits::{check_object_schema_size, check_schema_size};
use super::{json_type_name, number_value, string_value, Checked, Fields};
use crate::api_error::ApiError;
use crate::models::JsonMap;

/// Most tools an assistant may have.
pub const MAX_TOOLS: usize = 128;
/// Tool types an assistant accepts.
const TOOL_TYPES: &[&str] = &["code_interpreter", "file_search", "function"];
/// The ranker OpenAI filled in when none was given.
pub const DEFAULT_RANKER: &str = "default_2024_08_21";

fn object_at<'a>(param: &str, value: &'a Value) -> Checked<&'a JsonMap> {
    value
        .as_object()
        .ok_or_else(|| ApiError::invalid_type(param, "an object", json_type_name(value)))
}

/// Checks and normalises an assistant's `tools` array.
pub fn normalize_tools(items: &[Value]) -> Checked<Vec<Value>> {
    items
        .iter()
        .enumerate()
        .map(|(index, item)| normalize_tool(&format!("tools[{index}]"), item))
        .collect()
}

fn normalize_tool(param: &str, item: &Value) -> Checked<Value> {
    let map = object_at(param, item)?;
    let prefix = format!("{param}.");
    let fields = Fields::new(map, &prefix);
    let kind = fields.required_string("type", usize::MAX)?;
    match kind.as_str() {
        "code_interpreter" => {
            fields.only(&["type"])?;
            Ok(json!({"type": "code_interpreter"}))
        }
        "file_search" => {
            fields.only(&["type", "file_search"])?;
            let options = fields.object("file_search")?.set();
            Ok(
                json!({"type": "file_search", "file_search": file_search_options(&prefix, options)?}),
            )
        }
        "function" => {
            fields.only(&["type", "function"])?;
            let function = object_at(&fields.param("function"), fields.require("function")?)?;
            Ok(json!({"type": "function", "function": function_definition(&prefix, function)?}))
        }
        other => Err(ApiError::invalid_value(
            &fields.param("type"),
            other,
            TOOL_TYPES,
        )),
    }
}

fn file_search_options(prefix: &str, options: Option<&JsonMap>) -> Checked<Value> {
    let empty = JsonMap::new();
    let options_prefix = format!("{prefix}file_search.");
    let fields = Fields::new(options.unwrap_or(&empty), &options_prefix);
    fields.only(&["max_num_results", "ranking_options"])?;
    let mut out = JsonMap::new();
    if let Some(max) = fields.integer("max_num_results", 1, 50)?.set() {
        out.insert("max_num_results".into(), json!(max));
    }
    let ranking_prefix = format!("{options_prefix}ranking_options.");
    let ranking_map = fields.object("ranking_options")?.set().unwrap_or(&empty);
    let ranking = Fields::new(ranking_map, &ranking_prefix);
    ranking.only(&["ranker", "score_threshold"])?;
    let ranker = ranking
        .choice("ranker", &["auto", DEFAULT_RANKER])?
        .set()
        .unwrap_or_else(|| DEFAULT_RANKER.to_owned());
    let threshold = match ranking.value("score_threshold") {
        Some(value) => number_value(&ranking.param("score_threshold"), value, 0.0, 1.0)?,
        None => 0.0,
    };
    out.insert(
        "ranking_options".into(),
        json!({"ranker": ranker, "score_threshold": threshold, "hybrid_search": null}),
    );
    Ok(Value::Object(out))
}

fn function_definition(prefix: &str, function: &JsonMap) -> Checked<Value> {
    let function_prefix = format!("{prefix}function.");
    let fields = Fields::new(function, &function_prefix);
    fields.only(&["name", "description", "parameters", "strict"])?;
    let name = fields.required_string("name", 64)?;
    if name.is_empty() {
        return Err(ApiError::string_too_short(&fields.param("name")));
    }
    let mut out = JsonMap::new();
    out.insert("name".into(), json!(name));
    if let Some(description) = fields.string("description", usize::MAX)?.set() {
        out.insert("description".into(), json!(description));
    }
    let parameters = match fields.object("parameters")?.set() {
        Some(parameters) => Value::Object(parameters.clone()),
        None => json!({"type": "object", "properties": {}}),
    };
    if let Err(excess) = check_schema_size(&parameters) {
        return Err(ApiError::invalid_function_parameters(
            &fields.param("parameters"),
            &name,
            &excess.to_string(),
        ));
    }
    out.insert("parameters".into(), parameters);
    out.insert(
        "strict".into(),
        json!(fields.boolean("strict")?.set().unwrap_or(false)),
    );
    Ok(Value::Object(out))
}

/// Checks and normalises `tool_resources` (assistant or thread), in the order
/// `file_search`, `code_interpreter`.
pub fn normalize_tool_resources(map: &JsonMap) -> Checked<JsonMap> {
    let fields = Fields::new(map, "tool_resources.");
    fields.only(&["code_interpreter", "file_search"])?;
    let mut out = JsonMap::new();
    if let Some(search) = fields.object("file_search")?.set() {
        let search_fields = Fields::new(search, "tool_resources.file_search.");
        search_fields.only(&["vector_store_ids", "vector_stores"])?;
        let ids = string_list(&search_fields, "vector_store_ids", 1)?;
        let mut search = json!({"vector_store_ids": ids});
        // The stores to create are checked and created by the handler (it needs the
        // file store), then replaced by their ids.
        if let Some(stores) = search_fields.array("vector_stores", 1)?.set() {
            search["vector_stores"] = Value::Array(stores.clone());
        }
        out.insert("file_search".into(), search);
    }
    if let Some(interpreter) = fields.object("code_interpreter")?.set() {
        let interpreter_fields = Fields::new(interpreter, "tool_resources.code_interpreter.");
        interpreter_fields.only(&["file_ids"])?;
        let ids = string_list(&interpreter_fields, "file_ids", 20)?;
        out.insert("code_interpreter".into(), json!({"file_ids": ids}));
    }
    Ok(out)
}

fn string_list(fields: &Fields<'_>, key: &str, max: usize) -> Checked<Vec<String>> {
    let items = fields
        .array(key, max)?
        .set()
        .map(Vec::as_slice)
        .unwrap_or_default();
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            string_value(&format!("{}[{index}]", fields.param(key)), item, usize::MAX)
        })
        .collect()
}

/// An assistant's resources: the given ones, plus `code_interpreter: {file_ids: []}`
/// when it has a code_interpreter tool and no files for it.
pub fn assistant_tool_resources(tools: &[Value], given: JsonMap) -> Value {
    let mut resources = given;
    let has_interpreter = tools.iter().any(|tool| tool["type"] == "code_interpreter");
    if has_interpreter && !resources.contains_key("code_interpreter") {
        resources.insert("code_interpreter".into(), json!({"file_ids": []}));
    }
    Value::Object(resources)
}

/// Checks `response_format`: `"auto"` or `{type: text|json_object|json_schema, ...}`, echoed as given.
pub fn normalize_response_format(value: &Value) -> Checked<Value> {
    const TYPES: &[&str] = &["text", "json_object", "json_schema"];
    match value {
        Value::String(text) if text == "auto" => Ok(value.clone()),
        Value::String(text) => Err(ApiError::invalid_value("response_format", text, &["auto"])),
        Value::Object(map) => {
            let fields = Fields::new(map, "response_format.");
            let kind = fields.required_string("type", usize::MAX)?;
            if !TYPES.contains(&kind.as_str()) {
                return Err(ApiError::invalid_value(
                    "response_format.type",
                    &kind,
                    TYPES,
                ));
            }
            if kind == "json_schema" {
                fields.only(&["type", "json_schema"])?;
                let schema = object_at(
                    "response_format.json_schema",
                    fields.require("json_schema")?,
                )?;
                let schema_fields = Fields::new(schema, "response_format.json_schema.");
                let name = schema_fields.required_string("name", 64)?;
                if let Some(body) = schema_fields.object("schema")?.set() {
                    if let Err(excess) = check_object_schema_size(body) {
                        return Err(ApiError::invalid_response_schema(
                            &schema_fields.param("schema"),
                            &name,
                            &excess.to_string(),
                        ));
                    }
                }
            } else {
                fields.only(&["type"])?;
            }
            Ok(value.clone())
        }
        other => Err(ApiError::invalid_type(
            "response_format",
            "an object",
            json_type_name(other),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_tools_gain_strict_false_and_default_parameters() {
        let tools = normalize_tools(&[
            json!({"type": "function", "function": {"description": "d", "name": "f"}}),
        ]);
        assert_eq!(
            serde_json::to_string(&tools.unwrap()).unwrap(),
            r#"[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object","properties":{}},"strict":false}}]"#
        );
    }

    #[test]
    fn file_search_gains_ranking_options() {
        let tools = normalize_tools(&[json!({"type": "file_search"})]).unwrap();
        assert_eq!(
            serde_json::to_string(&tools).unwrap(),
            r#"[{"type":"file_search","file_search":{"ranking_options":{"ranker":"default_2024_08_21","score_threshold":0.0,"hybrid_search":null}}}]"#
        );
    }

    #[test]
    fn file_search_echoes_max_num_results_first() {
        let given = json!({"type": "file_search", "file_search": {"ranking_options": {"score_threshold": 0.5}, "max_num_results": 2}});
        let tools = normalize_tools(&[given]).unwrap();
        assert_eq!(
            serde_json::to_string(&tools).unwrap(),
            r#"[{"type":"file_search","file_search":{"max_num_results":2,"ranking_options":{"ranker":"default_2024_08_21","score_threshold":0.5,"hybrid_search":null}}}]"#
        );
    }

    #[test]
    fn unknown_tool_type_is_invalid_value() {
        let error = normalize_tools(&[json!({"type": "browser"})]).unwrap_err();
        assert_eq!(error.param.as_deref(), Some("tools[0].type"));
        assert_eq!(error.code, Some("invalid_value"));
    }

    #[test]
    fn code_interpreter_brings_empty_file_list() {
        let tools = normalize_tools(&[json!({"type": "code_interpreter"})]).unwrap();
        assert_eq!(
            assistant_tool_resources(&tools, JsonMap::new()),
            json!({"code_interpreter": {"file_ids": []}})
        );
    }

    #[test]
    fn response_format_is_echoed() {
        for given in [json!("auto"), json!({"type": "json_object"})] {
            assert_eq!(normalize_response_format(&given).unwrap(), given);
        }
        assert!(normalize_response_format(&json!({"type": "yaml"})).is_err());
    }
}
