//! Attribute filters of vector store search: comparisons (`eq`, `ne`, `gt`, `gte`,
//! `lt`, `lte`, `in`, `nin`) and `and`/`or` compounds, checked on input and evaluated
//! on each file's `attributes` before ranking.

use std::cmp::Ordering;

use serde_json::Value;

use crate::api_error::ApiError;
use crate::models::JsonMap;
use crate::validation::{json_type_name, Checked};

/// Every `type` a filter may have.
const FILTER_TYPES: &[&str] = &[
    "eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "and", "or",
];
/// Deepest nesting of compound filters accepted (guards the recursion).
const MAX_DEPTH: usize = 8;

/// A checked filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `{type, key, value}`.
    Compare {
        /// `eq`, `ne`, `gt`, `gte`, `lt`, `lte`, `in` or `nin`.
        op: String,
        /// The attribute compared.
        key: String,
        /// What it is compared with.
        value: Value,
    },
    /// Every filter must match.
    And(Vec<Filter>),
    /// At least one filter must match.
    Or(Vec<Filter>),
}

/// Checks a request's `filters` value; `param` names it in errors.
pub fn parse_filter(value: &Value, param: &str) -> Checked<Filter> {
    parse_at(value, param, 0)
}

fn parse_at(value: &Value, param: &str, depth: usize) -> Checked<Filter> {
    let Value::Object(map) = value else {
        return Err(ApiError::invalid_type(
            param,
            "an object",
            json_type_name(value),
        ));
    };
    if depth > MAX_DEPTH {
        return Err(super::errors::bad_param(
            param,
            format!("Invalid '{param}': filters may nest at most {MAX_DEPTH} levels deep."),
        ));
    }
    let kind_param = format!("{param}.type");
    let kind = match map.get("type") {
        None | Some(Value::Null) => return Err(ApiError::missing_parameter(&kind_param)),
        Some(Value::String(kind)) => kind.as_str(),
        Some(other) => {
            return Err(ApiError::invalid_type(
                &kind_param,
                "a string",
                json_type_name(other),
            ))
        }
    };
    if !FILTER_TYPES.contains(&kind) {
        return Err(ApiError::invalid_value(&kind_param, kind, FILTER_TYPES));
    }
    if kind == "and" || kind == "or" {
        return parse_compound(map, kind, param, depth);
    }
    let fields = crate::validation::Fields::new(map, "");
    if let Some(extra) = map
        .keys()
        .find(|k| !["type", "key", "value"].contains(&k.as_str()))
    {
        return Err(ApiError::unknown_parameter(&format!("{param}.{extra}")));
    }
    let key = match fields.value("key") {
        Some(Value::String(key)) => key.clone(),
        Some(other) => {
            return Err(ApiError::invalid_type(
                &format!("{param}.key"),
                "a string",
                json_type_name(other),
            ))
        }
        None => return Err(ApiError::missing_parameter(&format!("{param}.key"))),
    };
    let value_param = format!("{param}.value");
    let value = fields
        .value("value")
        .ok_or_else(|| ApiError::missing_parameter(&value_param))?;
    check_comparison_value(kind, value, &value_param)?;
    Ok(Filter::Compare {
        op: kind.to_owned(),
        key,
        value: value.clone(),
    })
}

fn parse_compound(map: &JsonMap, kind: &str, param: &str, depth: usize) -> Checked<Filter> {
    if let Some(extra) = map
        .keys()
        .find(|k| !["type", "filters"].contains(&k.as_str()))
    {
        return Err(ApiError::unknown_parameter(&format!("{param}.{extra}")));
    }
    let filters_param = format!("{param}.filters");
    let items = match map.get("filters") {
        None | Some(Value::Null) => return Err(ApiError::missing_parameter(&filters_param)),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(ApiError::invalid_type(
                &filters_param,
                "an array",
                json_type_name(other),
            ))
        }
    };
    let parsed = items
        .iter()
        .enumerate()
        .map(|(i, item)| parse_at(item, &format!("{filters_param}[{i}]"), depth + 1))
        .collect::<Checked<Vec<_>>>()?;
    Ok(if kind == "and" {
        Filter::And(parsed)
    } else {
        Filter::Or(parsed)
    })
}

