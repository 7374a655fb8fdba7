//! OpenAI's size limits for the JSON Schemas a request hands the model (function
//! `parameters`, a `json_schema` response format), checked when the tool or format is
//! accepted so an oversized schema never reaches a run.
//!
//! The figures are OpenAI's, from the Structured Outputs guide, section "Supported
//! schemas" (developers.openai.com/api/docs/guides/structured-outputs#supported-schemas,
//! 2025-26 edition, as restated in openai/openai-java#732 and in the OpenAI profile of
//! jsonschemaprofiles.unitvectorylabs.com; the 2024 edition had 100 properties,
//! 5 levels, 15,000 characters and 500 enum values, the figures openai-java's
//! `JsonSchemaValidator` carried):
//! - up to 5,000 object properties in total, with up to 10 levels of nesting;
//! - the total string length of all property names, definition names, enum values and
//!   const values at most 120,000 characters;
//! - up to 1,000 enum values across all enum properties;
//! - for one enum property with string values, at most 15,000 characters of values in
//!   total when it has more than 250 values.
//!
//! Nesting counts every sub-schema level below the root (`properties`, `items`,
//! `anyOf`, `$defs`, ...), as openai-java counts it. `$ref`s are not followed (a
//! recursive schema is as small as its text), so reference cycles cost nothing here.
//! The nesting message is OpenAI's as quoted in tidyverse/ellmer#671 ("6 levels of
//! nesting exceeds limit of 5."); the other messages follow its form.

use std::fmt;

use serde_json::{Map, Value};

/// Deepest sub-schema nesting below the root.
pub const MAX_NESTING_DEPTH: usize = 10;
/// Most object properties across the whole schema (`$defs` included).
pub const MAX_TOTAL_PROPERTIES: usize = 5_000;
/// Most characters of property names, definition names, enum and const values.
pub const MAX_TOTAL_STRING_LENGTH: usize = 120_000;
/// Most enum values across the whole schema.
pub const MAX_ENUM_VALUES: usize = 1_000;
/// Enum size above which one string enum's total length is limited.
pub const LARGE_ENUM_VALUES: usize = 250;
/// Most characters of one string enum's values when it has more than
/// [`LARGE_ENUM_VALUES`] of them.
pub const MAX_LARGE_ENUM_LENGTH: usize = 15_000;

/// Keywords whose value is one sub-schema.
const SCHEMA_KEYWORDS: &[&str] = &[
    "items",
    "additionalProperties",
    "additionalItems",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contains",
    "propertyNames",
    "not",
    "if",
    "then",
    "else",
];
/// Keywords whose value is an array of sub-schemas.
const SCHEMA_LIST_KEYWORDS: &[&str] = &["anyOf", "oneOf", "allOf", "prefixItems", "items"];
/// Keywords whose value maps names to sub-schemas, where the names are not counted.
const SCHEMA_MAP_KEYWORDS: &[&str] = &["patternProperties", "dependentSchemas"];
/// Keywords whose value maps definition names to sub-schemas.
const DEFINITION_KEYWORDS: &[&str] = &["$defs", "definitions"];

/// Which of OpenAI's limits a schema exceeds, with the figure it reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaTooLarge {
    /// Sub-schemas nest deeper than [`MAX_NESTING_DEPTH`] (the depth reached).
    Nesting(usize),
    /// More than [`MAX_TOTAL_PROPERTIES`] object properties.
    Properties(usize),
    /// More than [`MAX_TOTAL_STRING_LENGTH`] characters of names and values.
    StringLength(usize),
    /// More than [`MAX_ENUM_VALUES`] enum values.
    EnumValues(usize),
    /// One string enum of more than [`LARGE_ENUM_VALUES`] values is longer than
    /// [`MAX_LARGE_ENUM_LENGTH`] characters (its value count and length).
    LargeEnum(usize, usize),
}

