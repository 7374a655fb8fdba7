//! Vector store search latency and memory (`cargo bench --workspace --bench search`):
//! a synthetic, seeded corpus of 10k and 100k chunks is written through the `Store`
//! trait as ingestion writes it, then `vector_stores::search::search` (SQLite FTS5
//! bm25, the offline default) is timed for several query shapes, with and without an
//! attribute filter, at `max_num_results` 10 and 50. Peak RSS, database size, one
//! end-to-end HTTP case and the cost of attaching and detaching a file complete the
//! tables. With `BENCH_HYBRID=1` every chunk also gets a seeded unit vector and every
//! store an embedding model, and a few cases are timed again through hybrid search
//! (`search_with` against a local fake `/embeddings` server, see [`upstream`]) right
//! after the same keyword case. Sizes come from `BENCH_*` variables
//! (see [`Config`]); without `--bench` they shrink to a smoke run.

// Test code fails by panicking: unwrapping is how it says what broke.
#![allow(clippy::unwrap_used)]

mod attach;
mod cases;
mod corpus;
mod http;
mod populate;
#[allow(dead_code)]
#[path = "../runs/process.rs"]
mod process;
#[allow(dead_code)]
#[path = "../runs/stats.rs"]
mod stats;
mod upstream;

use std::time::{Duration, Instant};

use server::store::sqlite::SqliteStore;
use server::store::{Store, Tenant};
use server::vector_stores::chunking::AUTO_MAX_TOKENS;

use cases::{Budget, Shape};
use corpus::{file_text, prose, Rng, Vocabulary};
use populate::ChunkWords;
use stats::ms;

/// Any failure ends the benchmark with its message.
type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The seed of the corpus and the queries.
const SEED: u64 = 20_261_126;

/// Sizes of one run.
struct Config {
    /// Corpus sizes in chunks (`BENCH_CHUNKS`, comma-separated; 10000,100000).
    sizes: Vec<usize>,
    /// Words per chunk (`BENCH_CHUNK_WORDS`; default: as many as make `auto`'s 800 tokens).
    chunk_words: Option<usize>,
    /// Per-case timing budget (`BENCH_MIN_ITERS`, `BENCH_MAX_ITERS`, `BENCH_CASE_MS`).
    budget: Budget,
    /// HTTP-versus-direct rounds at the largest size (`BENCH_HTTP_ROUNDS`; 0 skips).
    http_rounds: usize,
    /// Attach/re-attach/detach rounds on the large store at every size
    /// (`BENCH_ATTACH_ROUNDS`; 0 skips).
    attach_rounds: usize,
    /// Where to keep the databases for inspection (`BENCH_DB_DIR`; default: a
    /// temporary directory removed at the end).
    keep_in: Option<std::path::PathBuf>,
    /// Vectors for hybrid cases (`BENCH_HYBRID=1`, dimensions `BENCH_HYBRID_DIMS`,
    /// 1536 by default); `None` times keyword search only.
    hybrid: Option<upstream::Vectors>,
}

impl Config {
    fn from_env_and_args() -> Self {
        let full = std::env::args().any(|arg| arg == "--bench");
        let var = |name: &str| std::env::var(name).ok();
        let size = |name: &str, full_size: usize, smoke_size: usize| {
            var(name)
                .and_then(|value| value.trim().parse().ok())
                .unwrap_or(if full { full_size } else { smoke_size })
        };
        let sizes = var("BENCH_CHUNKS")
            .map(|list| {
                list.split(',')
                    .filter_map(|n| n.trim().parse().ok())
                    .collect()
            })
            .unwrap_or_else(|| {
                if full {
                    vec![10_000, 100_000]
                } else {
                    vec![2_000]
                }
            });
        Self {
            sizes,
            chunk_words: var("BENCH_CHUNK_WORDS").and_then(|v| v.trim().parse().ok()),
            budget: Budget {
                min_iterations: size("BENCH_MIN_ITERS", 20, 5),
                max_iterations: size("BENCH_MAX_ITERS", 400, 20),
                time: Duration::from_millis(size("BENCH_CASE_MS", 1_500, 100) as u64),
            },
            http_rounds: size("BENCH_HTTP_ROUNDS", 100, 10),
            attach_rounds: size("BENCH_ATTACH_ROUNDS", 20, 3),
            keep_in: var("BENCH_DB_DIR").map(Into::into),
            hybrid: var("BENCH_HYBRID")
                .filter(|v| !matches!(v.trim(), "" | "0"))
                .map(|_| upstream::Vectors {
                    dimensions: size("BENCH_HYBRID_DIMS", 1536, 1536).max(1),
                    seed: SEED,
                }),
        }
    }
}

