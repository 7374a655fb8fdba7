//! Synthesises a JSON value valid against a JSON Schema, for the offline model's tool
//! arguments and `json_schema` answers: required properties only, `const`, `default`
//! or the first `enum` value when given, else the smallest value of the right type
//! that meets the bounds (`minimum`, `minLength`, `minItems`, ...). Handles nested
//! objects and arrays, `$ref` into `$defs`/`definitions`, `anyOf`/`oneOf`/`allOf`,
//! type lists and a few string `format`s. A missing or empty schema yields `{}`.
//!
//! Generation runs on a budget, checked while generating: the bytes of JSON written
//! and the schema nodes visited. Depth alone does not bound a schema's smallest value
//! (`minItems: 64` of `{"$ref": "#"}` is 64^depth values), so once either budget is
//! spent the value stops growing and is reported cut, as a model stops at its token
//! limit: memory and time stay bounded whatever the schema.

use serde_json::{json, Map, Value};

/// Deepest nesting followed before giving up (recursive `$ref`s).
const MAX_DEPTH: usize = 24;
/// Most items an array gets, whatever its `minItems`.
const MAX_ITEMS: u64 = 64;
/// Longest string generated, whatever its `minLength`.
const MAX_STRING: u64 = 4096;
/// Output bytes of [`value_for`] and [`arguments_for`], which take no budget: the
/// offline model's largest turn (see [`super::render::MAX_OUTPUT_TOKENS`]).
pub const DEFAULT_MAX_BYTES: usize = 128 * 1024;
/// Schema nodes visited per output byte allowed: `$ref`/`anyOf`/`allOf` chains can
/// recurse without writing anything, so visits have their own budget.
const VISITS_PER_BYTE: usize = 2;
/// Visits allowed even for a tiny byte budget.
const MIN_VISITS: usize = 4096;

/// A synthesised value and whether the budget cut it short.
#[derive(Debug, Clone, PartialEq)]
pub struct Synthesised {
    /// The value; when `cut`, a partial one (containers closed early).
    pub value: Value,
    /// The budget ran out before the value was complete.
    pub cut: bool,
    /// Bytes of the value's JSON text written before the budget ran out.
    pub bytes: usize,
}

impl Synthesised {
    /// The value as JSON text of at most the budget's bytes; a cut value ends where
    /// generation stopped (an unfinished JSON text, as a model's truncated answer).
    pub fn into_text(self) -> (String, bool) {
        let mut text = self.value.to_string();
        let cut = self.cut || text.len() > self.bytes;
        if cut {
            truncate_to_char_boundary(&mut text, self.bytes);
        }
        (text, cut)
    }
}

/// Cuts `text` to at most `max` bytes without splitting a character.
pub fn truncate_to_char_boundary(text: &mut String, max: usize) {
    if text.len() <= max {
        return;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
}

/// Arguments for a function whose `parameters` are `schema` (always an object).
pub fn arguments_for(schema: Option<&Value>) -> Value {
    arguments_within(schema, DEFAULT_MAX_BYTES).value
}

/// Arguments for a function whose `parameters` are `schema`, within `max_bytes` of JSON.
/// A schema whose value is not an object yields `{}`.
pub fn arguments_within(schema: Option<&Value>, max_bytes: usize) -> Synthesised {
    let empty = Synthesised {
        value: json!({}),
        cut: max_bytes < 2,
        bytes: max_bytes.min(2),
    };
    let Some(schema) = schema else {
        return empty;
    };
    match synthesise(schema, max_bytes) {
        synthesised @ Synthesised {
            value: Value::Object(_),
            ..
        } => synthesised,
        _ => empty,
    }
}

/// A value valid against `schema`.
pub fn value_for(schema: &Value) -> Value {
    synthesise(schema, DEFAULT_MAX_BYTES).value
}

/// A value valid against `schema` whose JSON text fits `max_bytes`, or the part of it
/// generated before the budget ran out.
pub fn synthesise(schema: &Value, max_bytes: usize) -> Synthesised {
    let mut synthesiser = Synthesiser {
        root: schema,
        bytes_left: max_bytes,
        visits_left: max_bytes.saturating_mul(VISITS_PER_BYTE).max(MIN_VISITS),
        cut: false,
    };
    let value = synthesiser.value(schema, 0);
    Synthesised {
        value,
        cut: synthesiser.cut,
        bytes: max_bytes - synthesiser.bytes_left,
    }
}

struct Synthesiser<'a> {
    /// The whole schema, for resolving `$ref`s.
    root: &'a Value,
    /// Output bytes still allowed.
    bytes_left: usize,
    /// Schema nodes that may still be visited.
    visits_left: usize,
    /// A budget ran out: every value still to come is skipped.
    cut: bool,
}

