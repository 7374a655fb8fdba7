//! Request-body validation with OpenAI's error messages. [`Fields`] reads one JSON
//! object and knows its parameter path, so nested errors name e.g. `messages[0].role`.

pub mod content;
pub mod schema_limits;
pub mod tools;

use serde_json::Value;

use crate::api_error::ApiError;
use crate::models::JsonMap;

/// Result alias for validation.
pub type Checked<T> = Result<T, ApiError>;

/// Largest number of metadata pairs.
pub const METADATA_MAX_KEYS: usize = 16;
/// Longest metadata key.
pub const METADATA_MAX_KEY_LEN: usize = 64;
/// Longest metadata value.
pub const METADATA_MAX_VALUE_LEN: usize = 512;

/// OpenAI's name for a JSON value's type, as in "but got a boolean instead".
pub fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a decimal",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A field that may be absent, explicitly null, or set.
#[derive(Debug, Clone, PartialEq)]
pub enum Field<T> {
    /// The key was not in the body.
    Absent,
    /// The key was present with `null`.
    Null,
    /// The key was present with a valid value.
    Set(T),
}

impl<T> Field<T> {
    /// `Set` as `Some(Some)`, `Null` as `Some(None)`, `Absent` as `None`: convenient for updates.
    pub fn into_update(self) -> Option<Option<T>> {
        match self {
            Field::Absent => None,
            Field::Null => Some(None),
            Field::Set(value) => Some(Some(value)),
        }
    }

    /// The value if set, otherwise `None`.
    pub fn set(self) -> Option<T> {
        match self {
            Field::Set(value) => Some(value),
            _ => None,
        }
    }
}

/// One JSON object of a request and its parameter path prefix.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    map: &'a JsonMap,
    prefix: &'a str,
}

impl<'a> Fields<'a> {
    /// Fields of `map`, whose keys are named `{prefix}{key}` in errors.
    pub fn new(map: &'a JsonMap, prefix: &'a str) -> Self {
        Self { map, prefix }
    }

    /// The full parameter name of `key`.
    pub fn param(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Rejects any key outside `allowed`, naming the first.
    pub fn only(&self, allowed: &[&str]) -> Checked<()> {
        match self.map.keys().find(|key| !allowed.contains(&key.as_str())) {
            Some(key) => Err(ApiError::unknown_parameter(&self.param(key))),
            None => Ok(()),
        }
    }

    /// The raw value of `key`, treating `null` like absence.
    pub fn value(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn raw(&self, key: &str) -> Field<&'a Value> {
        match self.map.get(key) {
            None => Field::Absent,
            Some(Value::Null) => Field::Null,
            Some(value) => Field::Set(value),
        }
    }

    /// Fails with "Missing required parameter" unless `key` is present and not null.
    pub fn require(&self, key: &str) -> Checked<&'a Value> {
        self.value(key)
            .ok_or_else(|| ApiError::missing_parameter(&self.param(key)))
    }

    /// A string of at most `max` characters.
    pub fn string(&self, key: &str, max: usize) -> Checked<Field<String>> {
        Ok(match self.raw(key) {
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
            Field::Set(value) => Field::Set(string_value(&self.param(key), value, max)?),
        })
    }

    /// A required string of at most `max` characters.
    pub fn required_string(&self, key: &str, max: usize) -> Checked<String> {
        string_value(&self.param(key), self.require(key)?, max)
    }

    /// A string from a fixed set of values.
    pub fn choice(&self, key: &str, allowed: &[&str]) -> Checked<Field<String>> {
        let field = self.string(key, usize::MAX)?;
        if let Field::Set(value) = &field {
            if !allowed.contains(&value.as_str()) {
                return Err(ApiError::invalid_value(&self.param(key), value, allowed));
            }
        }
        Ok(field)
    }

    /// A number within `[min, max]`.
    pub fn number(&self, key: &str, min: f64, max: f64) -> Checked<Field<f64>> {
        Ok(match self.raw(key) {
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
            Field::Set(value) => Field::Set(number_value(&self.param(key), value, min, max)?),
        })
    }

    /// An integer within `[min, max]`.
    pub fn integer(&self, key: &str, min: i64, max: i64) -> Checked<Field<i64>> {
        Ok(match self.raw(key) {
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
            Field::Set(value) => {
                let param = self.param(key);
                let Some(number) = value.as_i64() else {
                    return Err(ApiError::invalid_type(
                        &param,
                        "an integer",
                        json_type_name(value),
                    ));
                };
                if number < min {
                    return Err(ApiError::integer_below_min(
                        &param,
                        min,
                        &number.to_string(),
                    ));
                }
                if number > max {
                    return Err(ApiError::integer_above_max(
                        &param,
                        max,
                        &number.to_string(),
                    ));
                }
                Field::Set(number)
            }
        })
    }

    /// A boolean.
    pub fn boolean(&self, key: &str) -> Checked<Field<bool>> {
        Ok(match self.raw(key) {
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
            Field::Set(Value::Bool(flag)) => Field::Set(*flag),
            Field::Set(other) => {
                return Err(ApiError::invalid_type(
                    &self.param(key),
                    "a boolean",
                    json_type_name(other),
                ))
            }
        })
    }