#[tokio::main]
async fn main() -> BenchResult<()> {
    let config = Config::from_env_and_args();
    let load_before = process::load_average();
    let (words, tokens_per_chunk) = chunk_words(config.chunk_words);
    eprintln!(
        "bench search: sizes {:?}, {} words per chunk (~{tokens_per_chunk:.0} tokens), overlap {}",
        config.sizes, words.size, words.overlap
    );
    let tenants = [
        Tenant::from_api_key(http::KEY),
        Tenant::from_api_key("sk-bench-search-other-tenant"),
    ];
    let largest = config.sizes.iter().copied().max().unwrap_or_default();
    let mut latency_rows = Vec::new();
    let mut memory_rows = Vec::new();
    let mut extra = Vec::new();
    let mut attach_rows = Vec::new();
    let mut hybrid_rows = Vec::new();
    let mut hybrid_memory_rows = Vec::new();
    let fake_upstream = match config.hybrid {
        Some(vectors) => Some(upstream::start(vectors).await?),
        None => None,
    };
    for &chunks in &config.sizes {
        let dir = match &config.keep_in {
            Some(parent) => {
                std::fs::create_dir_all(parent)?;
                tempfile::Builder::new()
                    .prefix(&format!("search-{chunks}-"))
                    .tempdir_in(parent)?
                    .keep()
                    .into()
            }
            None => Workdir::Temporary(tempfile::tempdir()?),
        };
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        // SQLite on purpose, not the test kit's backend choice: this benchmark reports the
        // database file's size and keeps the file for `sqlite3` with `BENCH_DB_DIR`.
        let store = SqliteStore::connect(&url).await?;
        let rss_before = process::status_kib("VmRSS");
        process::reset_peak_rss();
        let plan = populate::plan(chunks, SEED);
        let started = Instant::now();
        let text_bytes =
            populate::write(&store, &tenants, &plan, words, SEED, config.hybrid).await?;
        let populate_time = started.elapsed();
        let peak_populating = process::status_kib("VmHWM");
        let rss_populated = process::status_kib("VmRSS");
        let files: usize = plan.iter().map(|s| s.files.len()).sum();
        eprintln!(
            "{chunks} chunks: {} stores, {files} files, {:.0} MB of chunk text, written in {:.1} s",
            plan.len(),
            text_bytes as f64 / 1e6,
            populate_time.as_secs_f64()
        );
        process::reset_peak_rss();
        let large = &plan[0];
        let small = plan
            .iter()
            .find(|s| s.tenant == 0 && s.id != large.id)
            .unwrap_or(large);
        for shape in Shape::ALL {
            let queries = cases::queries(shape, SEED);
            for (target, label) in [(large, "large"), (small, "small")] {
                let variants: &[(bool, u32)] = if target.id == large.id {
                    &[(false, 10), (false, 50), (true, 10), (true, 50)]
                } else {
                    &[(false, 10)]
                };
                for &(filtered, max) in variants {
                    let measured = cases::measure(
                        &store,
                        None,
                        &tenants[0],
                        &target.id,
                        &queries,
                        filtered,
                        max,
                        config.budget,
                    )
                    .await;
                    let s = measured.summary;
                    latency_rows.push(format!(
                        "| {chunks:>7} | {label} ({:>6} chunks) | {:<16} | {:<6} | {max:>3} | {:>4} | {:>8} | {:>8} | {:>8} | {:>5.1} |",
                        target.chunks(),
                        shape.label(),
                        if filtered { "yes" } else { "no" },
                        s.count,
                        ms(s.p50),
                        ms(s.p99),
                        ms(s.mean),
                        measured.mean_results,
                    ));
                    eprintln!("{}", latency_rows.last().map_or("", String::as_str));
                }
            }
        }
        let peak_searching = process::status_kib("VmHWM");
        let mut peak_hybrid = None;
        if let Some(fake) = &fake_upstream {
            process::reset_peak_rss();
            for shape in Shape::ALL {
                let queries = cases::queries(shape, SEED);
                for (target, label, filtered) in [
                    (large, "large", false),
                    (large, "large", true),
                    (small, "small", false),
                ] {
                    let time = |embeddings| {
                        cases::measure(
                            &store,
                            embeddings,
                            &tenants[0],
                            &target.id,
                            &queries,
                            filtered,
                            10,
                            config.budget,
                        )
                    };
                    // Keyword first, hybrid right after: the ratio is taken under one load.
                    let keyword = time(None).await.summary;
                    let hybrid = time(Some(&fake.client)).await;
                    let s = hybrid.summary;
                    hybrid_rows.push(format!(
                        "| {chunks:>7} | {label} ({:>6} chunks) | {:<16} | {:<6} | {:>4} | {:>8} | {:>8} | {:>8} | {:>8} | {:>6.1}× | {:>5.1} |",
                        target.chunks(),
                        shape.label(),
                        if filtered { "yes" } else { "no" },
                        s.count,
                        ms(keyword.p50),
                        ms(s.p50),
                        ms(s.p99),
                        ms(s.mean),
                        s.p50.as_secs_f64() / keyword.p50.as_secs_f64().max(1e-9),
                        hybrid.mean_results,
                    ));
                    eprintln!("{}", hybrid_rows.last().map_or("", String::as_str));
                }
            }
            peak_hybrid = process::status_kib("VmHWM");
        }
        if chunks == largest && config.http_rounds > 0 {
            let compared = http::measure(
                dir.path(),
                &store,
                &tenants[0],
                &large.id,
                &cases::queries(Shape::Mixed, SEED),
                config.http_rounds,
            )
            .await?;
            extra.push(format!(
                "HTTP searchVectorStore at {chunks} chunks (large store, 3 mixed terms, max 10, {} rounds alternating):\n\
                 | path | p50 ms | p99 ms | mean ms |\n|---|---:|---:|---:|\n\
                 | POST /v1/vector_stores/{{id}}/search | {} | {} | {} |\n\
                 | `search` directly | {} | {} | {} |\n",
                compared.http.count,
                ms(compared.http.p50),
                ms(compared.http.p99),
                ms(compared.http.mean),
                ms(compared.direct.p50),
                ms(compared.direct.p99),
                ms(compared.direct.mean),
            ));
        }
        if config.attach_rounds > 0 {
            let measured =
                attach::measure(&store, &tenants[0], &large.id, config.attach_rounds, SEED).await?;
            for (label, s) in [
                ("attach a new file", measured.attach_new),
                ("re-attach a file of 50 chunks", measured.reattach),
                ("detach a file of 50 chunks", measured.detach),
            ] {
                attach_rows.push(format!(
                    "| {chunks:>7} | {label:<29} | {:>4} | {:>8} | {:>8} | {:>8} |",
                    s.count,
                    ms(s.p50),
                    ms(s.p99),
                    ms(s.mean)
                ));
                eprintln!("{}", attach_rows.last().map_or("", String::as_str));
            }
        }
        store.close().await;
        let db_bytes = directory_bytes(dir.path())?;
        if let Some(vectors) = config.hybrid {
            let vector_bytes = |n: usize| (n * vectors.dimensions * 4) as f64;
            hybrid_memory_rows.push(format!(
                "| {chunks:>7} | {:>5} | {:>7.0} | {:>7.0} | {:>7.0} | {:>7} | {:>7} |",
                vectors.dimensions,
                vector_bytes(chunks) / 1_048_576.0,
                vector_bytes(large.chunks()) / 1_048_576.0,
                db_bytes as f64 / 1_048_576.0,
                process::mib(peak_searching),
                process::mib(peak_hybrid),
            ));
        }
        memory_rows.push(format!(
            "| {chunks:>7} | {:>6} | {files:>5} | {:>7.0} | {:>6.1} | {:>7.0} | {:>7} | {:>7} | {:>7} | {:>7} |",
            plan.len(),
            text_bytes as f64 / 1e6,
            populate_time.as_secs_f64(),
            chunks as f64 / populate_time.as_secs_f64(),
            format!("{:.0}", db_bytes as f64 / 1_048_576.0),
            process::mib(peak_populating),
            process::mib(peak_searching),
            format!(
                "{}→{}",
                process::mib(rss_before),
                process::mib(rss_populated)
            ),
        ));
    }
    println!("# Vector store search benchmark\n");
    println!("command: cargo bench --workspace --bench search");
    println!(
        "corpus:  seed {SEED}; {} words per chunk (~{tokens_per_chunk:.0} cl100k tokens), {} words overlap",
        words.size, words.overlap
    );
    println!(
        "machine: {} CPUs; load average before {load_before}, after {}\n",
        std::thread::available_parallelism().map_or(0, usize::from),
        process::load_average()
    );
    println!("| chunks  | store searched         | query            | filter | max | n    | p50 ms   | p99 ms   | mean ms  | hits  |");
    println!("|--------:|------------------------|------------------|--------|----:|-----:|---------:|---------:|---------:|------:|");
    for row in &latency_rows {
        println!("{row}");
    }
    println!("\n| chunks  | stores | files | text MB | build s | chunks/s | DB MiB | peak RSS building MiB | peak RSS searching MiB | RSS MiB before→after build |");
    println!("|--------:|-------:|------:|--------:|--------:|---------:|-------:|------:|------:|------:|");
    for row in &memory_rows {
        println!("{row}");
    }
    if !attach_rows.is_empty() {
        println!(
            "\n| chunks  | large store: one file         | n    | p50 ms   | p99 ms   | mean ms  |"
        );
        println!(
            "|--------:|-------------------------------|-----:|---------:|---------:|---------:|"
        );
        for row in &attach_rows {
            println!("{row}");
        }
    }
    if !hybrid_rows.is_empty() {
        println!("\nHybrid (`search_with`, fake loopback /embeddings upstream, max 10; keyword p50 timed just before each case):\n");
        println!("| chunks  | store searched         | query            | filter | n    | kw p50   | hy p50   | hy p99   | hy mean  | p50 ×   | hits  |");
        println!("|--------:|------------------------|------------------|--------|-----:|---------:|---------:|---------:|---------:|--------:|------:|");
        for row in &hybrid_rows {
            println!("{row}");
        }
        println!("\n| chunks  | dims  | vectors MiB | large store's vectors MiB (read per query) | DB MiB | peak RSS keyword searching MiB | peak RSS hybrid searching MiB |");
        println!("|--------:|------:|--------:|--------:|--------:|--------:|--------:|");
        for row in &hybrid_memory_rows {
            println!("{row}");
        }
    }
    for text in &extra {
        println!("\n{text}");
    }
    Ok(())
}