impl Synthesiser<'_> {
    /// Takes `bytes` of output from the budget; false (and the value is cut) when they
    /// are not left.
    fn charge(&mut self, bytes: usize) -> bool {
        if self.cut || bytes > self.bytes_left {
            self.cut = true;
            return false;
        }
        self.bytes_left -= bytes;
        true
    }

    /// A value copied from the schema (`const`, `default`, `enum`), charged its size.
    fn copied(&mut self, value: &Value) -> Value {
        let size = value.to_string().len();
        if self.charge(size) {
            value.clone()
        } else {
            Value::Null
        }
    }

    fn value(&mut self, schema: &Value, depth: usize) -> Value {
        if self.cut || self.visits_left == 0 {
            self.cut = true;
            return Value::Null;
        }
        self.visits_left -= 1;
        let Some(object) = schema.as_object() else {
            // `true` (or anything non-object) accepts any value.
            return self.copied(&json!({}));
        };
        if depth > MAX_DEPTH {
            return self.copied(&Value::Null);
        }
        if let Some(target) = object.get("$ref").and_then(Value::as_str) {
            if let Some(resolved) = resolve(self.root, target) {
                return self.value(resolved, depth + 1);
            }
        }
        if let Some(constant) = object.get("const") {
            return self.copied(constant);
        }
        if let Some(default) = object.get("default") {
            return self.copied(default);
        }
        if let Some(first) = object
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|v| v.first())
        {
            return self.copied(first);
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
        self.typed(object, depth)
    }

    /// The value for the schema's own type keywords (ignoring `allOf`).
    fn typed(&mut self, object: &Map<String, Value>, depth: usize) -> Value {
        match type_of(object).as_deref() {
            Some("object") => self.object(object, depth),
            Some("array") => self.array(object, depth),
            Some("string") => self.string(object),
            Some("integer") => self.copied(&integer(object)),
            Some("number") => self.copied(&number(object)),
            Some("boolean") => self.copied(&Value::Bool(false)),
            Some("null") => self.copied(&Value::Null),
            _ => self.copied(&json!({})),
        }
    }

    fn object(&mut self, object: &Map<String, Value>, depth: usize) -> Value {
        let mut out = Map::new();
        // `{` and `}`.
        if !self.charge(2) {
            return Value::Object(out);
        }
        let properties = object.get("properties").and_then(Value::as_object);
        let required = object.get("required").and_then(Value::as_array);
        for name in required.into_iter().flatten().filter_map(Value::as_str) {
            if out.contains_key(name) {
                continue;
            }
            let property = properties
                .and_then(|p| p.get(name))
                .unwrap_or(&Value::Bool(true));
            if !self.member(&mut out, name, property, depth) {
                return Value::Object(out);
            }
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
            if !out.contains_key(name) && !self.member(&mut out, name, property, depth) {
                break;
            }
        }
        Value::Object(out)
    }

    /// Adds `"name": value` to `out`; false when the budget ran out on the way.
    fn member(
        &mut self,
        out: &mut Map<String, Value>,
        name: &str,
        property: &Value,
        depth: usize,
    ) -> bool {
        // The quoted key, `:` and the `,` before every member but the first.
        let key =
            Value::String(name.to_owned()).to_string().len() + 1 + usize::from(!out.is_empty());
        if !self.charge(key) {
            return false;
        }
        let value = self.value(property, depth + 1);
        out.insert(name.to_owned(), value);
        !self.cut
    }

    fn array(&mut self, object: &Map<String, Value>, depth: usize) -> Value {
        let mut values = Vec::new();
        // `[` and `]`.
        if !self.charge(2) {
            return Value::Array(values);
        }
        let count = object
            .get("minItems")
            .and_then(Value::as_u64)
            .unwrap_or(0)
            .min(MAX_ITEMS) as usize;
        let prefix = object.get("prefixItems").and_then(Value::as_array);
        let items = object.get("items").unwrap_or(&Value::Bool(true));
        let enum_values = items.get("enum").and_then(Value::as_array);
        let unique = object.get("uniqueItems").and_then(Value::as_bool) == Some(true);
        for position in 0..count {
            if position > 0 && !self.charge(1) {
                break;
            }
            let value = if let Some(schema) = prefix.and_then(|prefix| prefix.get(position)) {
                self.value(schema, depth + 1)
            } else {
                // Distinct enum values keep `uniqueItems` satisfied where possible.
                match enum_values {
                    Some(values) if unique && position < values.len() => {
                        self.copied(&values[position])
                    }
                    _ => self.value(items, depth + 1),
                }
            };
            values.push(value);
            if self.cut {
                break;
            }
        }
        Value::Array(values)
    }

    /// Merges the object parts of an `allOf` (with the schema's own keywords).
    fn all_of(&mut self, object: &Map<String, Value>, parts: &[Value], depth: usize) -> Value {
        let mut merged = Map::new();
        let mut other = None;
        let own = self.typed(object, depth + 1);
        let mut values = vec![own];
        for part in parts {
            if self.cut {
                break;
            }
            values.push(self.value(part, depth + 1));
        }
        for value in values {
            match value {
                Value::Object(fields) => merged.extend(fields),
                value => other = other.or(Some(value)),
            }
        }
        match other {
            Some(value) if merged.is_empty() => value,
            _ => Value::Object(merged),
        }
    }

    fn string(&mut self, object: &Map<String, Value>) -> Value {
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
            return self.copied(&json!(text));
        }
        let length = object
            .get("minLength")
            .and_then(Value::as_u64)
            .unwrap_or(0)
            .min(MAX_STRING) as usize;
        if self.charge(length + 2) {
            return Value::String("a".repeat(length));
        }
        // What fits of it: the opening quote and as many characters as are left.
        let partial = self.bytes_left.saturating_sub(1);
        self.bytes_left = 0;
        Value::String("a".repeat(partial))
    }
}

/// A local `$ref` (`#/$defs/Name`, `#/definitions/Name`, `#`) into `root`.
fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    let pointer = pointer.replace("~1", "/").replace("~0", "~");
    root.pointer(&pointer)
}

/// The declared type; the first non-null one of a type list; guessed from keywords
/// when absent.
fn type_of(object: &Map<String, Value>) -> Option<String> {
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
