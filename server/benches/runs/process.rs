//! What the benchmark process itself costs and how busy the machine was: resident
//! memory from `/proc/self/status` and the load average from `/proc/loadavg` (Linux
//! only; elsewhere these read as unknown).

/// A `kB` field of `/proc/self/status` (`VmHWM` = peak resident set, `VmRSS` = now).
pub(crate) fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().strip_suffix("kB")?.trim().parse().ok()
    })
}

/// Resets the peak resident set (`VmHWM`) to the current size, so the next reading is
/// the peak of one section rather than of the whole process; false when not supported.
pub(crate) fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Mebibytes of a `kB` reading, or `?` when unknown.
pub(crate) fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "?".to_owned(),
        |kib| format!("{:.1}", kib as f64 / 1024.0),
    )
}

/// The 1/5/15-minute load averages, as the kernel prints them.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "?".to_owned())
}
