//! Progress bars on a terminal for the long commands (hidden when stderr is
//! piped).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use vbolt::Progress;

/// A progress bar on a terminal; nothing when stderr is piped.
pub fn progress_bar(what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

pub fn report(bar: &ProgressBar) -> impl FnMut(Progress) + '_ {
    |p: Progress| {
        bar.set_length(p.total);
        bar.set_position(p.done);
    }
}
