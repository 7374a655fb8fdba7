//! Rewrites the OpenAPI 3.0 idioms the document still uses into JSON Schema 2020-12, so that a
//! standard validator means what the document's authors meant:
//!
//! - `nullable: true` in every form: beside `type`, beside `$ref` or `anyOf`/`oneOf`, alone, and as
//!   an `allOf` member (`allOf: [{$ref}, {nullable: true}]`), which must make the *parent* nullable;
//! - boolean `exclusiveMinimum`/`exclusiveMaximum` (draft 4 style), which do not compile;
//! - draft 2019-09 recursion (`$recursiveAnchor: true` with `$recursiveRef: "#"`), which 2020-12
//!   replaced; inside a component it means "this component", so it becomes a plain `$ref`;
//! - repeated names in `required`, which 2020-12 requires to be unique.
//!
//! The rewrite is generic: it never looks at schema names, only at keyword shapes.

use serde_json::{json, Map, Value};

/// Keywords that describe a schema without constraining it; they stay on the outer schema when a
/// nullable schema is wrapped in `anyOf`.
fn is_annotation(key: &str) -> bool {
    matches!(
        key,
        "description"
            | "title"
            | "default"
            | "example"
            | "examples"
            | "deprecated"
            | "readOnly"
            | "writeOnly"
    ) || key.starts_with("x-")
}

/// Keywords whose presence means `type` alone does not describe the schema, so adding `"null"`
/// to `type` would not be enough to admit null.
const COMPOSITION: &[&str] = &["$ref", "allOf", "anyOf", "oneOf", "not", "const", "if"];

/// Normalises every schema in the document, in place.
pub fn normalise_document(document: &mut Value) {
    if let Some(Value::Object(schemas)) = document.pointer_mut("/components/schemas") {
        for (name, schema) in schemas.iter_mut() {
            resolve_recursion(schema, &format!("#/components/schemas/{name}"));
        }
    }
    walk(document);
}

/// A component marked `$recursiveAnchor: true` that refers to itself with `$recursiveRef: "#"`
/// means a plain self-reference once it is not the root of its own document (as in a bundle).
fn resolve_recursion(component: &mut Value, own_ref: &str) {
    let Value::Object(map) = component else {
        return;
    };
    if map.get("$recursiveAnchor") != Some(&Value::Bool(true)) {
        return;
    }
    map.remove("$recursiveAnchor");
    replace_recursive_refs(component, own_ref);
}

fn replace_recursive_refs(value: &mut Value, own_ref: &str) {
    match value {
        Value::Object(map) => {
            if map.get("$recursiveRef") == Some(&json!("#")) {
                map.remove("$recursiveRef");
                map.insert("$ref".into(), json!(own_ref));
            }
            map.values_mut()
                .for_each(|child| replace_recursive_refs(child, own_ref));
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| replace_recursive_refs(item, own_ref)),
        _ => {}
    }
}

fn walk(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for child in map.values_mut() {
                walk(child);
            }
            normalise_schema(map);
        }
        Value::Array(items) => items.iter_mut().for_each(walk),
        _ => {}
    }
}

/// Rewrites one schema object whose subschemas are already normalised.
fn normalise_schema(map: &mut Map<String, Value>) {
    fix_exclusive_bound(map, "exclusiveMinimum", "minimum");
    fix_exclusive_bound(map, "exclusiveMaximum", "maximum");
    dedupe_required(map);
    let mut nullable = take_nullable(map);
    if hoist_nullable_all_of_members(map) {
        nullable = true;
    }
    if nullable {
        let mut schema = Value::Object(std::mem::take(map));
        allow_null(&mut schema);
        if let Value::Object(rewritten) = schema {
            *map = rewritten;
        }
    }
}

/// Draft 4's `exclusiveMinimum: true` qualifies `minimum`; 2020-12's `exclusiveMinimum` is the bound.
fn fix_exclusive_bound(map: &mut Map<String, Value>, exclusive: &str, inclusive: &str) {
    match map.get(exclusive) {
        Some(Value::Bool(true)) => match map.remove(inclusive) {
            Some(bound) => {
                map.insert(exclusive.to_string(), bound);
            }
            None => {
                map.remove(exclusive);
            }
        },
        Some(Value::Bool(false)) => {
            map.remove(exclusive);
        }
        _ => {}
    }
}

