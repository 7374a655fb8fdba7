//! Scenario variables: `${name}` substitution in requests and expected bodies, and the
//! built-ins every scenario gets (`${model}`, `${run_tag}`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use regex::Regex;
use serde_json::Value;

/// A reference to a variable nobody defined or captured; the step cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown variable ${{{name}}}")]
pub struct UnknownVariable {
    /// The variable's name, without `${}`.
    pub name: String,
}

/// The variables of one scenario run: built-ins plus everything captured so far.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    values: BTreeMap<String, Value>,
}

fn placeholder() -> &'static Regex {
    static PLACEHOLDER: OnceLock<Regex> = OnceLock::new();
    PLACEHOLDER
        .get_or_init(|| Regex::new(r"\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}").expect("valid regex"))
}

impl Vars {
    /// Variables for a new scenario run: `model` and a fresh `run_tag`.
    pub fn for_scenario(model: &str) -> Vars {
        let mut vars = Vars::default();
        vars.set("model", Value::String(model.to_owned()));
        vars.set("run_tag", Value::String(fresh_run_tag()));
        vars
    }

    /// Defines or overwrites a variable (captures overwrite earlier captures of the same name).
    pub fn set(&mut self, name: &str, value: Value) {
        self.values.insert(name.to_owned(), value);
    }

    /// The value of a variable, if defined.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// Replaces every `${name}` in every string of `value` (object keys included). A string that
    /// is exactly one placeholder takes the variable's JSON value; otherwise the value is spliced
    /// in as text.
    pub fn substitute(&self, value: &Value) -> Result<Value, UnknownVariable> {
        Ok(match value {
            Value::String(text) => self.substitute_string(text)?,
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| self.substitute(item))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => {
                let mut out = serde_json::Map::with_capacity(map.len());
                for (key, item) in map {
                    out.insert(self.splice(key)?, self.substitute(item)?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }

    /// Substitutes one string: a whole-string placeholder keeps the variable's JSON type.
    pub fn substitute_string(&self, text: &str) -> Result<Value, UnknownVariable> {
        if let Some(name) = whole_placeholder(text) {
            return self.lookup(name).cloned();
        }
        self.splice(text).map(Value::String)
    }

    /// Substitutes every placeholder of `text` as text (strings unquoted, other values as JSON).
    pub fn splice(&self, text: &str) -> Result<String, UnknownVariable> {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for found in placeholder().captures_iter(text) {
            let whole = found.get(0).expect("group 0 always matches");
            out.push_str(&text[last..whole.start()]);
            out.push_str(&as_text(self.lookup(&found[1])?));
            last = whole.end();
        }
        out.push_str(&text[last..]);
        Ok(out)
    }

    fn lookup(&self, name: &str) -> Result<&Value, UnknownVariable> {
        self.values.get(name).ok_or_else(|| UnknownVariable {
            name: name.to_owned(),
        })
    }
}

/// The variable named by a string that is exactly one placeholder, e.g. `"${asst}"`.
pub fn whole_placeholder(text: &str) -> Option<&str> {
    let found = placeholder().captures(text)?;
    let whole = found.get(0)?;
    (whole.start() == 0 && whole.end() == text.len())
        .then(|| found.get(1).expect("group 1").as_str())
}

/// Every variable name referenced anywhere in `value`, for deciding whether a cleanup step can run.
pub fn referenced_names(value: &Value) -> Vec<String> {
    let mut names = Vec::new();
    collect_names(value, &mut names);
    names
}

fn collect_names(value: &Value, names: &mut Vec<String>) {
    let from_text = |text: &str, names: &mut Vec<String>| {
        for found in placeholder().captures_iter(text) {
            if !names.iter().any(|known| known == &found[1]) {
                names.push(found[1].to_owned());
            }
        }
    };
    match value {
        Value::String(text) => from_text(text, names),
        Value::Array(items) => items.iter().for_each(|item| collect_names(item, names)),
        Value::Object(map) => {
            for (key, item) in map {
                from_text(key, names);
                collect_names(item, names);
            }
        }
        _ => {}
    }
}

/// A value rendered for a URL, header or spliced string: strings without quotes, the rest as JSON.
pub fn as_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A tag unique to one scenario run within this process and across runs, for names that must
/// not collide between concurrent runs.
fn fresh_run_tag() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let sequence = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mixed = (nanos as u64)
        ^ (u64::from(std::process::id()) << 32)
        ^ sequence.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!("ct{mixed:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use serde_json::json;

    fn vars() -> Vars {
        let mut vars = Vars::for_scenario("gpt-4o");
        vars.set("asst", json!("asst_abc123"));
        vars.set("limit", json!(2));
        vars.set("meta", json!({"k": "v"}));
        vars
    }

    #[rstest]
    #[case(json!("${asst}"), json!("asst_abc123"))]
    #[case(json!("${limit}"), json!(2))]
    #[case(json!("${meta}"), json!({"k": "v"}))]
    #[case(json!("id=${asst}&n=${limit}"), json!("id=asst_abc123&n=2"))]
    #[case(json!({"model": "${model}", "list": ["${limit}", "x"]}), json!({"model": "gpt-4o", "list": [2, "x"]}))]
    #[case(json!({"${asst}": true}), json!({"asst_abc123": true}))]
    #[case(json!("no placeholders $ {x} $x"), json!("no placeholders $ {x} $x"))]
    #[case(json!(3.5), json!(3.5))]
    fn substitutes_placeholders(#[case] input: Value, #[case] expected: Value) {
        assert_eq!(vars().substitute(&input).unwrap(), expected);
    }

    #[rstest]
    #[case(json!("${nope}"))]
    #[case(json!("prefix ${nope} suffix"))]
    #[case(json!({"a": ["${nope}"]}))]
    fn unknown_variables_are_errors_not_empty_strings(#[case] input: Value) {
        assert_eq!(
            vars().substitute(&input),
            Err(UnknownVariable {
                name: "nope".into()
            })
        );
    }

    #[test]
    fn run_tags_differ_between_scenario_runs() {
        let first = Vars::for_scenario("m");
        let second = Vars::for_scenario("m");
        assert_ne!(first.get("run_tag"), second.get("run_tag"));
    }

    #[test]
    fn referenced_names_are_listed_once_in_order() {
        let names = referenced_names(&json!({"a": "${x}/${y}", "${z}": ["${x}"]}));
        assert_eq!(names, vec!["x", "y", "z"]);
    }

    #[rstest]
    #[case("${a}", Some("a"))]
    #[case(" ${a}", None)]
    #[case("${a}${b}", None)]
    #[case("$id:asst_", None)]
    fn whole_placeholders_are_recognised(#[case] text: &str, #[case] expected: Option<&str>) {
        assert_eq!(whole_placeholder(text), expected);
    }
}
