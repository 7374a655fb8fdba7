//! Turning the normalised document into validators. Each root schema (an operation's response, the
//! error envelope, one stream-event branch) is bundled with every component it reaches into one
//! self-contained 2020-12 schema (`#/components/schemas/X` becomes `#/$defs/X`) and compiled. The
//! bundle is validated against the 2020-12 meta-schema as a whole, so every reachable component is
//! checked, not only the parts a given response happens to exercise.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use jsonschema::{Draft, Validator};
use serde_json::{Map, Value};

use super::SpecError;

const COMPONENT_PREFIX: &str = "#/components/schemas/";
const DEFS_PREFIX: &str = "#/$defs/";

/// A compiled root schema, shared by every operation and event that uses it.
pub(super) type SharedValidator = Arc<Validator>;

/// The JSON pointer of the schema at `pointer`, following it when it is nothing but a `$ref` to a
/// component, so that operations and events answering with the same object share one validator.
pub(super) fn canonical_root(document: &Value, pointer: &str) -> Result<String, SpecError> {
    let schema = document
        .pointer(pointer)
        .ok_or_else(|| SpecError::Compile {
            pointer: pointer.to_string(),
            message: "no schema at this location".into(),
        })?;
    match schema.as_object() {
        Some(map) if map.len() == 1 => match map.get("$ref").and_then(Value::as_str) {
            Some(reference) => component_pointer(pointer, reference),
            None => Ok(pointer.to_string()),
        },
        _ => Ok(pointer.to_string()),
    }
}

/// The document pointer of a `#/components/schemas/...` reference; other references are not
/// supported and reported as compile errors rather than left unresolved.
fn component_pointer(at: &str, reference: &str) -> Result<String, SpecError> {
    match reference.strip_prefix('#') {
        Some(pointer) if reference.starts_with(COMPONENT_PREFIX) => Ok(pointer.to_string()),
        _ => Err(SpecError::Compile {
            pointer: at.to_string(),
            message: format!(
                "unsupported $ref {reference} (only {COMPONENT_PREFIX}... is resolved)"
            ),
        }),
    }
}

/// Builds the self-contained bundle for the schema at `pointer`.
pub(super) fn bundle(document: &Value, pointer: &str) -> Result<Value, SpecError> {
    let schemas = document
        .pointer("/components/schemas")
        .and_then(Value::as_object);
    let root = document
        .pointer(pointer)
        .ok_or_else(|| SpecError::Compile {
            pointer: pointer.to_string(),
            message: "no schema at this location".into(),
        })?;
    let mut reached = BTreeMap::new();
    let mut bundle = match component_name(pointer) {
        // A component root is referenced, not inlined, so its references to itself stay valid.
        Some(name) => {
            reached.insert(name.to_string(), pointer.to_string());
            let mut map = Map::new();
            map.insert("$ref".into(), Value::String(format!("{DEFS_PREFIX}{name}")));
            map
        }
        None => match rewrite_refs(root, pointer, false, &mut reached)? {
            Value::Object(map) => map,
            Value::Bool(true) => Map::new(),
            _ => {
                return Err(SpecError::Compile {
                    pointer: pointer.to_string(),
                    message: "not a schema".into(),
                })
            }
        },
    };
    let mut defs = Map::new();
    let mut pending: Vec<(String, String)> = reached.into_iter().collect();
    while let Some((name, referenced_at)) = pending.pop() {
        if defs.contains_key(&name) {
            continue;
        }
        let component = schemas
            .and_then(|s| s.get(&name))
            .ok_or_else(|| SpecError::Compile {
                pointer: referenced_at.clone(),
                message: format!("$ref to missing component {COMPONENT_PREFIX}{name}"),
            })?;
        let mut next = BTreeMap::new();
        let rewritten = rewrite_refs(
            component,
            &format!("/components/schemas/{name}"),
            false,
            &mut next,
        )?;
        defs.insert(name, rewritten);
        pending.extend(next.into_iter().filter(|(n, _)| !defs.contains_key(n)));
    }
    if bundle.contains_key("$defs") {
        return Err(SpecError::Compile {
            pointer: pointer.to_string(),
            message: "root already has $defs".into(),
        });
    }
    bundle.insert("$defs".into(), Value::Object(defs));
    Ok(Value::Object(bundle))
}

/// `X` for `/components/schemas/X`, `None` for any other pointer.
fn component_name(pointer: &str) -> Option<&str> {
    pointer
        .strip_prefix("/components/schemas/")
        .filter(|name| !name.contains('/'))
}

/// Keywords whose value maps names to subschemas (as opposed to being a subschema or data).
fn is_schema_map(key: &str) -> bool {
    matches!(
        key,
        "properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas"
    )
}