/// `required: [a, b, a]` is the same requirement as `[a, b]`, but only the latter compiles.
fn dedupe_required(map: &mut Map<String, Value>) {
    let Some(Value::Array(names)) = map.get_mut("required") else {
        return;
    };
    let mut seen = Vec::new();
    names.retain(|name| {
        let first = !seen.contains(name);
        if first {
            seen.push(name.clone());
        }
        first
    });
}

/// Removes an OpenAPI `nullable` keyword and says whether it admitted null. Only a boolean is the
/// keyword: a property *named* `nullable` sits under `properties` and is never a boolean.
fn take_nullable(map: &mut Map<String, Value>) -> bool {
    match map.get("nullable") {
        Some(Value::Bool(flag)) => {
            let flag = *flag;
            map.remove("nullable");
            flag
        }
        _ => false,
    }
}

/// In `allOf: [{$ref: X}, {nullable: true}]` the nullable member constrains nothing by itself (it
/// was already rewritten to accept anything); its meaning is "the whole allOf may be null". Such
/// members (after normalisation: only annotations, or `anyOf [{}, null]`) are dropped and reported.
fn hoist_nullable_all_of_members(map: &mut Map<String, Value>) -> bool {
    let Some(Value::Array(members)) = map.get_mut("allOf") else {
        return false;
    };
    let before = members.len();
    members.retain(|member| !is_marker_of_nullability(member));
    before != members.len()
}

fn is_marker_of_nullability(member: &Value) -> bool {
    let Value::Object(map) = member else {
        return false;
    };
    map.get("anyOf") == Some(&json!([{ "type": "null" }, {}]))
        && map.keys().all(|k| k == "anyOf" || is_annotation(k))
}

/// Makes `schema` also accept `null`. Returns false when it already did, which lets an erratum
/// that asks for it notice it is no longer needed.
pub fn allow_null(schema: &mut Value) -> bool {
    let Value::Object(map) = schema else {
        return false;
    };
    if admits_null_already(map) {
        return false;
    }
    let constrained: Vec<String> = map.keys().filter(|k| !is_annotation(k)).cloned().collect();
    let simple_type = map
        .get("type")
        .is_some_and(|t| t.is_string() || t.is_array())
        && !COMPOSITION.iter().any(|k| map.contains_key(*k));
    if simple_type {
        add_null_type(map);
        return true;
    }
    // `$ref` or a composition: admit null beside it. Annotations stay outside so reports keep them;
    // the `{}` member exists only for a schema that constrained nothing (`{nullable: true}` alone).
    let mut inner = Map::new();
    for key in constrained {
        if let Some(value) = map.remove(&key) {
            inner.insert(key, value);
        }
    }
    map.insert(
        "anyOf".into(),
        json!([{ "type": "null" }, Value::Object(inner)]),
    );
    true
}

fn admits_null_already(map: &Map<String, Value>) -> bool {
    let null_type =
        |t: &Value| t == "null" || t.as_array().is_some_and(|a| a.iter().any(|t| t == "null"));
    match map.get("type") {
        Some(t) if null_type(t) => {
            return map
                .get("enum")
                .is_none_or(|e| e.as_array().is_some_and(|e| e.contains(&Value::Null)))
        }
        Some(_) => return false,
        None => {}
    }
    if let Some(Value::Array(branches)) = map.get("anyOf") {
        if branches.iter().any(|b| {
            b.get("type").is_some_and(null_type) && b.as_object().is_some_and(|o| o.len() == 1)
        }) {
            return true;
        }
    }
    false
}

fn add_null_type(map: &mut Map<String, Value>) {
    let types = match map.remove("type") {
        Some(Value::Array(mut types)) => {
            if !types.contains(&json!("null")) {
                types.push(json!("null"));
            }
            types
        }
        Some(Value::String(single)) if single == "null" => vec![json!("null")],
        Some(single) => vec![single, json!("null")],
        None => vec![json!("null")],
    };
    map.insert("type".into(), Value::Array(types));
    if let Some(Value::Array(values)) = map.get_mut("enum") {
        if !values.contains(&Value::Null) {
            values.push(Value::Null);
        }
    }
}

#[cfg(test)]
mod tests;
