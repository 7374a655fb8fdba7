//! Synthesises a JSON value valid against a JSON Schema, for the offline model's tool
//! arguments and `json_schema` answers: required properties only, `const`, `default`
//! or the first `enum` value when given, else the smallest value of the right type
//! that meets the bounds (`minimum`, `minLength`, `minItems`, ...). Handles nested
//! objects and arrays, `$ref` into `$defs`/`definitions`, `anyOf`/`oneOf`/`allOf`,
//! type lists and a few string `format`s. A missing or empty schema yields `{}`.

use serde_json::{json, Map, Value};

/// Deepest nesting followed before giving up (recursive `$ref`s).
const MAX_DEPTH: usize = 24;

/// Arguments for a function whose `parameters` are `schema` (always an object).
pub fn arguments_for(schema: Option<&Value>) -> Value {
    match schema {
        None => json!({}),
        Some(schema) => match value_for(schema) {
            object @ Value::Object(_) => object,
            _ => json!({}),
        },
    }
}

/// A value valid against `schema`.
pub fn value_for(schema: &Value) -> Value {
    Synthesiser { root: schema }.value(schema, 0)
}

struct Synthesiser<'a> {
    /// The whole schema, for resolving `$ref`s.
    root: &'a Value,
}

impl Synthesiser<'_> {
    fn value(&self, schema: &Value, depth: usize) -> Value {
        let Some(object) = schema.as_object() else {
            // `true` (or anything non-object) accepts any value.
            return json!({});
        };
        if depth > MAX_DEPTH {
            return Value::Null;
        }
        if let Some(target) = object.get("$ref").and_then(Value::as_str) {
            if let Some(resolved) = self.resolve(target) {
                return self.value(resolved, depth + 1);
            }
        }
        if let Some(constant) = object.get("const") {
            return constant.clone();
        }
        if let Some(default) = object.get("default") {
            return default.clone();
        }
        if let Some(first) = object
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|v| v.first())
        {
            return first.clone();
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(first) = object
                .get(key)
                .and_then(Value::as_array)
                .and_then(|v| v.first())
            {
                return self.value(first, depth + 1);
            }
        }
        if let Some(parts) = object.get("allOf").and_then(Value::as_array) {
            return self.all_of(object, parts, depth);
        }
        match self.type_of(object).as_deref() {
            Some("object") => self.object(object, depth),
            Some("array") => self.array(object, depth),
            Some("string") => string(object),
            Some("integer") => integer(object),
            Some("number") => number(object),
            Some("boolean") => Value::Bool(false),
            Some("null") => Value::Null,
            _ => json!({}),
        }
    }

    /// The declared type; the first non-null one of a type list; guessed from keywords
    /// when absent.
    fn type_of(&self, object: &Map<String, Value>) -> Option<String> {
        match object.get("type") {
            Some(Value::String(kind)) => Some(kind.clone()),
            Some(Value::Array(kinds)) => {
                let names: Vec<&str> = kinds.iter().filter_map(Value::as_str).collect();
                names
                    .iter()
                    .find(|kind| **kind != "null")
                    .or(names.first())
                    .map(|kind| (*kind).to_owned())
            }
            _ if object.contains_key("properties") || object.contains_key("required") => {
                Some("object".to_owned())
            }
            _ if object.contains_key("items") => Some("array".to_owned()),
            _ => None,
        }
    }

    fn object(&self, object: &Map<String, Value>, depth: usize) -> Value {
        let properties = object.get("properties").and_then(Value::as_object);
        let required = object.get("required").and_then(Value::as_array);
        let mut out = Map::new();
        for name in required.into_iter().flatten().filter_map(Value::as_str) {
            let property = properties
                .and_then(|p| p.get(name))
                .unwrap_or(&Value::Bool(true));
            out.insert(name.to_owned(), self.value(property, depth + 1));
        }
        // Honour minProperties with optional properties, in declaration order.
        let wanted = object
            .get("minProperties")
            .and_then(Value::as_u64)
            .unwrap_or(0) as usize;
        for (name, property) in properties.into_iter().flatten() {
            if out.len() >= wanted {
                break;
            }
            if !out.contains_key(name) {
                out.insert(name.clone(), self.value(property, depth + 1));
            }
        }
        Value::Object(out)
    }

    fn array(&self, object: &Map<String, Value>, depth: usize) -> Value {
        let count = object
            .get("minItems")
            .and_then(Value::as_u64)
            .unwrap_or(0)
            .min(64) as usize;
        let prefix = object.get("prefixItems").and_then(Value::as_array);
        let items = object.get("items").unwrap_or(&Value::Bool(true));
        let enum_values = items.get("enum").and_then(Value::as_array);
        let unique = object.get("uniqueItems").and_then(Value::as_bool) == Some(true);
        let values = (0..count).map(|position| {
            if let Some(schema) = prefix.and_then(|prefix| prefix.get(position)) {
                return self.value(schema, depth + 1);
            }
            // Distinct enum values keep `uniqueItems` satisfied where possible.
            match enum_values {
                Some(values) if unique && position < values.len() => values[position].clone(),
                _ => self.value(items, depth + 1),
            }
        });
        Value::Array(values.collect())
    }

    /// Merges the object parts of an `allOf` (with the schema's own keywords).
    fn all_of(&self, object: &Map<String, Value>, parts: &[Value], depth: usize) -> Value {
        let mut own = object.clone();
        own.remove("allOf");
        let mut merged = Map::new();
        let mut other = None;
        for part in std::iter::once(&Value::Object(own)).chain(parts) {
            match self.value(part, depth + 1) {
                Value::Object(fields) => merged.extend(fields),
                value => other = other.or(Some(value)),
            }
        }
        match other {
            Some(value) if merged.is_empty() => value,
            _ => Value::Object(merged),
        }
    }

    /// A local `$ref` (`#/$defs/Name`, `#/definitions/Name`, `#`).
    fn resolve(&self, reference: &str) -> Option<&Value> {
        let pointer = reference.strip_prefix('#')?;
        let pointer = pointer.replace("~1", "/").replace("~0", "~");
        self.root.pointer(&pointer)
    }
}

