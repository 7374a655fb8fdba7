//! Values for the fuzzer: a seeded PRNG, instances generated from the OpenAPI document's
//! schemas (following `$ref`, `oneOf`/`anyOf`/`allOf`, enums and bounds), and mutations
//! that break them the ways clients and attackers do (wrong types, extreme numbers, long
//! and odd strings, deep nesting, truncated or random bytes).

use std::collections::HashMap;

use serde_json::{json, Map, Value};

/// SplitMix64: tiny, seedable and the same on every machine, so a seed replays a run.
pub(super) struct Rng(u64);

impl Rng {
    /// A generator starting from `seed`.
    pub(super) fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True `percent` times in a hundred.
    pub(super) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One of `items` (not empty).
    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Strings that have broken servers before.
const NASTY_STRINGS: &[&str] = &[
    "",
    " ",
    "\u{0000}",
    "null",
    "../../../../etc/passwd",
    "%00%2F%2e%2e",
    "' OR 1=1 --",
    "\"; DROP TABLE assistants; --",
    "\u{202E}\u{FEFF}\u{200B}",
    "𝕳𝖊𝖑𝖑𝖔 🧨 ﷽",
    "\\u0000\\ud800",
    "<script>alert(1)</script>",
    "${jndi:ldap://127.0.0.1/a}",
    "-1",
    "1e309",
    "asst_",
    "thread_abc/../../x",
];

/// Builds request values for one run of the fuzzer.
pub(super) struct Generator<'a> {
    /// The normalised OpenAPI document, for `$ref`s.
    document: &'a Value,
    /// The run's randomness.
    pub rng: Rng,
    /// Ids of objects that exist, by parameter name (`assistant_id`, ...).
    pub ids: &'a HashMap<String, Vec<String>>,
}

impl<'a> Generator<'a> {
    /// A generator over `document` seeded with `seed`.
    pub(super) fn new(
        document: &'a Value,
        seed: u64,
        ids: &'a HashMap<String, Vec<String>>,
    ) -> Self {
        Self {
            document,
            rng: Rng::new(seed),
            ids,
        }
    }

    /// `schema` with `$ref`s followed.
    pub(super) fn resolve(&self, schema: &'a Value) -> &'a Value {
        let mut current = schema;
        for _ in 0..16 {
            match current.get("$ref").and_then(Value::as_str) {
                Some(reference) => match reference
                    .strip_prefix('#')
                    .and_then(|pointer| self.document.pointer(pointer))
                {
                    Some(target) => current = target,
                    None => return &Value::Null,
                },
                None => return current,
            }
        }
        current
    }

    /// An id for a parameter or property called `name`: usually a real one, sometimes
    /// one of the right shape that does not exist, sometimes garbage.
    pub(super) fn id(&mut self, name: &str) -> String {
        let key = if name.ends_with("_ids") {
            name.trim_end_matches('s')
        } else {
            name
        };
        let roll = self.rng.below(100);
        match self.ids.get(key) {
            Some(known) if !known.is_empty() && roll < 70 => self.rng.pick(known).clone(),
            _ if roll < 85 => format!("{}_{:024x}", key.trim_end_matches("_id"), self.rng.next()),
            _ => self.nasty_string(),
        }
    }

    /// A string meant to hurt.
    pub(super) fn nasty_string(&mut self) -> String {
        match self.rng.below(6) {
            // Long, yet within what an HTTP client sends in a URL (64 KiB).
            0 => "a".repeat(20_000),
            1 => "💥".repeat(1_000),
            _ => (*self.rng.pick(NASTY_STRINGS)).to_owned(),
        }
    }

    /// An instance of `schema` (for property `name`), depth-limited for recursive schemas.
    pub(super) fn value(&mut self, schema: &'a Value, name: &str, depth: usize) -> Value {
        let schema = self.resolve(schema);
        if depth > 6 {
            return Value::Null;
        }
        if let Some(constant) = schema.get("const") {
            return constant.clone();
        }
        if let Some(options) = schema.get("enum").and_then(Value::as_array) {
            if !options.is_empty() {
                return self.rng.pick(options).clone();
            }
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(branches) = schema.get(key).and_then(Value::as_array) {
                if !branches.is_empty() {
                    let branch = self.rng.pick(branches);
                    return self.value(branch, name, depth + 1);
                }
            }
        }
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            let mut merged = Map::new();
            let mut last = Value::Null;
            for part in parts {
                match self.value(part, name, depth + 1) {
                    Value::Object(map) => merged.extend(map),
                    other => last = other,
                }
            }
            return if merged.is_empty() {
                last
            } else {
                Value::Object(merged)
            };
        }
        let kind = match schema.get("type") {
            Some(Value::String(kind)) => kind.as_str(),
            Some(Value::Array(kinds)) => {
                let kinds: Vec<&str> = kinds.iter().filter_map(Value::as_str).collect();
                let non_null: Vec<&str> = kinds.iter().copied().filter(|k| *k != "null").collect();
                if non_null.is_empty() || self.rng.chance(10) {
                    "null"
                } else {
                    self.rng.pick(&non_null)
                }
            }
            _ if schema.get("properties").is_some() => "object",
            _ => *self.rng.pick(&["string", "integer", "boolean", "object"]),
        };
        match kind {
            "object" => self.object(schema, depth),
            "array" => {
                let min = bound(schema, "minItems").unwrap_or(0.0) as u64;
                let max = bound(schema, "maxItems").unwrap_or(4.0).min(4.0) as u64;
                let count = min + self.rng.below(max.saturating_sub(min) + 1);
                let items = schema.get("items").unwrap_or(&Value::Null);
                (0..count)
                    .map(|_| self.value(items, name, depth + 1))
                    .collect()
            }
            "string" => Value::String(self.string(schema, name)),
            "integer" => {
                let low = bound(schema, "minimum").unwrap_or(-5.0) as i64;
                let high = bound(schema, "maximum").unwrap_or(1000.0) as i64;
                json!(low + self.rng.below((high - low).max(0) as u64 + 1) as i64)
            }
            "number" => {
                let low = bound(schema, "minimum").unwrap_or(-5.0);
                let high = bound(schema, "maximum").unwrap_or(1000.0);
                json!(low + (high - low) * (self.rng.below(1001) as f64 / 1000.0))
            }
            "boolean" => json!(self.rng.chance(50)),
            _ => Value::Null,
        }
    }

