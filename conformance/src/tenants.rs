//! The second tenant: scenarios that prove one API key never sees another key's objects send
//! some steps with `Authorization: Bearer ${second_api_key}` (`--second-api-key`). Without a
//! second key such scenarios are SKIPPED with the reason; the key itself may only ever appear in
//! that header, so it is masked in every result like the first key and never echoed.

use serde_json::Value;

use crate::fixture::{Scenario, Step};
use crate::vars::referenced_names;

/// The built-in variable holding the second key.
pub const SECOND_API_KEY: &str = "second_api_key";

/// Why a scenario that needs the second key is skipped when none was given.
pub const MISSING_SECOND_KEY: &str =
    "not run: the scenario needs a second API key (--second-api-key or ASSISTANTS_SECOND_API_KEY)";

/// A second key equal to the first would make every isolation scenario fail for the harness's
/// own mistake: refused before anything is sent.
pub fn check_distinct_keys(first: Option<&str>, second: Option<&str>) -> Result<(), String> {
    match (first, second) {
        (Some(first), Some(second)) if first == second => {
            Err("--second-api-key must be another tenant's key, not the --api-key".into())
        }
        _ => Ok(()),
    }
}

/// Which key a step's request carries, as far as tenant isolation is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tenant {
    /// The run's `--api-key` (no Authorization override).
    Primary,
    /// `--second-api-key`, through `${second_api_key}` in the Authorization header.
    Second,
    /// Some other Authorization (none at all, a bogus key): neither tenant.
    Other,
}

/// The tenant a step speaks for.
pub fn tenant_of(step: &Step) -> Tenant {
    let authorization = step
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("authorization"));
    match authorization {
        None => Tenant::Primary,
        Some((_, value)) if referenced_names(value).iter().any(|n| n == SECOND_API_KEY) => {
            Tenant::Second
        }
        Some(_) => Tenant::Other,
    }
}

/// Whether any step of the scenario uses the second key.
pub fn needs_second_key(scenario: &Scenario) -> bool {
    scenario
        .steps
        .iter()
        .chain(&scenario.cleanup)
        .any(|step| tenant_of(step) == Tenant::Second)
}

/// Load-time check: `${second_api_key}` appears only as the Authorization header's value, so
/// the secret can neither be sent in a body nor end up in an expected body or a report.
pub fn check_second_key_usage(scenario: &Scenario) -> Result<(), String> {
    for step in scenario.steps.iter().chain(&scenario.cleanup) {
        let outside_authorization = step
            .headers
            .iter()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("authorization"))
            .map(|(_, value)| value.clone())
            .chain([
                Value::Object(step.path.clone()),
                Value::Object(step.query.clone()),
            ])
            .chain(step.body.clone())
            .chain(step.raw_body.clone().map(Value::String))
            .chain(step.url.clone().map(Value::String))
            .chain(step.expect.body.clone())
            .chain(step.multipart.iter().flat_map(|m| {
                [
                    Value::Object(m.fields.clone()),
                    Value::Object(m.files.clone()),
                ]
            }));
        for value in outside_authorization {
            if referenced_names(&value).iter().any(|n| n == SECOND_API_KEY) {
                return Err(format!(
                    "step `{}`: ${{{SECOND_API_KEY}}} may only be used in the Authorization header",
                    step.name
                ));
            }
        }
        for event in step.expect.events.iter().flatten() {
            let used = event
                .data
                .as_ref()
                .map(referenced_names)
                .unwrap_or_default();
            if used.iter().any(|n| n == SECOND_API_KEY) {
                return Err(format!(
                    "step `{}`: ${{{SECOND_API_KEY}}} may only be used in the Authorization header",
                    step.name
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(yaml: &str) -> Step {
        serde_yaml::from_str(yaml).expect("step parses")
    }

    #[test]
    fn the_authorization_header_names_the_tenant() {
        let primary = step("{name: a, operation: listAssistants, expect: {status: 200}}");
        let second = step(
            "{name: a, operation: listAssistants, headers: {Authorization: 'Bearer ${second_api_key}'}, expect: {status: 200}}",
        );
        let nobody = step(
            "{name: a, operation: listAssistants, headers: {Authorization: null}, expect: {status: 401}}",
        );
        assert_eq!(tenant_of(&primary), Tenant::Primary);
        assert_eq!(tenant_of(&second), Tenant::Second);
        assert_eq!(tenant_of(&nobody), Tenant::Other);
    }

    fn scenario(steps: &str) -> Scenario {
        let yaml = format!("description: d\nprovenance: [{{source: x}}]\nsteps: {steps}\n");
        serde_yaml::from_str(&yaml).expect("scenario parses")
    }

    #[test]
    fn the_two_keys_must_differ() {
        assert!(check_distinct_keys(Some("sk-a"), Some("sk-a")).is_err());
        assert_eq!(check_distinct_keys(Some("sk-a"), Some("sk-b")), Ok(()));
        assert_eq!(check_distinct_keys(None, Some("sk-b")), Ok(()));
        assert_eq!(check_distinct_keys(Some("sk-a"), None), Ok(()));
    }

    #[test]
    fn the_second_key_is_refused_in_expected_events() {
        let in_event = scenario(
            "[{name: a, operation: createRun, body: {stream: true}, expect: {status: 200, events: [{event: done, data: '${second_api_key}'}]}}]",
        );
        assert!(check_second_key_usage(&in_event).is_err());
    }

    #[test]
    fn the_second_key_is_refused_outside_the_authorization_header() {
        let in_header = scenario(
            "[{name: a, operation: listAssistants, headers: {Authorization: 'Bearer ${second_api_key}'}, expect: {status: 200}}]",
        );
        let in_body = scenario(
            "[{name: a, operation: createAssistant, body: {name: '${second_api_key}'}, expect: {status: 200}}]",
        );
        let in_expected = scenario(
            "[{name: a, operation: listAssistants, expect: {status: 200, body: {x: '${second_api_key}'}}}]",
        );
        assert!(needs_second_key(&in_header));
        assert!(!needs_second_key(&in_body));
        assert_eq!(check_second_key_usage(&in_header), Ok(()));
        assert!(check_second_key_usage(&in_body).is_err());
        assert!(check_second_key_usage(&in_expected).is_err());
    }
}
