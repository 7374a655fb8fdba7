//! Helpers of the files and uploads tests: an app whose data directory the test can
//! inspect, and multipart bodies written by hand (so every byte sent is known).

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::Value;
use server::Settings;

use testkit::{TestApp, TestDatabase, TestResponse, KEY};

/// Boundary of the hand-written multipart bodies.
pub(crate) const BOUNDARY: &str = "test-boundary-7MA4YWxkTrZu0gW";

/// An app on a fresh test database with its data directory in a temporary folder.
pub(crate) struct FilesApp {
    /// The app.
    pub app: TestApp,
    /// The data directory; removed when the test ends.
    pub data: tempfile::TempDir,
}

impl FilesApp {
    /// Default settings but for the data directory.
    pub(crate) async fn new() -> Self {
        Self::with(|settings| settings).await
    }

    /// Settings adjusted by `configure` (e.g. a lower `max_file_bytes`).
    pub(crate) async fn with(configure: impl FnOnce(Settings) -> Settings) -> Self {
        let data = tempfile::tempdir().unwrap();
        let database = TestDatabase::new().await;
        let mut settings = database.settings();
        settings.data_dir = data.path().to_path_buf();
        let app = TestApp::on(database, &configure(settings)).await;
        Self { app, data }
    }

    /// Every regular file below the data directory, relative to it, sorted.
    pub(crate) fn stored_paths(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        walk(self.data.path(), self.data.path(), &mut found);
        found.sort();
        found
    }

    /// Sends a multipart body as `key`.
    pub(crate) async fn post_form_as(&self, key: &str, path: &str, body: Vec<u8>) -> TestResponse {
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("authorization", format!("Bearer {key}"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(Body::from(body))
            .unwrap();
        self.app.send(request).await
    }

    /// Uploads `bytes` as `filename` with `purpose`; returns the file object.
    pub(crate) async fn upload_as(
        &self,
        key: &str,
        filename: &str,
        purpose: &str,
        bytes: &[u8],
    ) -> Value {
        let body = Multipart::new()
            .text("purpose", purpose)
            .file("file", filename, bytes)
            .finish();
        let response = self.post_form_as(key, "/v1/files", body).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        response.json()
    }

    /// [`Self::upload_as`] with the default key.
    pub(crate) async fn upload(&self, filename: &str, purpose: &str, bytes: &[u8]) -> Value {
        self.upload_as(KEY, filename, purpose, bytes).await
    }

    /// GET returning the raw body bytes (file contents are not UTF-8).
    pub(crate) async fn get_bytes(&self, path: &str) -> (StatusCode, String, Vec<u8>) {
        let request = Request::builder()
            .uri(path)
            .header("authorization", format!("Bearer {KEY}"))
            .body(Body::empty())
            .unwrap();
        let response = tower::ServiceExt::oneshot(self.app.router.clone(), request)
            .await
            .unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, content_type, bytes.to_vec())
    }
}

fn walk(root: &Path, dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(root, &path, found);
        } else {
            found.push(path.strip_prefix(root).unwrap().to_path_buf());
        }
    }
}

/// A `multipart/form-data` body with [`BOUNDARY`].
#[derive(Default)]
pub(crate) struct Multipart {
    body: Vec<u8>,
}

impl Multipart {
    /// An empty form.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds a text field.
    pub(crate) fn text(mut self, name: &str, value: &str) -> Self {
        self.body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
        self
    }

    /// Adds a file field with a raw UTF-8 `filename`.
    pub(crate) fn file(self, name: &str, filename: &str, bytes: &[u8]) -> Self {
        let disposition = format!("form-data; name=\"{name}\"; filename=\"{filename}\"");
        self.file_with_disposition(&disposition, bytes)
    }

    /// Adds a file field with a given Content-Disposition value.
    pub(crate) fn file_with_disposition(mut self, disposition: &str, bytes: &[u8]) -> Self {
        self.body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        self.body.extend_from_slice(bytes);
        self.body.extend_from_slice(b"\r\n");
        self
    }

    /// The finished body.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.body
            .extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        self.body
    }
}

/// Checks a `file-` id (22 base62 characters), then hides it.
pub(crate) fn file_id_redaction() -> insta::internals::Redaction {
    insta::dynamic_redaction(|value, path| {
        let id = value
            .as_str()
            .unwrap_or_else(|| panic!("{path}: not a string"));
        let rest = id
            .strip_prefix("file-")
            .unwrap_or_else(|| panic!("{path}: {id} must start with file-"));
        assert_eq!(rest.len(), 22, "{path}: {id}");
        assert!(
            rest.bytes().all(|b| b.is_ascii_alphanumeric()),
            "{path}: {id}"
        );
        "[file-id]"
    })
}

/// Checks an id of `prefix` + 32 lowercase hex digits (`upload_`, `part_`), then hides it.
pub(crate) fn hex_id_redaction(prefix: &'static str) -> insta::internals::Redaction {
    insta::dynamic_redaction(move |value, path| {
        let id = value
            .as_str()
            .unwrap_or_else(|| panic!("{path}: not a string"));
        let rest = id
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("{path}: {id} must start with {prefix}"));
        assert_eq!(rest.len(), 32, "{path}: {id}");
        assert!(
            rest.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
            "{path}: {id}"
        );
        format!("[{prefix}id]")
    })
}
