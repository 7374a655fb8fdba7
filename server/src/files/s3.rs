//! `--blob-store s3://bucket/prefix`: file bytes in an S3 bucket (AWS, or any
//! S3-compatible service such as MinIO with `--blob-endpoint`), so several server
//! instances share them. Region and credentials come from the standard AWS environment
//! variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
//! `AWS_REGION`/`AWS_DEFAULT_REGION`, web identity, container credentials; else the
//! instance's metadata service), as the AWS SDKs read them. Plain HTTP is allowed only
//! when an endpoint is named explicitly and is itself `http://` (a local MinIO or
//! emulator); real S3 is always reached over TLS.

use std::sync::Arc;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};

use super::blobs::BlobError;
use super::objects::ObjectBlobs;

/// Where in S3 the bytes go: a bucket and a key prefix within it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    /// The bucket name.
    pub bucket: String,
    /// The key prefix (no leading or trailing `/`), empty for the bucket's root.
    pub prefix: String,
}

impl S3Location {
    /// Reads `s3://bucket` or `s3://bucket/some/prefix`.
    pub fn parse(url: &str) -> Result<Self, BlobError> {
        // The value is not echoed: a mistyped one might carry credentials.
        let unsupported = || {
            BlobError::Config(
                "unsupported blob store: expected s3://BUCKET or s3://BUCKET/PREFIX".to_owned(),
            )
        };
        let rest = url.strip_prefix("s3://").ok_or_else(unsupported)?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid_bucket = !bucket.is_empty()
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !valid_bucket || prefix.contains(['?', '#']) {
            return Err(unsupported());
        }
        Ok(Self {
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
        })
    }

    /// `s3://bucket/prefix`, for logs.
    pub fn url(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

/// How to reach the bucket. Anything left `None` comes from the AWS environment
/// variables; fields set here win over them (tests set them to reach an emulator).
#[derive(Clone)]
pub struct S3Options {
    /// Bucket and prefix.
    pub location: S3Location,
    /// An S3-compatible service's URL (`--blob-endpoint`), instead of AWS's.
    pub endpoint: Option<String>,
    /// The region (AWS default: `us-east-1`).
    pub region: Option<String>,
    /// Access key id, instead of the environment's.
    pub access_key_id: Option<String>,
    /// Secret access key, instead of the environment's; never shown by `Debug`.
    pub secret_access_key: Option<String>,
    /// Size of one multipart part (at least 5 MiB on S3).
    pub part_size: usize,
}

impl std::fmt::Debug for S3Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Options")
            .field("location", &self.location)
            .field("endpoint", &self.endpoint.as_deref().map(shown_endpoint))
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "[redacted]"),
            )
            .field("part_size", &self.part_size)
            .finish()
    }
}

impl S3Options {
    /// Options for `--blob-store URL` with an optional `--blob-endpoint`.
    pub fn new(url: &str, endpoint: Option<String>) -> Result<Self, BlobError> {
        Ok(Self {
            location: S3Location::parse(url)?,
            endpoint: endpoint.filter(|e| !e.is_empty()),
            region: None,
            access_key_id: None,
            secret_access_key: None,
            part_size: super::objects::DEFAULT_PART_SIZE,
        })
    }

    /// The client: the environment's settings, then these options over them.
    pub fn connect(&self) -> Result<ObjectBlobs, BlobError> {
        self.connect_with(AmazonS3Builder::from_env())
    }

    /// [`Self::connect`] starting from `builder` instead of the environment.
    pub fn connect_with(&self, builder: AmazonS3Builder) -> Result<ObjectBlobs, BlobError> {
        let mut builder = builder.with_bucket_name(&self.location.bucket);
        if let Some(endpoint) = &self.endpoint {
            if !endpoint.starts_with("http://") && !endpoint.starts_with("https://") {
                return Err(BlobError::Config(
                    "--blob-endpoint must be an http:// or https:// URL".to_owned(),
                ));
            }
            // AWS_ENDPOINT_URL_S3 would otherwise win over the flag.
            builder = builder
                .with_endpoint(endpoint)
                .with_config(AmazonS3ConfigKey::S3Endpoint, endpoint);
        }
        if let Some(region) = &self.region {
            builder = builder.with_region(region);
        }
        if let Some(key) = &self.access_key_id {
            builder = builder.with_access_key_id(key);
        }
        if let Some(secret) = &self.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        let http = allows_http(&builder);
        let s3 = builder
            .with_allow_http(http)
            .build()
            .map_err(|error| BlobError::Config(format!("S3 client: {error}")))?;
        Ok(
            ObjectBlobs::new(Arc::new(s3), &self.location.prefix, self.location.url())?
                .with_part_size(self.part_size),
        )
    }
}

/// An endpoint as logs may show it: one carrying `user:password@` is hidden whole.
fn shown_endpoint(endpoint: &str) -> &str {
    if endpoint.contains('@') {
        "[redacted]"
    } else {
        endpoint
    }
}

/// Whether the endpoint in effect was named explicitly and is plain HTTP: only then
/// may requests (and signatures) travel unencrypted (`AWS_ALLOW_HTTP` is overridden).
fn allows_http(builder: &AmazonS3Builder) -> bool {
    let endpoint = builder
        .get_config_value(&AmazonS3ConfigKey::S3Endpoint)
        .or_else(|| builder.get_config_value(&AmazonS3ConfigKey::Endpoint));
    endpoint.is_some_and(|endpoint| endpoint.starts_with("http://"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_a_bucket_and_an_optional_prefix() {
        let parsed = |url| S3Location::parse(url).map(|l| (l.bucket, l.prefix));
        assert_eq!(parsed("s3://b").unwrap(), ("b".into(), "".into()));
        assert_eq!(parsed("s3://b/").unwrap(), ("b".into(), "".into()));
        assert_eq!(
            parsed("s3://my.b-1/x/y/").unwrap(),
            ("my.b-1".into(), "x/y".into())
        );
        for bad in [
            "",
            "b",
            "file:///tmp",
            "s3://",
            "s3:///x",
            "s3://B",
            "s3://b/x?y=1",
        ] {
            assert!(parsed(bad).is_err(), "{bad}");
        }
        assert_eq!(S3Location::parse("s3://b/x/").unwrap().url(), "s3://b/x");
    }

    #[test]
    fn plain_http_needs_an_explicit_http_endpoint() {
        let base = || {
            AmazonS3Builder::new().with_config(
                AmazonS3ConfigKey::Client(object_store::ClientConfigKey::AllowHttp),
                "true",
            )
        };
        assert!(!allows_http(&base()), "AWS_ALLOW_HTTP alone does not");
        assert!(!allows_http(&base().with_endpoint("https://minio:9000")));
        assert!(allows_http(&base().with_endpoint("http://127.0.0.1:9000")));
        let options = S3Options::new("s3://b", Some("ftp://x".into())).unwrap();
        assert!(options.connect_with(base()).is_err());
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let mut options = S3Options::new("s3://b/p", None).unwrap();
        options.access_key_id = Some("AKIDEXAMPLE".into());
        options.secret_access_key = Some("wJalrXUtnFEMI-very-secret".into());
        options.endpoint = Some("http://user:very-secret@minio:9000".into());
        let shown = format!("{options:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
        let blobs = options.connect_with(AmazonS3Builder::new()).unwrap();
        let shown = format!("{blobs:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("s3://b/p"), "{shown}");
    }
}
