//! Keeps the crate's layers pointing down: a module may use only modules of a lower rank (the
//! order `lib.rs` documents), so no import cycle can come back.

use std::path::Path;

/// Each top-level module's rank; a module uses only modules of a strictly lower rank.
const RANKS: [(&str, u8); 21] = [
    ("spec", 1),
    ("vars", 0),
    ("sse", 0),
    ("verdict", 0),
    ("matcher", 1),
    ("multipart", 1),
    ("annotations", 2),
    ("catalog", 3),
    ("fixture", 4),
    ("results", 5),
    ("client", 6),
    ("schema_severity", 6),
    ("check", 7),
    ("invariants", 8),
    ("exec", 9),
    ("report", 10),
    ("recordings", 10),
    ("progress", 11),
    ("runner", 12),
    ("cli", 13),
    ("layering", 14),
];

fn rank(module: &str) -> Option<u8> {
    RANKS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, rank)| *rank)
}

fn visit(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            visit(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn modules_only_use_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    visit(&src, &mut files);
    let pattern = regex::Regex::new(r"crate::([a-z_]+)").unwrap();
    let mut upward = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap().as_os_str();
        let module = first.to_str().unwrap().trim_end_matches(".rs");
        if matches!(module, "lib" | "main") {
            continue;
        }
        let own = rank(module).unwrap_or_else(|| {
            panic!("module `{module}` has no rank: add it to RANKS in src/layering.rs")
        });
        let text = std::fs::read_to_string(&file).unwrap();
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for used in pattern.captures_iter(line) {
                let used = &used[1];
                if used == module {
                    continue;
                }
                let theirs = rank(used).unwrap_or_else(|| panic!("module `{used}` has no rank"));
                if theirs >= own {
                    upward.push(format!("{}: uses crate::{used}", relative.display()));
                }
            }
        }
    }
    assert!(upward.is_empty(), "imports that point up: {upward:#?}");
}