    fn object(&mut self, schema: &'a Value, depth: usize) -> Value {
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|names| names.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut map = Map::new();
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (key, property) in properties {
                if required.contains(&key.as_str()) || self.rng.chance(40) {
                    let value = self.value(property, key, depth + 1);
                    map.insert(key.clone(), value);
                }
            }
        }
        if let Some(extra) = schema.get("additionalProperties").filter(|v| v.is_object()) {
            for index in 0..self.rng.below(4) {
                let value = self.value(extra, "value", depth + 1);
                map.insert(format!("key_{index}"), value);
            }
        }
        Value::Object(map)
    }

    fn string(&mut self, schema: &Value, name: &str) -> String {
        if name.ends_with("_id") || name.ends_with("_ids") || name == "after" || name == "before" {
            return self.id(name);
        }
        let min = bound(schema, "minLength").unwrap_or(0.0) as u64;
        let max = bound(schema, "maxLength").unwrap_or(40.0).min(300.0) as u64;
        let length = min + self.rng.below(max.saturating_sub(min) + 1);
        const ALPHABET: &[char] = &['a', 'b', 'z', 'Q', '0', '9', ' ', '-', '_', 'é', '中', '😀'];
        (0..length).map(|_| *self.rng.pick(ALPHABET)).collect()
    }

    /// `value` broken in one random way; the result may no longer be JSON.
    pub(super) fn mutate(&mut self, value: &Value) -> Vec<u8> {
        let mut value = value.clone();
        match self.rng.below(10) {
            0..=3 => {
                let nasty = self.nasty_value();
                *self.random_node(&mut value) = nasty;
            }
            4 => {
                if let Value::Object(map) = self.random_node(&mut value) {
                    if let Some(key) = map.keys().next().cloned() {
                        map.remove(&key);
                    }
                }
            }
            5 => {
                if let Value::Object(map) = &mut value {
                    map.insert("unexpected_parameter".into(), json!(1));
                }
            }
            6 => {
                let text = value.to_string();
                let cut = self.rng.below(text.len() as u64 + 1) as usize;
                return text.as_bytes()[..cut].to_vec();
            }
            7 => {
                return (0..self.rng.below(64))
                    .map(|_| self.rng.next() as u8)
                    .collect()
            }
            8 => {
                // Numbers no 64-bit integer or double holds.
                let text = value.to_string();
                return format!(
                    "{{\"limit\": 1e99999, \"n\": 18446744073709551616, \"x\": {text}}}"
                )
                .into_bytes();
            }
            _ => {
                let depth = 64 + self.rng.below(512) as usize;
                return format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes();
            }
        }
        value.to_string().into_bytes()
    }

    fn nasty_value(&mut self) -> Value {
        match self.rng.below(9) {
            0 => Value::Null,
            1 => json!(-1),
            2 => json!(i64::MIN),
            3 => json!(f64::MAX),
            4 => json!([]),
            5 => json!({}),
            6 => json!(true),
            7 => json!([[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]),
            _ => Value::String(self.nasty_string()),
        }
    }

    /// A random node of `value` (itself, or somewhere inside its objects and arrays).
    fn random_node<'v>(&mut self, value: &'v mut Value) -> &'v mut Value {
        let children = match &*value {
            Value::Object(map) => map.len(),
            Value::Array(items) => items.len(),
            _ => 0,
        };
        if children == 0 || !self.rng.chance(60) {
            return value;
        }
        let index = self.rng.below(children as u64) as usize;
        let child = match value {
            Value::Object(map) => map.values_mut().nth(index),
            Value::Array(items) => items.get_mut(index),
            _ => None,
        };
        self.random_node(child.expect("index in range"))
    }
}

fn bound(schema: &Value, key: &str) -> Option<f64> {
    schema.get(key).and_then(Value::as_f64)
}

/// `text` percent-encoded for a path segment or query value.
pub(super) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
