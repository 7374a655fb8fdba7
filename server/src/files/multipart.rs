//! Reading `multipart/form-data` bodies field by field, so a file field can be streamed
//! to disk while the small text fields (`purpose`, ...) are read into strings with a cap.
//! The routes using it lift axum's default body limit; these caps replace it. Every
//! field of these forms is single-valued, so a name given twice is refused.

use axum::extract::multipart::Field;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;

use crate::api_error::ApiError;
use crate::state::AppState;

/// Longest text field accepted (purpose, expiry settings...).
pub const MAX_TEXT_FIELD_BYTES: usize = 64 * 1024;
/// Most fields one form may have; a few are ever needed.
pub const MAX_FIELDS: usize = 16;

/// A multipart form being read.
pub struct Form {
    inner: Multipart,
    fields_read: usize,
    /// Names seen so far (at most [`MAX_FIELDS`]), to refuse repeats.
    names: Vec<String>,
}

impl FromRequest<AppState> for Form {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("None")
            .to_owned();
        if !content_type
            .to_ascii_lowercase()
            .starts_with("multipart/form-data")
        {
            return Err(ApiError::not_multipart(&content_type));
        }
        let inner = Multipart::from_request(request, state)
            .await
            .map_err(|rejection| ApiError::malformed_multipart(&rejection.body_text()))?;
        Ok(Self {
            inner,
            fields_read: 0,
            names: Vec::new(),
        })
    }
}

impl Form {
    /// The next field, or `None` at the end of the form; `duplicate_field` when its
    /// name was already given.
    pub async fn next_field(&mut self) -> Result<Option<Field<'_>>, ApiError> {
        self.fields_read += 1;
        if self.fields_read > MAX_FIELDS {
            return Err(ApiError::malformed_multipart(&format!(
                "more than {MAX_FIELDS} fields"
            )));
        }
        let field = self
            .inner
            .next_field()
            .await
            .map_err(|error| ApiError::malformed_multipart(&error.body_text()))?;
        if let Some(field) = &field {
            let name = field.name().unwrap_or_default();
            if self.names.iter().any(|seen| seen == name) {
                return Err(ApiError::duplicate_field(name));
            }
            self.names.push(name.to_owned());
        }
        Ok(field)
    }
}

/// Reads a text field whole, up to [`MAX_TEXT_FIELD_BYTES`].
pub async fn read_text(mut field: Field<'_>) -> Result<String, ApiError> {
    let name = field.name().unwrap_or_default().to_owned();
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|error| ApiError::malformed_multipart(&error.body_text()))?
    {
        if bytes.len() + chunk.len() > MAX_TEXT_FIELD_BYTES {
            return Err(ApiError::string_too_long(
                &name,
                MAX_TEXT_FIELD_BYTES,
                bytes.len() + chunk.len(),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| ApiError::invalid_type(&name, "a string", "binary data"))
}

/// The field's file name: RFC 5987's `filename*=UTF-8''…` when present (clients use it
/// for non-ASCII names), else the plain `filename`.
pub fn file_name(field: &Field<'_>) -> Option<String> {
    let disposition = field
        .headers()
        .get(header::CONTENT_DISPOSITION)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    disposition
        .as_deref()
        .and_then(extended_file_name)
        .or_else(|| field.file_name().map(str::to_owned))
}

/// Decodes `filename*=charset'lang'percent-encoded` from a Content-Disposition value.
fn extended_file_name(disposition: &str) -> Option<String> {
    let start = disposition.to_ascii_lowercase().find("filename*=")? + "filename*=".len();
    let value = disposition[start..]
        .split(';')
        .next()?
        .trim()
        .trim_matches('"');
    let (charset, rest) = value.split_once('\'')?;
    let (_language, encoded) = rest.split_once('\'')?;
    if !charset.eq_ignore_ascii_case("utf-8") {
        return None;
    }
    let bytes = percent_decode(encoded)?;
    String::from_utf8(bytes)
        .ok()
        .filter(|name| !name.is_empty())
}

fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = text.get(index + 1..index + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_file_names_are_decoded() {
        assert_eq!(
            extended_file_name(
                "form-data; name=file; filename=x.txt; filename*=utf-8''%E4%BD%A0%E5%A5%BD.txt"
            )
            .as_deref(),
            Some("你好.txt")
        );
        assert_eq!(extended_file_name("form-data; filename=\"a.txt\""), None);
        assert_eq!(
            extended_file_name("form-data; filename*=utf-8''%E4%B"),
            None
        );
    }
}
