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
    /// Quarter of the current byte progress last printed (plain lines).
    quarter: std::cell::Cell<Option<u64>>,
}

impl Steps {
    /// New display; `quiet` shows nothing.
    pub fn new(quiet: bool) -> Steps {
        if quiet {
            return Steps {
                bar: None,
                plain: false,
                start: Instant::now(),
                quarter: Default::default(),
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
                quarter: Default::default(),
            }
        } else {
            Steps {
                bar: None,
                plain: true,
                start: Instant::now(),
                quarter: Default::default(),
            }
        }
    }

    /// Starts a step.
    pub fn step(&self, msg: &str) {
        self.quarter.set(None);
        if let Some(b) = &self.bar {
            b.set_style(
                ProgressStyle::with_template("{spinner:.cyan} {msg} {elapsed:.dim}")
                    .expect("valid template"),
            );
            b.set_message(msg.to_string());
        } else if self.plain {
            eprintln!("[{:>5.1}s] {msg}", self.start.elapsed().as_secs_f32());
        }
    }

    /// Byte progress of the current step (flashing): a bar on a terminal,
    /// a line at every quarter otherwise.
    pub fn bytes(&self, done: u64, total: u64) {
        if let Some(b) = &self.bar {
            if b.length() != Some(total) {
                b.set_style(
                    ProgressStyle::with_template(
                        "{msg} [{bar:30.cyan/blue}] {bytes}/{total_bytes} {elapsed:.dim}",
                    )
                    .expect("valid template")
                    .progress_chars("=> "),
                );
                b.set_length(total);
            }
            b.set_position(done);
        } else if self.plain && total > 0 {
            let q = done.min(total) * 4 / total;
            if self.quarter.get().is_none_or(|last| q > last) {
                self.quarter.set(Some(q));
                eprintln!(
                    "[{:>5.1}s]   {} of {} bytes",
                    self.start.elapsed().as_secs_f32(),
                    out::thousands(done),
                    out::thousands(total)
                );
            }
        }
    }

    /// Runs `f` (which prints) with the spinner out of the way.
    pub fn suspend(&self, f: impl FnOnce()) {
        match &self.bar {
            Some(b) => b.suspend(f),
            None => f(),
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