    /// A nested object.
    pub fn object(&self, key: &str) -> Checked<Field<&'a JsonMap>> {
        Ok(match self.raw(key) {
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
            Field::Set(Value::Object(map)) => Field::Set(map),
            Field::Set(other) => {
                return Err(ApiError::invalid_type(
                    &self.param(key),
                    "an object",
                    json_type_name(other),
                ))
            }
        })
    }

    /// An array of at most `max` items.
    pub fn array(&self, key: &str, max: usize) -> Checked<Field<&'a Vec<Value>>> {
        Ok(match self.raw(key) {
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
            Field::Set(Value::Array(items)) => {
                if items.len() > max {
                    return Err(ApiError::array_too_long(&self.param(key), max, items.len()));
                }
                Field::Set(items)
            }
            Field::Set(other) => {
                return Err(ApiError::invalid_type(
                    &self.param(key),
                    "an array",
                    json_type_name(other),
                ))
            }
        })
    }

    /// `metadata`: up to 16 string pairs, keys ≤64 and values ≤512 characters.
    pub fn metadata(&self) -> Checked<Field<JsonMap>> {
        let param = self.param("metadata");
        Ok(match self.object("metadata")? {
            Field::Absent => Field::Absent,
            Field::Null => Field::Null,
            Field::Set(map) => Field::Set(metadata_value(&param, map)?),
        })
    }
}

/// Checks one metadata object.
pub fn metadata_value(param: &str, map: &JsonMap) -> Checked<JsonMap> {
    if map.len() > METADATA_MAX_KEYS {
        return Err(ApiError::too_many_properties(
            param,
            METADATA_MAX_KEYS,
            map.len(),
        ));
    }
    for (key, value) in map {
        if key.chars().count() > METADATA_MAX_KEY_LEN {
            return Err(ApiError::key_too_long(param, key, METADATA_MAX_KEY_LEN));
        }
        string_value(&format!("{param}.{key}"), value, METADATA_MAX_VALUE_LEN)?;
    }
    Ok(map.clone())
}

/// Checks that `value` is a string of at most `max` characters.
pub fn string_value(param: &str, value: &Value, max: usize) -> Checked<String> {
    let Value::String(text) = value else {
        return Err(ApiError::invalid_type(
            param,
            "a string",
            json_type_name(value),
        ));
    };
    let length = text.chars().count();
    if length > max {
        return Err(ApiError::string_too_long(param, max, length));
    }
    Ok(text.clone())
}

/// Checks that `value` is a number within `[min, max]`.
pub fn number_value(param: &str, value: &Value, min: f64, max: f64) -> Checked<f64> {
    let Some(number) = value.as_f64().filter(|_| value.is_number()) else {
        return Err(ApiError::invalid_type(
            param,
            "a decimal",
            json_type_name(value),
        ));
    };
    if number < min {
        return Err(ApiError::decimal_below_min(param, min, &value.to_string()));
    }
    if number > max {
        return Err(ApiError::decimal_above_max(param, max, &value.to_string()));
    }
    Ok(number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use serde_json::json;

    fn map(value: Value) -> JsonMap {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn metadata_value_must_be_a_string() {
        let body = map(json!({"metadata": {"modified": true}}));
        let error = Fields::new(&body, "").metadata().unwrap_err();
        assert_eq!(
            error.message,
            "Invalid type for 'metadata.modified': expected a string, but got a boolean instead."
        );
        assert_eq!(error.param.as_deref(), Some("metadata.modified"));
        assert_eq!(error.code, Some("invalid_type"));
    }

    #[rstest]
    #[case(16, true)]
    #[case(17, false)]
    fn metadata_holds_at_most_16_keys(#[case] keys: usize, #[case] ok: bool) {
        let metadata: JsonMap = (0..keys).map(|i| (format!("k{i}"), json!("v"))).collect();
        let body = map(json!({ "metadata": metadata }));
        assert_eq!(Fields::new(&body, "").metadata().is_ok(), ok);
    }

    #[rstest]
    #[case(64, 512, true)]
    #[case(65, 1, false)]
    #[case(1, 513, false)]
    fn metadata_lengths(#[case] key_len: usize, #[case] value_len: usize, #[case] ok: bool) {
        let body = map(json!({"metadata": {"k".repeat(key_len): "v".repeat(value_len)}}));
        assert_eq!(Fields::new(&body, "").metadata().is_ok(), ok);
    }

    #[test]
    fn unknown_parameters_are_named_with_their_path() {
        let body = map(json!({"role": "user", "foo": 1}));
        let error = Fields::new(&body, "messages[0].")
            .only(&["role"])
            .unwrap_err();
        assert_eq!(error.message, "Unknown parameter: 'messages[0].foo'.");
        assert_eq!(error.code, Some("unknown_parameter"));
    }

    #[rstest]
    #[case(json!(1), Some(1.0))]
    #[case(json!(0.5), Some(0.5))]
    #[case(json!(2.5), None)]
    #[case(json!("1"), None)]
    fn numbers_are_range_checked(#[case] value: Value, #[case] expected: Option<f64>) {
        assert_eq!(number_value("temperature", &value, 0.0, 2.0).ok(), expected);
    }

    #[rstest]
    #[case(json!(null), "null")]
    #[case(json!(true), "a boolean")]
    #[case(json!(1), "an integer")]
    #[case(json!(1.5), "a decimal")]
    #[case(json!([]), "an array")]
    #[case(json!({}), "an object")]
    fn names_json_types_like_openai(#[case] value: Value, #[case] name: &str) {
        assert_eq!(json_type_name(&value), name);
    }
}