fn check_comparison_value(op: &str, value: &Value, param: &str) -> Checked<()> {
    let scalar = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
    let ok = match op {
        "in" | "nin" => value
            .as_array()
            .is_some_and(|items| items.iter().all(|v| v.is_string() || v.is_number())),
        _ => scalar(value),
    };
    if ok {
        return Ok(());
    }
    let expected = if op == "in" || op == "nin" {
        "an array of strings or numbers"
    } else {
        "a string, number, or boolean"
    };
    Err(ApiError::invalid_type(
        param,
        expected,
        json_type_name(value),
    ))
}

impl Filter {
    /// Whether a file with `attributes` passes. A comparison on a missing attribute
    /// fails, except `ne` and `nin`, which a missing value satisfies.
    pub fn matches(&self, attributes: &JsonMap) -> bool {
        match self {
            Filter::And(filters) => filters.iter().all(|f| f.matches(attributes)),
            Filter::Or(filters) => filters.iter().any(|f| f.matches(attributes)),
            Filter::Compare { op, key, value } => {
                let Some(actual) = attributes.get(key).filter(|v| !v.is_null()) else {
                    return op == "ne" || op == "nin";
                };
                compare(op, actual, value)
            }
        }
    }
}

fn compare(op: &str, actual: &Value, expected: &Value) -> bool {
    match op {
        "eq" => same(actual, expected),
        "ne" => !same(actual, expected),
        "in" => expected
            .as_array()
            .is_some_and(|items| items.iter().any(|v| same(actual, v))),
        "nin" => !expected
            .as_array()
            .is_some_and(|items| items.iter().any(|v| same(actual, v))),
        _ => match order(actual, expected) {
            Some(ordering) => match op {
                "gt" => ordering == Ordering::Greater,
                "gte" => ordering != Ordering::Less,
                "lt" => ordering == Ordering::Less,
                "lte" => ordering != Ordering::Greater,
                _ => false,
            },
            None => false,
        },
    }
}

/// Equality with numbers compared by value (`1` equals `1.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// Numbers order numerically and strings lexically; other pairs do not order.
fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => a.as_f64()?.partial_cmp(&b.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(value: Value) -> JsonMap {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn comparisons_and_compounds() {
        let file = attrs(json!({"year": 2021, "team": "red", "public": true}));
        let check = |filter: Value| parse_filter(&filter, "filters").unwrap().matches(&file);
        assert!(check(json!({"type": "eq", "key": "team", "value": "red"})));
        assert!(check(
            json!({"type": "gte", "key": "year", "value": 2021.0})
        ));
        assert!(!check(json!({"type": "lt", "key": "year", "value": 2000})));
        assert!(check(json!({"type": "ne", "key": "missing", "value": 1})));
        assert!(check(
            json!({"type": "in", "key": "team", "value": ["blue", "red"]})
        ));
        assert!(check(json!({"type": "and", "filters": [
            {"type": "eq", "key": "public", "value": true},
            {"type": "or", "filters": [
                {"type": "eq", "key": "team", "value": "blue"},
                {"type": "gt", "key": "year", "value": 2020}
            ]}
        ]})));
    }

    #[test]
    fn malformed_filters_are_rejected() {
        for bad in [
            json!({"type": "eq", "key": "a"}),
            json!({"type": "like", "key": "a", "value": 1}),
            json!({"type": "and"}),
            json!({"type": "in", "key": "a", "value": 1}),
            json!("eq"),
        ] {
            assert!(parse_filter(&bad, "filters").is_err(), "{bad}");
        }
    }
}