/// The chunk size in words (and the tokens such a chunk has): `requested`, or as many
/// words as make `auto`'s 800 cl100k tokens in this corpus's prose; overlap is half,
/// as `auto`'s 400.
fn chunk_words(requested: Option<usize>) -> (ChunkWords, f64) {
    let vocabulary = Vocabulary::new();
    let mut rng = Rng::new(SEED);
    let sample_words = 2_000;
    let sample = prose(&file_text(&vocabulary, &mut rng, sample_words), &mut rng);
    let tokens = tiktoken_rs::cl100k_base_singleton()
        .encode_ordinary(&sample)
        .len() as f64;
    let per_word = tokens / sample_words as f64;
    let size = requested
        .unwrap_or_else(|| (AUTO_MAX_TOKENS as f64 / per_word).round() as usize)
        .max(2);
    (
        ChunkWords {
            size,
            overlap: size / 2,
        },
        size as f64 * per_word,
    )
}

/// The directory of one size's database: removed at the end unless kept.
enum Workdir {
    /// Removed when dropped.
    Temporary(tempfile::TempDir),
    /// Left in place (`BENCH_DB_DIR`).
    Kept(std::path::PathBuf),
}

impl From<std::path::PathBuf> for Workdir {
    fn from(path: std::path::PathBuf) -> Self {
        Workdir::Kept(path)
    }
}

impl Workdir {
    fn path(&self) -> &std::path::Path {
        match self {
            Workdir::Temporary(dir) => dir.path(),
            Workdir::Kept(path) => path,
        }
    }
}

/// Bytes of the files in `dir` (the database and any WAL left).
fn directory_bytes(dir: &std::path::Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let metadata = entry?.metadata()?;
        if metadata.is_file() {
            total += metadata.len();
        }
    }
    Ok(total)
}
