//! Progress display: an indicatif spinner on a terminal, plain lines otherwise
//! (and nothing with `--json` or `-q`).

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::out;

/// Steps of a long command.
#[derive(Debug)]
pub struct Steps {
    bar: Option<ProgressBar>,
    plain: bool,
    /// Plain lines: the ticker that says a long step is still running.
    ticker: Option<Ticker>,
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

fn items_style() -> ProgressStyle {
    ProgressStyle::with_template("{msg} [{bar:30.cyan/blue}] {pos}/{len} {elapsed:.dim}")
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
                ticker: None,
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
                ticker: None,
                start: Instant::now(),
                quarter: Default::default(),
            }
        } else {
            let start = Instant::now();
            Steps {
                bar: None,
                plain: true,
                ticker: Some(Ticker::start(start, ticker_interval())),
                start,
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
            eprintln!("{}", plain_line(self.start.elapsed(), msg));
            if let Some(t) = &self.ticker {
                t.step(msg);
            }
        }
        self.quarter.set(None);
    }

    /// Byte progress of the current step (flashing): a bar on a terminal,
    /// a line at every quarter otherwise.
    pub fn bytes(&self, done: u64, total: u64) {
        self.counted(done, total, bytes_style, || {
            Some(format!(
                "  {} of {} bytes",
                out::thousands(done),
                out::thousands(total)
            ))
        });
    }

    /// Item progress of the current step (the samples of a data set): a bar
    /// on a terminal, a line at every quarter otherwise (none at zero).
    pub fn items(&self, done: u64, total: u64) {
        self.counted(done, total, items_style, || {
            (done > 0).then(|| format!("  {done} of {total} samples"))
        });
    }

    /// `done` of `total`: the bar (in `style` from the first call of the
    /// step), or the plain line `text` gives when a new quarter is reached.
    fn counted(
        &self,
        done: u64,
        total: u64,
        style: fn() -> ProgressStyle,
        text: impl FnOnce() -> Option<String>,
    ) {
        if total == 0 {
            return;
        }
        let q = done.min(total) * 4 / total;
        let last = self.quarter.get();
        let new_quarter = last.is_none_or(|last| q > last);
        if let Some(b) = &self.bar {
            if last.is_none() {
                b.set_style(style());
            }
            b.set_length(total);
            b.set_position(done);
        } else if self.plain && new_quarter {
            if let Some(what) = text() {
                eprintln!("{}", plain_line(self.start.elapsed(), &what));
            }
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

    /// A line of cargo's own output (`-v`): printed above the spinner, so
    /// the two never mix on one line; as it is on plain output.
    pub fn tool_line(&self, line: &str) {
        match &self.bar {
            Some(b) => b.println(line),
            None => eprintln!("{line}"),
        }
        if let Some(t) = &self.ticker {
            t.touch();
        }
    }

    /// Clears the spinner (and stops the plain ticker).
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        if let Some(t) = &self.ticker {
            t.stop();
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
    fn items(&self, done: u64, total: u64) {
        Steps::items(self, done, total);
    }
    fn note(&self, msg: &str) {
        Steps::note(self, msg);
    }
    fn tool_line(&self, line: &str) {
        Steps::tool_line(self, line);
    }
}

/// A plain progress line: time since the command started, then the text:
/// `[ 12.3s] cross-compiling for …`.
pub fn plain_line(elapsed: Duration, msg: &str) -> String {
    format!("[{:>5.1}s] {msg}", elapsed.as_secs_f32())
}

/// Seconds of silence after which plain output says the step is still
/// running: `ZANT_PROGRESS_INTERVAL`, default 15.
fn ticker_interval() -> Duration {
    let secs = std::env::var("ZANT_PROGRESS_INTERVAL")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(15.0);
    Duration::from_secs_f64(secs)
}

#[derive(Debug)]
struct TickState {
    step: String,
    last: Instant,
    done: bool,
}

/// On plain output, a thread that prints `[ 45.0s]   still <step>` when a
/// step has been silent for the interval, so a minute-long cross-compile
/// shows it is alive where no spinner can be drawn.
#[derive(Debug)]
struct Ticker {
    state: Arc<(Mutex<TickState>, Condvar)>,
}

impl Ticker {
    fn start(start: Instant, every: Duration) -> Ticker {
        let state = Arc::new((
            Mutex::new(TickState {
                step: String::new(),
                last: Instant::now(),
                done: false,
            }),
            Condvar::new(),
        ));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            let (lock, cv) = &*shared;
            let Ok(mut st) = lock.lock() else { return };
            loop {
                if st.done {
                    return;
                }
                let wait = every.saturating_sub(st.last.elapsed());
                if wait.is_zero() {
                    if !st.step.is_empty() {
                        eprintln!(
                            "{}",
                            plain_line(start.elapsed(), &format!("  still {}", st.step))
                        );
                    }
                    st.last = Instant::now();
                    continue;
                }
                st = match cv.wait_timeout(st, wait) {
                    Ok((g, _)) => g,
                    Err(_) => return,
                };
            }
        });
        Ticker { state }
    }

    fn with(&self, f: impl FnOnce(&mut TickState)) {
        if let Ok(mut st) = self.state.0.lock() {
            f(&mut st);
            self.state.1.notify_all();
        }
    }

    fn step(&self, msg: &str) {
        self.with(|st| {
            st.step = msg.to_string();
            st.last = Instant::now();
        });
    }

    fn touch(&self) {
        self.with(|st| st.last = Instant::now());
    }

    fn stop(&self) {
        self.with(|st| st.done = true);
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
    fn plain_lines_carry_the_time_since_the_start() {
        assert_eq!(
            plain_line(Duration::from_millis(2345), "cross-compiling"),
            "[  2.3s] cross-compiling"
        );
        assert_eq!(
            plain_line(Duration::from_secs(75), "  still cross-compiling"),
            "[ 75.0s]   still cross-compiling"
        );
    }

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
