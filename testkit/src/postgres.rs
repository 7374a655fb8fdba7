//! PostgreSQL plumbing of the kit: database URLs that select a schema, and an administrative
//! connection (separate from the store's pool) that creates and drops the schemas and
//! databases the tests run in.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::{Connection, Executor, PgConnection};

/// How long an administrative connection may take before PostgreSQL counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long dropping a schema waits for locks before leaving the schema to the run-level
/// database drop.
const DROP_LOCK_TIMEOUT: &str = "5s";

/// Why an administrative step failed.
#[derive(Debug)]
pub enum AdminError {
    /// No connection could be made (PostgreSQL not running, wrong URL, refused login).
    Unreachable(String),
    /// Connected, but a statement failed.
    Statement(String),
}

impl std::fmt::Display for AdminError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdminError::Unreachable(why) => write!(f, "PostgreSQL is not reachable: {why}"),
            AdminError::Statement(why) => write!(f, "PostgreSQL statement failed: {why}"),
        }
    }
}

impl std::error::Error for AdminError {}

/// Opens one administrative connection to `url`, bounded by a timeout so a firewalled
/// address does not hang the suite.
pub async fn connect(url: &str) -> Result<PgConnection, AdminError> {
    match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect(url)).await {
        Ok(Ok(connection)) => Ok(connection),
        Ok(Err(error)) => Err(AdminError::Unreachable(error.to_string())),
        Err(_) => Err(AdminError::Unreachable(format!(
            "no connection within {CONNECT_TIMEOUT:?}"
        ))),
    }
}

/// Runs one statement on `connection`.
pub async fn execute(connection: &mut PgConnection, statement: &str) -> Result<(), AdminError> {
    connection
        .execute(statement)
        .await
        .map(drop)
        .map_err(|error| AdminError::Statement(format!("{statement}: {error}")))
}

/// A name no other test, process or earlier run uses: `prefix`, the process id, a counter
/// and the clock (lower-case ASCII, digits and `_`, so it needs no quoting).
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.subsec_nanos())
        .unwrap_or_default();
    format!("{prefix}_{}_{count}_{nanos:x}", std::process::id())
}

/// Percent-encodes `value` for a URL query: everything but RFC 3986's unreserved
/// characters.
pub fn percent_encode(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// `url` with `parameters` appended to its query string, each value percent-encoded.
pub fn with_parameters(url: &str, parameters: &[(&str, &str)]) -> String {
    let mut url = url.to_owned();
    for (name, value) in parameters {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(name);
        url.push('=');
        url.push_str(&percent_encode(value));
    }
    url
}

/// `url` naming `database` instead of the database it named (or none).
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |at| at + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{database}?{query}"),
        None => format!("{server}/{database}"),
    }
}

/// The URL of `schema` inside the database of `url`: every connection made with it starts
/// with `search_path` set to the schema (sqlx 0.8 passes the `options` parameter on as
/// PostgreSQL's startup `options`, as libpq does), and carries the schema as its
/// `application_name` so [`drop_schema`] can find and end the connections left behind.
///
/// `public` stays on the path after the schema: objects are still created in the schema
/// (the first entry), while an extension an administrator installed database-wide in
/// `public` remains visible to every test.
pub fn schema_url(url: &str, schema: &str) -> String {
    with_parameters(
        url,
        &[
            ("options", &format!("-c search_path={schema},public")),
            ("application_name", schema),
        ],
    )
}

/// Creates `schema` through a connection of its own, before any store connects to it.
pub async fn create_schema(url: &str, schema: &str) -> Result<(), AdminError> {
    let mut connection = connect(url).await?;
    let created = execute(&mut connection, &format!("CREATE SCHEMA {schema}")).await;
    let _ = connection.close().await;
    created
}

/// Ends the connections that still use `schema` (as [`schema_url`] names them) and drops
/// it with everything in it.
pub async fn drop_schema(url: &str, schema: &str) -> Result<(), AdminError> {
    let mut connection = connect(url).await?;
    let dropped = async {
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = $1 AND pid <> pg_backend_pid()",
        )
        .bind(schema)
        .execute(&mut connection)
        .await
        .map_err(|error| AdminError::Statement(format!("ending {schema}'s sessions: {error}")))?;
        execute(
            &mut connection,
            &format!("SET lock_timeout = '{DROP_LOCK_TIMEOUT}'"),
        )
        .await?;
        execute(
            &mut connection,
            &format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        )
        .await
    }
    .await;
    let _ = connection.close().await;
    dropped
}

/// Creates the database `name` on the server of `url`.
pub async fn create_database(url: &str, name: &str) -> Result<(), AdminError> {
    let mut connection = connect(url).await?;
    let created = execute(&mut connection, &format!("CREATE DATABASE {name}")).await;
    let _ = connection.close().await;
    created
}

/// Drops the database `name`, ending whatever sessions still use it.
pub async fn drop_database(url: &str, name: &str) -> Result<(), AdminError> {
    let mut connection = connect(url).await?;
    let dropped = execute(
        &mut connection,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await;
    let _ = connection.close().await;
    dropped
}

/// Runs `work` to completion on a small runtime of its own, on a plain thread, and waits
/// for it: usable from `Drop` and from synchronous tests alike, without ever blocking on a
/// future inside the caller's runtime (which can deadlock a current-thread test runtime).
pub fn run_detached<T: Send + 'static>(
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    try_run_detached(work).expect("the PostgreSQL helper thread panicked")
}

/// [`run_detached`] that never panics itself (`None` if the helper thread did), for `Drop`,
/// which may run while a failing test unwinds.
pub fn try_run_detached<T: Send + 'static>(
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> Option<T> {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime")
            .block_on(work)
    })
    .join()
    .ok()
}

/// The first schema of the search path that a connection made with `url` sees.
pub async fn current_schema(url: &str) -> Result<String, AdminError> {
    let mut connection = connect(url).await?;
    let schema = sqlx::query_scalar::<_, String>("SELECT current_schema()")
        .fetch_one(&mut connection)
        .await
        .map_err(|error| AdminError::Statement(format!("SELECT current_schema(): {error}")));
    let _ = connection.close().await;
    schema
}

/// Whether `schema` exists in the database of `url`.
pub async fn schema_exists(url: &str, schema: &str) -> Result<bool, AdminError> {
    let mut connection = connect(url).await?;
    let exists = sqlx::query_scalar::<_, bool>(
        "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
    )
    .bind(schema)
    .fetch_one(&mut connection)
    .await
    .map_err(|error| AdminError::Statement(format!("looking {schema} up: {error}")));
    let _ = connection.close().await;
    exists
}
