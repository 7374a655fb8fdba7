//! Turning a fixture step into a concrete request: the operation's path template or a raw URL,
//! the query, the default and overridden headers, and the body with variables substituted.

use serde_json::Value;

use crate::catalog::{family_needs_beta_header, path_needs_beta_header};
use crate::client::{set_header, PreparedRequest};
use crate::fixture::Step;
use crate::spec::Operation;
use crate::vars::{as_text, UnknownVariable, Vars};

/// Builds the request for `step`. `operation` is `None` for raw `url` steps.
pub fn prepare(
    step: &Step,
    operation: Option<&Operation>,
    base_url: &str,
    base: &[(String, String)],
    vars: &Vars,
) -> Result<PreparedRequest, UnknownVariable> {
    let (method, path, beta) = match operation {
        Some(op) => (
            op.method.clone(),
            fill_template(&op.path, step, vars)?,
            family_needs_beta_header(op.family),
        ),
        None => {
            let raw = vars.splice(step.url.as_deref().unwrap_or("/"))?;
            let beta = path_needs_beta_header(&raw);
            (
                step.method.clone().unwrap_or_else(|| "GET".into()),
                raw,
                beta,
            )
        }
    };
    let url = with_query(
        &format!("{}{path}", base_url.trim_end_matches('/')),
        step,
        vars,
    )?;
    let multipart = match &step.multipart {
        Some(multipart) => Some(crate::multipart::encode(multipart, vars)?),
        None => None,
    };
    let body = match (&step.body, &step.raw_body, &multipart) {
        (Some(json), _, _) => {
            Some(serde_json::to_string(&vars.substitute(json)?).expect("JSON serialises"))
        }
        (None, Some(raw), _) => Some(vars.splice(raw)?),
        (None, None, Some(encoded)) => Some(String::from_utf8_lossy(&encoded.body).into_owned()),
        (None, None, None) => None,
    };
    let mut headers = Vec::new();
    if let Some((_, auth)) = base
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
    {
        headers.push(("Authorization".to_owned(), auth.clone()));
    }
    if beta {
        headers.push(("OpenAI-Beta".to_owned(), "assistants=v2".to_owned()));
    }
    if let Some(encoded) = &multipart {
        headers.push(("Content-Type".to_owned(), encoded.content_type.clone()));
    } else if body.is_some() {
        headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
    }
    for (name, value) in base
        .iter()
        .filter(|(name, _)| !name.eq_ignore_ascii_case("authorization"))
    {
        set_header(&mut headers, name, Some(value.clone()));
    }
    for (name, value) in &step.headers {
        let value = match value {
            Value::Null => None,
            other => Some(as_text(&vars.substitute(other)?)),
        };
        set_header(&mut headers, name, value);
    }
    Ok(PreparedRequest {
        method,
        url,
        headers,
        body,
        wire_body: multipart.map(|encoded| encoded.body),
    })
}

fn fill_template(template: &str, step: &Step, vars: &Vars) -> Result<String, UnknownVariable> {
    let mut path = template.to_owned();
    for (name, value) in &step.path {
        let value = as_text(&vars.substitute(value)?);
        path = path.replace(&format!("{{{name}}}"), &encode_segment(&value));
    }
    Ok(path)
}

fn with_query(url: &str, step: &Step, vars: &Vars) -> Result<String, UnknownVariable> {
    if step.query.is_empty() {
        return Ok(url.to_owned());
    }
    let mut pairs = Vec::new();
    for (key, value) in &step.query {
        let key = vars.splice(key)?;
        match vars.substitute(value)? {
            Value::Array(items) => {
                pairs.extend(items.iter().map(|item| (key.clone(), as_text(item))))
            }
            Value::Null => {}
            single => pairs.push((key, as_text(&single))),
        }
    }
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let separator = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{separator}{query}"))
}

/// Percent-encodes a path parameter so an id with `/` or spaces cannot change the route.
fn encode_segment(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
