//! Helpers shared by the benchmarks.

use std::path::PathBuf;

/// `../shared/corpus`, or a loud message and `None`.
pub fn corpus() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    if path.is_dir() {
        Some(path)
    } else {
        eprintln!("!!! the shared corpus is missing at {}; corpus benchmarks are skipped", path.display());
        None
    }
}

/// Peak resident memory of this process so far, in KiB (Linux `VmHWM`).
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
