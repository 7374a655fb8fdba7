//! File bytes in S3-compatible object storage (`--blob-store s3://...`), against moto in
//! server mode started by the tests (`support::s3`), on the run's database backend (the
//! bucket does not depend on it): files stream into the bucket and back out byte for byte
//! (large ones as multipart uploads), upload parts sent to two instances assemble on either, quotas and refusals leave no object behind, deleted and expired
//! bytes leave the bucket through housekeeping, the orphan sweep, vector store ingestion
//! reading from the bucket, and a start-up that refuses a bucket it cannot reach.

mod files;
mod housekeeping;
mod uploads;

use md5::{Digest, Md5};
use server::files::BlobKey;
use server::store::Tenant;

use crate::support::s3;

/// The bucket's object holding `key` below `prefix`.
fn object(prefix: &str, key: &BlobKey) -> String {
    let mut names = vec![prefix.to_owned()];
    names.extend(key.segments().into_iter().map(str::to_owned));
    names.join("/")
}

/// The tenant of [`s3::KEY`].
fn tenant() -> Tenant {
    Tenant::from_api_key(s3::KEY)
}

fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