fn string(object: &Map<String, Value>) -> Value {
    let by_format = match object.get("format").and_then(Value::as_str) {
        Some("date-time") => Some("1970-01-01T00:00:00Z"),
        Some("date") => Some("1970-01-01"),
        Some("time") => Some("00:00:00Z"),
        Some("email") => Some("user@example.com"),
        Some("uri" | "url") => Some("https://example.com/"),
        Some("uuid") => Some("00000000-0000-0000-0000-000000000000"),
        _ => None,
    };
    if let Some(text) = by_format {
        return json!(text);
    }
    let length = object
        .get("minLength")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        .min(4096);
    Value::String("a".repeat(length as usize))
}

fn integer(object: &Map<String, Value>) -> Value {
    let bound = |key: &str| object.get(key).and_then(Value::as_f64);
    let mut value: i64 = 0;
    if let Some(minimum) = bound("minimum") {
        value = value.max(minimum.ceil() as i64);
    }
    if let Some(exclusive) = bound("exclusiveMinimum") {
        value = value.max(exclusive.floor() as i64 + 1);
    }
    if let Some(maximum) = bound("maximum") {
        value = value.min(maximum.floor() as i64);
    }
    if let Some(exclusive) = bound("exclusiveMaximum") {
        value = value.min(exclusive.ceil() as i64 - 1);
    }
    if let Some(step) = bound("multipleOf").filter(|step| *step >= 1.0 && step.fract() == 0.0) {
        let step = step as i64;
        value = value.div_euclid(step) * step + if value.rem_euclid(step) == 0 { 0 } else { step };
    }
    json!(value)
}

fn number(object: &Map<String, Value>) -> Value {
    let bound = |key: &str| object.get(key).and_then(Value::as_f64);
    let mut value = 0.0_f64;
    if let Some(minimum) = bound("minimum") {
        value = value.max(minimum);
    }
    if let Some(exclusive) = bound("exclusiveMinimum") {
        if value <= exclusive {
            value = exclusive + 1.0;
        }
    }
    if let Some(maximum) = bound("maximum") {
        value = value.min(maximum);
    }
    if let Some(exclusive) = bound("exclusiveMaximum") {
        if value >= exclusive {
            value = exclusive - 1.0;
        }
    }
    if let Some(step) = bound("multipleOf").filter(|step| *step > 0.0) {
        value = (value / step).ceil() * step;
    }
    if value.fract() == 0.0 && value.abs() < 1e15 {
        json!(value as i64)
    } else {
        json!(value)
    }
}