impl fmt::Display for SchemaTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Nesting(depth) => write!(
                f,
                "{depth} levels of nesting exceeds limit of {MAX_NESTING_DEPTH}."
            ),
            Self::Properties(count) => write!(
                f,
                "{count} total object properties exceeds limit of {MAX_TOTAL_PROPERTIES}."
            ),
            Self::StringLength(length) => write!(
                f,
                "{length} total characters of property names, definition names, enum values \
                 and const values exceeds limit of {MAX_TOTAL_STRING_LENGTH}."
            ),
            Self::EnumValues(count) => write!(
                f,
                "{count} total enum values exceeds limit of {MAX_ENUM_VALUES}."
            ),
            Self::LargeEnum(values, length) => write!(
                f,
                "{length} total characters of the {values} values of one enum exceeds limit \
                 of {MAX_LARGE_ENUM_LENGTH} for enums of more than {LARGE_ENUM_VALUES} values."
            ),
        }
    }
}

/// Checks `schema` against OpenAI's size limits.
pub fn check_schema_size(schema: &Value) -> Result<(), SchemaTooLarge> {
    Totals::default().walk(schema, 0)
}

/// Checks the object schema `schema` against OpenAI's size limits.
pub fn check_object_schema_size(schema: &Map<String, Value>) -> Result<(), SchemaTooLarge> {
    Totals::default().walk_object(schema, 0)
}

/// What the walk has counted so far; each total is checked as soon as it grows, so
/// the walk stops at the first excess.
#[derive(Debug, Default)]
struct Totals {
    properties: usize,
    string_length: usize,
    enum_values: usize,
}

impl Totals {
    fn walk(&mut self, schema: &Value, depth: usize) -> Result<(), SchemaTooLarge> {
        if depth > MAX_NESTING_DEPTH {
            return Err(SchemaTooLarge::Nesting(depth));
        }
        match schema.as_object() {
            Some(object) => self.walk_object(object, depth),
            None => Ok(()),
        }
    }

