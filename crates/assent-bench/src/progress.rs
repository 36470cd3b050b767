//! Progress bars on the terminal (hidden with `--quiet`).

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` steps labelled `prefix`.
pub fn bar(len: u64, prefix: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template(
        "{prefix:>14} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_prefix(prefix.to_owned());
    bar
}
