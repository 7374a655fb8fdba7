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

/// One deliberate difference from the document: one observed fact, made true by one or more patches.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Erratum {
    /// Stable identifier, used in reports and reviews.
    pub id: String,
    /// Why the document is wrong here.
    pub reason: String,
    /// Where the real behaviour is shown: a recording and entry, or a section of the behaviour notes.
    pub evidence: String,
    /// The changes, applied in order.
    pub patches: Vec<Patch>,
}

/// One change at one place in the document.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    /// JSON pointer into the document to the schema being changed (or, for `copy_from`, created).
    pub target: String,
    /// What is changed there.
    pub change: Change,
}

/// The kinds of change a patch may make; exactly one field is set.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// Admit `null` where the document does not.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_null: bool,
    /// Properties the document requires but the service did not always send.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unrequire: Vec<String>,
    /// Properties the service sent that the document does not declare, so that their shape is
    /// checked rather than merely tolerated.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub add_properties: Map<String, Value>,
    /// Values the service sent that the document's `enum` lacks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add_enum: Vec<Value>,
    /// A value that replaces the target outright, for shapes no smaller change describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace: Option<Value>,
    /// Creates the (absent) target as a copy of the schema at this pointer, so that one
    /// operation can get a variant of a shared schema without loosening it for the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy_from: Option<String>,
}

impl Change {
    fn kinds_set(&self) -> usize {
        [
            self.allow_null,
            !self.unrequire.is_empty(),
            !self.add_properties.is_empty(),
            !self.add_enum.is_empty(),
            self.replace.is_some(),
            self.copy_from.is_some(),
        ]
        .iter()
        .filter(|set| **set)
        .count()
    }
}

/// Parses the embedded errata.
pub fn embedded() -> Result<Vec<Erratum>, SpecError> {
    parse(ERRATA_YAML)
}

/// Parses an errata file and checks that ids are unique and every patch makes exactly one change.
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
        if erratum.patches.is_empty() {
            return Err(fail("an erratum needs at least one patch"));
        }
        if erratum
            .patches
            .iter()
            .any(|patch| patch.change.kinds_set() != 1)
        {
            return Err(fail(
                "a change sets exactly one of allow_null, unrequire, add_properties, add_enum, replace, copy_from",
            ));
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

/// Applies one erratum, failing if any of its patches no longer applies.
pub fn apply(document: &mut Value, erratum: &Erratum) -> Result<(), SpecError> {
    for patch in &erratum.patches {
        apply_patch(document, patch).map_err(|message| SpecError::Errata {
            id: erratum.id.clone(),
            message: format!("{}: {message}", patch.target),
        })?;
    }
    Ok(())
}

fn apply_patch(document: &mut Value, patch: &Patch) -> Result<(), String> {
    let change = &patch.change;
    if let Some(source) = &change.copy_from {
        return copy(document, source, &patch.target);
    }
    let target = document
        .pointer_mut(&patch.target)
        .ok_or("the target is not in the document")?;
    if change.allow_null {
        if !allow_null(target) {
            return Err("it already admits null".into());
        }
    } else if !change.unrequire.is_empty() {
        let required = target
            .get_mut("required")
            .and_then(Value::as_array_mut)
            .ok_or("it has no `required` list")?;
        for name in &change.unrequire {
            let before = required.len();
            required.retain(|r| r != name);
            if required.len() == before {
                return Err(format!("{name} is not required there"));
            }
        }
    } else if !change.add_properties.is_empty() {
        let properties = target
            .get_mut("properties")
            .and_then(Value::as_object_mut)
            .ok_or("it has no `properties`")?;
        for (name, schema) in &change.add_properties {
            if properties.contains_key(name) {
                return Err(format!("it already declares {name}"));
            }
            properties.insert(name.clone(), schema.clone());
        }
    } else if !change.add_enum.is_empty() {
        let values = target
            .get_mut("enum")
            .and_then(Value::as_array_mut)
            .ok_or("it has no `enum`")?;
        for value in &change.add_enum {
            if values.contains(value) {
                return Err(format!("it already allows {value}"));
            }
            values.push(value.clone());
        }
    } else if let Some(replacement) = &change.replace {
        if target == replacement {
            return Err("it already is the replacement".into());
        }
        *target = replacement.clone();
    }
    Ok(())
}

/// Creates `target` (which must not exist, in an existing parent object) as a copy of `source`.
fn copy(document: &mut Value, source: &str, target: &str) -> Result<(), String> {
    let copied = document
        .pointer(source)
        .cloned()
        .ok_or(format!("the copy source {source} is not in the document"))?;
    if document.pointer(target).is_some() {
        return Err("the target already exists".into());
    }
    let (parent, name) = target.rsplit_once('/').ok_or("not a JSON pointer")?;
    let name = name.replace("~1", "/").replace("~0", "~");
    let parent = document
        .pointer_mut(parent)
        .and_then(Value::as_object_mut)
        .ok_or("its parent is not an object in the document")?;
    parent.insert(name, copied);
    Ok(())
}

#[cfg(test)]
mod tests;
