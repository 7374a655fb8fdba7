//! Tenant isolation across answers: every object id an answer to one key showed belongs to that
//! key, and no successful answer to the other key may show it (an object, a list item, a
//! stream event). This catches a leak wherever it happens, beyond the 404s the isolation
//! scenarios expect step by step.

use std::collections::HashMap;

use serde_json::Value;

use super::objects;
use crate::fixture::tenants::Tenant;

/// Which tenant's answers showed each object id.
#[derive(Debug, Default)]
pub(crate) struct Owners {
    owner: HashMap<String, Tenant>,
}

impl Owners {
    /// Records the ids of `value`'s objects for `tenant` and reports any the other showed.
    pub(crate) fn observe(
        &mut self,
        tenant: Tenant,
        value: &Value,
        at: &str,
        found: &mut Vec<(String, String)>,
    ) {
        if tenant == Tenant::Other {
            return;
        }
        for (pointer, object) in objects(value, at) {
            let Some(id) = object.get("id").and_then(Value::as_str) else {
                continue;
            };
            match self.owner.get(id) {
                Some(owner) if *owner != tenant => found.push((
                    format!("{pointer}/id"),
                    format!(
                        "tenant isolation: the {} key was shown {id}, an object of the {} key",
                        name(tenant),
                        name(*owner)
                    ),
                )),
                Some(_) => {}
                None => {
                    self.owner.insert(id.to_owned(), tenant);
                }
            }
        }
    }
}

fn name(tenant: Tenant) -> &'static str {
    match tenant {
        Tenant::Primary => "first",
        Tenant::Second => "second",
        Tenant::Other => "other",
    }
}
