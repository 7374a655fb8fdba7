//! Our errata to the document (`openapi/errata.yaml`): each entry is one place where we knowingly
//! differ from it because the real service did, with the reason and the evidence. Errata patch the
//! normalised document before anything is compiled. An entry whose target is gone, or whose change
//! is already true of the document, is an error: errata must never silently stop meaning anything.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::normalise::allow_null;
use super::SpecError;

/// The text of `openapi/errata.yaml`, embedded so a binary always applies the errata it was built with.
pub const ERRATA_YAML: &str = include_str!("../../../openapi/errata.yaml");

/// One deliberate difference from the document.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Erratum {
    /// Stable identifier, used in reports and reviews.
    pub id: String,
    /// JSON pointer into the document to the schema being changed.
    pub target: String,
    /// What is changed there.
    pub change: Change,
    /// Why the document is wrong here.
    pub reason: String,
    /// Where the real behaviour is shown: a recording and entry, or a section of the behaviour notes.
    pub evidence: String,
}

/// The kinds of change an erratum may make; exactly one field is set.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// Admit `null` where the document does not.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_null: bool,
    /// Properties the document requires but the service did not always send.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unrequire: Vec<String>,
    /// Properties the service sent that the document does not declare (needed where the
    /// document forbids extra properties, or to type them).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub add_properties: Map<String, Value>,
    /// Values the service sent that the document's `enum` lacks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add_enum: Vec<Value>,
    /// A schema that replaces the target outright, for shapes no smaller change describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace: Option<Value>,
}

/// Parses the embedded errata.
pub fn embedded() -> Result<Vec<Erratum>, SpecError> {
    parse(ERRATA_YAML)
}

/// Parses an errata file and checks that ids are unique and every entry makes exactly one change.
pub fn parse(text: &str) -> Result<Vec<Erratum>, SpecError> {
    let errata: Vec<Erratum> = serde_yaml::from_str(text).map_err(|e| SpecError::Errata {
        id: "-".into(),
        message: e.to_string(),
    })?;
    let mut ids = std::collections::HashSet::new();
    for erratum in &errata {
        let fail = |message: &str| SpecError::Errata {
            id: erratum.id.clone(),
            message: message.into(),
        };
        if !ids.insert(erratum.id.as_str()) {
            return Err(fail("duplicate id"));
        }
        let change = &erratum.change;
        let kinds = [
            change.allow_null,
            !change.unrequire.is_empty(),
            !change.add_properties.is_empty(),
            !change.add_enum.is_empty(),
            change.replace.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            return Err(fail("the change must set exactly one of allow_null, unrequire, add_properties, add_enum, replace"));
        }
        if erratum.reason.trim().is_empty() || erratum.evidence.trim().is_empty() {
            return Err(fail("every erratum needs a reason and evidence"));
        }
    }
    Ok(errata)
}

/// Applies every erratum to the (normalised) document, in file order.
pub fn apply_all(document: &mut Value, errata: &[Erratum]) -> Result<(), SpecError> {
    errata
        .iter()
        .try_for_each(|erratum| apply(document, erratum))
}

/// Applies one erratum, failing if it no longer applies.
pub fn apply(document: &mut Value, erratum: &Erratum) -> Result<(), SpecError> {
    let fail = |message: String| SpecError::Errata {
        id: erratum.id.clone(),
        message,
    };
    let target = document
        .pointer_mut(&erratum.target)
        .ok_or_else(|| fail(format!("target {} is not in the document", erratum.target)))?;
    let change = &erratum.change;
    if change.allow_null {
        if !allow_null(target) {
            return Err(fail(format!("{} already admits null", erratum.target)));
        }
    } else if !change.unrequire.is_empty() {
        let required = target
            .get_mut("required")
            .and_then(Value::as_array_mut)
            .ok_or_else(|| fail(format!("{} has no `required` list", erratum.target)))?;
        for name in &change.unrequire {
            let before = required.len();
            required.retain(|r| r != name);
            if required.len() == before {
                return Err(fail(format!(
                    "{name} is not required at {}",
                    erratum.target
                )));
            }
        }
    } else if !change.add_properties.is_empty() {
        let properties = target
            .get_mut("properties")
            .and_then(Value::as_object_mut)
            .ok_or_else(|| fail(format!("{} has no `properties`", erratum.target)))?;
        for (name, schema) in &change.add_properties {
            if properties.contains_key(name) {
                return Err(fail(format!("{} already declares {name}", erratum.target)));
            }
            properties.insert(name.clone(), schema.clone());
        }
    } else if !change.add_enum.is_empty() {
        let values = target
            .get_mut("enum")
            .and_then(Value::as_array_mut)
            .ok_or_else(|| fail(format!("{} has no `enum`", erratum.target)))?;
        for value in &change.add_enum {
            if values.contains(value) {
                return Err(fail(format!("{} already allows {value}", erratum.target)));
            }
            values.push(value.clone());
        }
    } else if let Some(replacement) = &change.replace {
        if target == replacement {
            return Err(fail(format!(
                "{} is already the replacement",
                erratum.target
            )));
        }
        *target = replacement.clone();
    }
    Ok(())
}

#[cfg(test)]
mod tests;