    fn walk_object(
        &mut self,
        object: &Map<String, Value>,
        depth: usize,
    ) -> Result<(), SchemaTooLarge> {
        if let Some(properties) = object.get("properties").and_then(Value::as_object) {
            self.properties += properties.len();
            if self.properties > MAX_TOTAL_PROPERTIES {
                return Err(SchemaTooLarge::Properties(self.properties));
            }
            self.named(properties, depth, true)?;
        }
        for keyword in DEFINITION_KEYWORDS {
            if let Some(definitions) = object.get(*keyword).and_then(Value::as_object) {
                self.named(definitions, depth, true)?;
            }
        }
        for keyword in SCHEMA_MAP_KEYWORDS {
            if let Some(schemas) = object.get(*keyword).and_then(Value::as_object) {
                self.named(schemas, depth, false)?;
            }
        }
        if let Some(values) = object.get("enum").and_then(Value::as_array) {
            self.enumeration(values)?;
        }
        if let Some(Value::String(constant)) = object.get("const") {
            self.add_length(constant.chars().count())?;
        }
        for keyword in SCHEMA_KEYWORDS {
            if let Some(sub) = object.get(*keyword).filter(|sub| sub.is_object()) {
                self.walk(sub, depth + 1)?;
            }
        }
        for keyword in SCHEMA_LIST_KEYWORDS {
            for sub in object
                .get(*keyword)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                self.walk(sub, depth + 1)?;
            }
        }
        Ok(())
    }

    /// Walks a map of named sub-schemas, counting the names when `count_names`.
    fn named(
        &mut self,
        schemas: &Map<String, Value>,
        depth: usize,
        count_names: bool,
    ) -> Result<(), SchemaTooLarge> {
        for (name, sub) in schemas {
            if count_names {
                self.add_length(name.chars().count())?;
            }
            self.walk(sub, depth + 1)?;
        }
        Ok(())
    }

    fn enumeration(&mut self, values: &[Value]) -> Result<(), SchemaTooLarge> {
        self.enum_values += values.len();
        if self.enum_values > MAX_ENUM_VALUES {
            return Err(SchemaTooLarge::EnumValues(self.enum_values));
        }
        let length: usize = values
            .iter()
            .filter_map(Value::as_str)
            .map(|value| value.chars().count())
            .sum();
        let strings = values.iter().filter(|value| value.is_string()).count();
        if strings > LARGE_ENUM_VALUES && length > MAX_LARGE_ENUM_LENGTH {
            return Err(SchemaTooLarge::LargeEnum(strings, length));
        }
        self.add_length(length)
    }

    fn add_length(&mut self, length: usize) -> Result<(), SchemaTooLarge> {
        self.string_length += length;
        if self.string_length > MAX_TOTAL_STRING_LENGTH {
            return Err(SchemaTooLarge::StringLength(self.string_length));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `levels` nested objects under the root, each with one property `p`.
    fn nested(levels: usize) -> Value {
        let mut schema = json!({"type": "string"});
        for _ in 0..levels {
            schema = json!({"type": "object", "properties": {"p": schema}});
        }
        schema
    }

    #[test]
    fn ten_levels_pass_eleven_fail() {
        assert_eq!(check_schema_size(&nested(10)), Ok(()));
        assert_eq!(
            check_schema_size(&nested(11)),
            Err(SchemaTooLarge::Nesting(11))
        );
        assert_eq!(
            SchemaTooLarge::Nesting(11).to_string(),
            "11 levels of nesting exceeds limit of 10."
        );
    }

    #[test]
    fn properties_are_counted_across_the_schema_and_its_definitions() {
        let many = |count: usize| -> Value {
            (0..count)
                .map(|i| (format!("p{i}"), json!({"type": "integer"})))
                .collect::<Map<_, _>>()
                .into()
        };
        let schema = json!({"type": "object", "properties": many(2500),
            "$defs": {"d": {"type": "object", "properties": many(2500)}}});
        assert_eq!(check_schema_size(&schema), Ok(()));
        let schema = json!({"type": "object", "properties": many(2500),
            "$defs": {"d": {"type": "object", "properties": many(2501)}}});
        assert_eq!(
            check_schema_size(&schema),
            Err(SchemaTooLarge::Properties(5001))
        );
    }

    #[test]
    fn enum_values_and_string_lengths_are_limited() {
        let values = |count: usize, length: usize| -> Value {
            (0..count)
                .map(|i| json!(format!("{i:0length$}")))
                .collect::<Vec<_>>()
                .into()
        };
        let schema = json!({"anyOf": [{"enum": values(500, 4)}, {"enum": values(500, 4)}]});
        assert_eq!(check_schema_size(&schema), Ok(()));
        let schema = json!({"anyOf": [{"enum": values(500, 4)}, {"enum": values(501, 4)}]});
        assert_eq!(
            check_schema_size(&schema),
            Err(SchemaTooLarge::EnumValues(1001))
        );
        // 251 values of 60 characters: 15,060 > 15,000 for a large enum.
        let schema = json!({"enum": values(251, 60)});
        assert_eq!(
            check_schema_size(&schema),
            Err(SchemaTooLarge::LargeEnum(251, 15_060))
        );
        // 250 values may be longer: only the total string length applies.
        assert_eq!(
            check_schema_size(&json!({"enum": values(250, 400)})),
            Ok(())
        );
        let long = "x".repeat(MAX_TOTAL_STRING_LENGTH);
        let schema = json!({"type": "object", "properties": {"a": {"const": long}}});
        assert_eq!(
            check_schema_size(&schema),
            Err(SchemaTooLarge::StringLength(MAX_TOTAL_STRING_LENGTH + 1))
        );
    }

    #[test]
    fn reference_cycles_are_not_followed() {
        let schema = json!({"type": "object", "properties": {"a": {"type": "array",
            "minItems": 64, "items": {"$ref": "#"}}}, "required": ["a"]});
        assert_eq!(check_schema_size(&schema), Ok(()));
        let schema = json!({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}},
            "$ref": "#/$defs/a"});
        assert_eq!(check_schema_size(&schema), Ok(()));
    }
}
