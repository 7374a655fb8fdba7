//! The `migrate` subcommand: opens both databases, copies the objects, then the file
//! bytes between data directories, and checks that every file's bytes arrived.

use std::path::{Path, PathBuf};

use super::{sqlite_to_postgres, MigrationReport};
use crate::files::DataDir;
use crate::store::postgres::PgStore;
use crate::store::sqlite::SqliteStore;
use crate::store::{redact_password, StoreError, StoreResult, Tenant};

/// What `assistants-server migrate` was asked to do.
#[derive(Debug, Clone, clap::Args)]
pub struct MigrateArgs {
    /// The SQLite deployment to copy (`sqlite://PATH`).
    #[arg(long, value_name = "URL")]
    pub from: String,
    /// The empty PostgreSQL database to copy it into (`postgres://...`).
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// The SQLite deployment's data directory [default: beside the database file].
    #[arg(long, value_name = "DIR")]
    pub from_data_dir: Option<PathBuf>,
    /// The data directory the PostgreSQL deployment will use [default: the same one,
    /// nothing to copy].
    #[arg(long, value_name = "DIR")]
    pub to_data_dir: Option<PathBuf>,
}

/// Runs the migration; the report says table by table what was counted on both sides,
/// and the number of files whose bytes were checked in the target data directory.
pub async fn run(args: &MigrateArgs) -> StoreResult<(MigrationReport, u64)> {
    if !args.from.starts_with("sqlite:") {
        return Err(StoreError::Unsupported(format!(
            "--from must be a sqlite:// URL, not '{}'",
            redact_password(&args.from)
        )));
    }
    if !(args.to.starts_with("postgres://") || args.to.starts_with("postgresql://")) {
        return Err(StoreError::Unsupported(format!(
            "--to must be a postgres:// URL, not '{}'",
            redact_password(&args.to)
        )));
    }
    let source = SqliteStore::connect(&args.from).await?;
    let target = PgStore::connect(&args.to).await?;
    let report = sqlite_to_postgres(&source, &target).await?;
    let from_dir = args
        .from_data_dir
        .clone()
        .unwrap_or_else(|| crate::settings::default_data_dir(&args.from));
    let to_dir = args.to_data_dir.clone().unwrap_or_else(|| from_dir.clone());
    if from_dir != to_dir {
        for folder in ["files", "uploads"] {
            copy_tree(&from_dir.join(folder), &to_dir.join(folder)).map_err(|e| {
                StoreError::backend_while(
                    format_args!("copying {} to {}", from_dir.display(), to_dir.display()),
                    e,
                )
            })?;
        }
    }
    let checked = check_bytes(&source, &DataDir::new(to_dir)).await?;
    source.pool().close().await;
    target.pool().close().await;
    Ok((report, checked))
}

/// Copies every file under `from` to the same place under `to` (absent `from`: nothing).
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    if !from.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let destination = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &destination)?;
        } else {
            std::fs::copy(entry.path(), destination)?;
        }
    }
    Ok(())
}

/// Checks that each file record's bytes are in `data` with the recorded size.
async fn check_bytes(source: &SqliteStore, data: &DataDir) -> StoreResult<u64> {
    let files: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT tenant, id, bytes FROM files ORDER BY seq")
            .fetch_all(source.pool())
            .await?;
    for (tenant, id, bytes) in &files {
        let path = data.file_path(&Tenant::from_stored(tenant.clone()), id);
        let found = std::fs::metadata(&path).map(|m| m.len()).ok();
        if found != u64::try_from(*bytes).ok() {
            return Err(StoreError::backend(format!(
                "the bytes of file {id} are missing or truncated at {} ({found:?} of {bytes})",
                path.display()
            )));
        }
    }
    Ok(files.len() as u64)
}
