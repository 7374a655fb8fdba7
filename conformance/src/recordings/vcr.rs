//! VCR YAML cassettes: Ruby VCR (`http_interactions`, bodies as `string` or `base64_string`, binary
//! bodies of old Psych versions tagged `!binary`) and Python vcrpy (`interactions`, bodies as
//! `string`, binary ones tagged `!!binary`), with `Content-Encoding` (gzip, deflate) undone.

use base64::Engine;
use serde_yaml::Value as Yaml;

use super::exchange::{decode_content, Body, Exchange};

/// Which recorder wrote a cassette.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flavour {
    /// Ruby's VCR gem.
    Ruby,
    /// Python's vcrpy.
    Python,
}

/// Parses cassette text. `!!binary` is turned into the local tag `!binary` first because the YAML
/// parser resolves the core `!!binary` tag away and would hand us the base64 as if it were text.
pub(super) fn parse(text: &str) -> Result<Yaml, String> {
    let retagged = text
        .replace(": !!binary", ": !binary")
        .replace("- !!binary", "- !binary");
    serde_yaml::from_str(&retagged).map_err(|e| format!("not YAML: {e}"))
}

/// Which flavour a parsed document is, if it is a cassette at all.
pub(super) fn recognise(document: &Yaml) -> Option<Flavour> {
    if document
        .get("http_interactions")
        .is_some_and(Yaml::is_sequence)
    {
        Some(Flavour::Ruby)
    } else if document.get("interactions").is_some_and(Yaml::is_sequence) {
        Some(Flavour::Python)
    } else {
        None
    }
}

/// Reads every interaction of a cassette.
pub(super) fn exchanges(document: &Yaml, flavour: Flavour) -> Result<Vec<Exchange>, String> {
    let key = match flavour {
        Flavour::Ruby => "http_interactions",
        Flavour::Python => "interactions",
    };
    let interactions = document
        .get(key)
        .and_then(Yaml::as_sequence)
        .ok_or(format!("no {key} list"))?;
    interactions
        .iter()
        .enumerate()
        .map(|(index, interaction)| {
            exchange(index, interaction).map_err(|e| format!("{key}[{index}]: {e}"))
        })
        .collect()
}

fn exchange(index: usize, interaction: &Yaml) -> Result<Exchange, String> {
    let request = interaction.get("request").ok_or("no request")?;
    let response = interaction.get("response").ok_or("no response")?;
    let method = request
        .get("method")
        .and_then(Yaml::as_str)
        .ok_or("no request method")?;
    let url = request
        .get("uri")
        .and_then(Yaml::as_str)
        .ok_or("no request uri")?;
    let status = response
        .get("status")
        .and_then(|s| s.get("code").or(Some(s)))
        .and_then(Yaml::as_u64)
        .and_then(|code| u16::try_from(code).ok())
        .ok_or("no response status code")?;
    let header = |name: &str| header(response.get("headers"), name);
    let body = match body_bytes(response.get("body"))? {
        None => Body::Empty,
        Some(bytes) => {
            let bytes = decode_content(header("content-encoding").as_deref(), bytes)?;
            Body::from_bytes(header("content-type").as_deref(), bytes)
        }
    };
    Ok(Exchange {
        index,
        method: method.to_ascii_uppercase(),
        url: url.to_string(),
        status,
        body,
    })
}

/// A header's value: recorders store a list (`[application/json]`) or a plain string.
fn header(headers: Option<&Yaml>, name: &str) -> Option<String> {
    let (_, value) = headers?
        .as_mapping()?
        .iter()
        .find(|(key, _)| key.as_str().is_some_and(|k| k.eq_ignore_ascii_case(name)))?;
    match value {
        Yaml::Sequence(values) => values.first().and_then(Yaml::as_str).map(str::to_string),
        other => other.as_str().map(str::to_string),
    }
}

/// The stored body bytes: `string` (text or a `!binary` base64 scalar) or Ruby's `base64_string`.
fn body_bytes(body: Option<&Yaml>) -> Result<Option<Vec<u8>>, String> {
    let Some(body) = body else { return Ok(None) };
    let stored = match body {
        Yaml::Mapping(_) => body
            .get("base64_string")
            .map(|b| (b, true))
            .or_else(|| body.get("string").map(|s| (s, false))),
        other => Some((other, false)),
    };
    match stored {
        None | Some((Yaml::Null, _)) => Ok(None),
        Some((Yaml::String(text), false)) => Ok(Some(text.clone().into_bytes())),
        Some((Yaml::String(encoded), true)) => base64_decode(encoded).map(Some),
        Some((Yaml::Tagged(tagged), _)) if tagged.tag == "binary" => match &tagged.value {
            Yaml::String(encoded) => base64_decode(encoded).map(Some),
            _ => Err("a !binary body that is not a string".into()),
        },
        Some((other, _)) => Err(format!("unsupported body {other:?}")),
    }
}

fn base64_decode(encoded: &str) -> Result<Vec<u8>, String> {
    let compact: String = encoded.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|e| format!("bad base64 body: {e}"))
}

#[cfg(test)]
mod tests;
