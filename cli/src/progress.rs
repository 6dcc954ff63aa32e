//! Progress display: an indicatif spinner on a terminal, plain lines otherwise
//! (and nothing with `--json` or `-q`).

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::out;

/// Steps of a long command.
#[derive(Debug)]
pub struct Steps {
    bar: Option<ProgressBar>,
    plain: bool,
    start: Instant,
}

impl Steps {
    /// New display; `quiet` shows nothing.
    pub fn new(quiet: bool) -> Steps {
        if quiet {
            return Steps {
                bar: None,
                plain: false,
                start: Instant::now(),
            };
        }
        if out::stderr_is_tty() {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner:.cyan} {msg} {elapsed:.dim}")
                    .expect("valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(100));
            Steps {
                bar: Some(bar),
                plain: false,
                start: Instant::now(),
            }
        } else {
            Steps {
                bar: None,
                plain: true,
                start: Instant::now(),
            }
        }
    }

    /// Starts a step.
    pub fn step(&self, msg: &str) {
        if let Some(b) = &self.bar {
            b.set_message(msg.to_string());
        } else if self.plain {
            eprintln!("[{:>5.1}s] {msg}", self.start.elapsed().as_secs_f32());
        }
    }

    /// A note that stays on screen.
    pub fn note(&self, msg: &str) {
        if let Some(b) = &self.bar {
            b.println(msg);
        } else if self.plain {
            eprintln!("{msg}");
        }
    }

    /// Clears the spinner.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Drop for Steps {
    fn drop(&mut self) {
        self.finish();
    }
}