/// Copies `schema` with component references pointed into `$defs`, recording each component
/// reached and where it was first referenced. `names_map` says `schema` is a name -> schema map.
fn rewrite_refs(
    schema: &Value,
    at: &str,
    names_map: bool,
    reached: &mut BTreeMap<String, String>,
) -> Result<Value, SpecError> {
    Ok(match schema {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, value) in map {
                let here = format!("{at}/{}", escape(key));
                let value = match (key.as_str(), value) {
                    _ if names_map => rewrite_refs(value, &here, false, reached)?,
                    ("$ref", Value::String(reference)) => {
                        component_pointer(at, reference)?;
                        let tail = &reference[COMPONENT_PREFIX.len()..];
                        let name = tail.split('/').next().unwrap_or(tail);
                        reached
                            .entry(name.to_string())
                            .or_insert_with(|| at.to_string());
                        Value::String(format!("{DEFS_PREFIX}{tail}"))
                    }
                    (k, _) if is_schema_map(k) => rewrite_refs(value, &here, true, reached)?,
                    // Examples, enums and vendor extensions are data, not schemas: never follow refs there.
                    ("example" | "examples" | "default" | "const" | "enum", _) => value.clone(),
                    (k, _) if k.starts_with("x-") => value.clone(),
                    _ => rewrite_refs(value, &here, false, reached)?,
                };
                out.insert(key.clone(), value);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| rewrite_refs(item, &format!("{at}/{i}"), false, reached))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Compiles the bundle for `pointer`; any failure names the root and the validator's complaint.
pub(super) fn compile(document: &Value, pointer: &str) -> Result<Validator, SpecError> {
    let bundle = bundle(document, pointer)?;
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .build(&bundle)
        .map_err(|e| SpecError::Compile {
            pointer: pointer.to_string(),
            // The bundle is the instance when it is checked against the meta-schema, so the
            // instance path is where in the bundle (`/$defs/Name/...`) the problem is.
            message: format!(
                "{e} (at {} in the bundle; meta-schema keyword {})",
                e.instance_path().as_str(),
                e.schema_path().as_str()
            ),
        })
}

/// Compiles every root once, on as many threads as the machine offers.
pub(super) fn compile_all(
    document: &Value,
    roots: &BTreeSet<String>,
) -> Result<BTreeMap<String, SharedValidator>, SpecError> {
    let roots: Vec<&String> = roots.iter().collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(roots.len().max(1));
    let chunk = roots.len().div_ceil(threads).max(1);
    let results: Vec<Result<Vec<(String, SharedValidator)>, SpecError>> =
        std::thread::scope(|scope| {
            let handles: Vec<_> = roots
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|root| {
                                compile(document, root).map(|v| (root.to_string(), Arc::new(v)))
                            })
                            .collect()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("schema compilation panicked"))
                .collect()
        });
    let mut compiled = BTreeMap::new();
    for result in results {
        compiled.extend(result?);
    }
    Ok(compiled)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn document() -> Value {
        json!({"components": {"schemas": {
            "Run": {"type": "object", "properties": {"usage": {"$ref": "#/components/schemas/Usage"}}},
            "Usage": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Usage"}}},
            "Unrelated": {"type": "string"},
            "Broken": {"type": "object", "properties": {"n": {"type": "number", "exclusiveMinimum": true}}},
            "Dangling": {"$ref": "#/components/schemas/Nowhere"}
        }}})
    }

    #[test]
    fn a_bundle_holds_exactly_the_reachable_components() {
        let bundle = bundle(&document(), "/components/schemas/Run").unwrap();
        assert_eq!(bundle["$ref"], "#/$defs/Run");
        let defs: Vec<&String> = bundle["$defs"].as_object().unwrap().keys().collect();
        assert_eq!(defs.len(), 2);
        assert!(defs.contains(&&"Run".to_string()) && defs.contains(&&"Usage".to_string()));
        assert_eq!(
            bundle["$defs"]["Usage"]["properties"]["next"]["$ref"],
            "#/$defs/Usage"
        );
    }

    #[test]
    fn a_schema_that_does_not_compile_is_named() {
        let err = compile(&document(), "/components/schemas/Broken").unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(&err, SpecError::Compile { pointer, .. } if pointer == "/components/schemas/Broken"),
            "{text}"
        );
        assert!(
            text.contains("/$defs/Broken/properties/n/exclusiveMinimum"),
            "{text}"
        );
    }

    #[test]
    fn a_dangling_ref_is_a_compile_error() {
        let err = compile(&document(), "/components/schemas/Dangling").unwrap_err();
        assert!(err.to_string().contains("Nowhere"), "{err}");
    }

    #[test]
    fn recursive_components_compile_and_validate() {
        let validator = compile(&document(), "/components/schemas/Run").unwrap();
        assert!(validator.is_valid(&json!({"usage": {"next": {"next": {}}}})));
        assert!(!validator.is_valid(&json!({"usage": {"next": 3}})));
    }
}
