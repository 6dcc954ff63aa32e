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
    /// Quarter of the current step's byte progress last shown; `None` until
    /// the step shows bytes.
    quarter: std::cell::Cell<Option<u64>>,
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner:.cyan} {msg} {elapsed:.dim}").expect("valid template")
}

fn bytes_style() -> ProgressStyle {
    ProgressStyle::with_template("{msg} [{bar:30.cyan/blue}] {bytes}/{total_bytes} {elapsed:.dim}")
        .expect("valid template")
        .progress_chars("=> ")
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
            bar.set_style(spinner_style());
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
        if let Some(b) = &self.bar {
            if self.quarter.get().is_some() {
                b.set_style(spinner_style());
            }
            b.set_message(msg.to_string());
        } else if self.plain {
            eprintln!("[{:>5.1}s] {msg}", self.start.elapsed().as_secs_f32());
        }
        self.quarter.set(None);
    }

    /// Byte progress of the current step (flashing): a bar on a terminal,
    /// a line at every quarter otherwise.
    pub fn bytes(&self, done: u64, total: u64) {
        if total == 0 {
            return;
        }
        let q = done.min(total) * 4 / total;
        let last = self.quarter.get();
        let new_quarter = last.is_none_or(|last| q > last);
        if let Some(b) = &self.bar {
            if last.is_none() {
                b.set_style(bytes_style());
            }
            b.set_length(total);
            b.set_position(done);
        } else if self.plain && new_quarter {
            eprintln!(
                "[{:>5.1}s]   {} of {} bytes",
                self.start.elapsed().as_secs_f32(),
                out::thousands(done),
                out::thousands(total)
            );
        }
        if new_quarter {
            self.quarter.set(Some(q));
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

/// The library's progress reports drawn by [`Steps`].
impl zant_pipeline::Progress for Steps {
    fn step(&self, msg: &str) {
        Steps::step(self, msg);
    }
    fn bytes(&self, done: u64, total: u64) {
        Steps::bytes(self, done, total);
    }
    fn note(&self, msg: &str) {
        Steps::note(self, msg);
    }
}

impl Drop for Steps {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_progress_moves_by_quarters_and_each_step_starts_afresh() {
        let s = Steps::new(true);
        s.step("flashing");
        let mut seen = Vec::new();
        for done in [0, 10, 30, 60, 99, 100] {
            s.bytes(done, 100);
            seen.push(s.quarter.get());
        }
        assert_eq!(seen, [Some(0), Some(0), Some(1), Some(2), Some(3), Some(4)]);
        s.bytes(5, 0); // nothing known yet: ignored
        assert_eq!(s.quarter.get(), Some(4));
        s.step("reading the report");
        assert_eq!(s.quarter.get(), None);
    }
}
