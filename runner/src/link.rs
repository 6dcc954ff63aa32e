//! Drives a data set through a framed data-set firmware over a byte link
//! (an RTT channel pair through a debug probe, or a serial port): wait for
//! the firmware's `ZANT-READY` line, send each sample as one frame
//! ([`crate::frame`]) and wait for its `ZANT-SAMPLE` line, send the end
//! frame, and read the report. A frame the firmware refuses
//! (`ZANT-FRAME-ERROR`) is sent again, a few times; a panic, a fault or
//! silence ends the run with a clear error, never a hang.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::frame;
use crate::report::{self, Report, ReportError, SampleLine, TargetError};

/// A byte link to a running firmware.
pub trait Link {
    /// Writes some of `bytes` (possibly none when the firmware's buffer is
    /// full); returns how many were taken.
    fn send(&mut self, bytes: &[u8]) -> std::io::Result<usize>;
    /// Reads what has arrived into `buf` (possibly nothing).
    fn recv(&mut self, buf: &mut [u8]) -> std::io::Result<usize>;
}

/// The line a framed data-set firmware prints when it waits for frames.
pub const READY: &str = "ZANT-READY";
/// The line a framed data-set firmware prints for a refused frame.
pub const FRAME_ERROR: &str = "ZANT-FRAME-ERROR";

/// Times a refused frame is sent again before the run fails.
const RETRIES: usize = 3;

/// Why a framed data-set run failed.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The link failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The firmware panicked, faulted, or printed a malformed report.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// The firmware never said it was ready for frames.
    #[error("the firmware did not print {READY} within {0:?}: is it a data-set build for this board, and did it start?")]
    NotReady(Duration),
    /// No answer to a frame in time.
    #[error("no answer to sample {index} within {timeout:?} (the link may have lost bytes, or the inference hung)")]
    NoAnswer {
        /// The sample.
        index: usize,
        /// The time waited.
        timeout: Duration,
    },
    /// The firmware kept refusing a frame.
    #[error("the firmware refused the frame of sample {index} {tries} times: {line}")]
    Refused {
        /// The sample.
        index: usize,
        /// Times sent.
        tries: usize,
        /// The firmware's last error line.
        line: String,
    },
}

/// What the firmware printed over the run, read line by line.
struct Text {
    all: String,
    /// Start of the first line not looked at yet.
    seen: usize,
}

impl Text {
    /// Complete lines not looked at yet (and marks them seen).
    fn new_lines(&mut self) -> Vec<String> {
        let rest = &self.all[self.seen..];
        let Some(end) = rest.rfind('\n') else {
            return Vec::new();
        };
        let lines = rest[..end]
            .lines()
            .map(|l| l.trim_end_matches('\r').to_string())
            .collect();
        self.seen += end + 1;
        lines
    }
}

fn pump(link: &mut dyn Link, text: &mut Text, elf: &Path) -> Result<usize, LinkError> {
    let mut buf = [0u8; 1024];
    let n = link.recv(&mut buf)?;
    text.all.push_str(&String::from_utf8_lossy(&buf[..n]));
    // A panic or a fault ends the run whatever zant waits for.
    if n == 0 {
        return Ok(0);
    }
    match report::parse(&text.all) {
        Ok(report::Outcome::Panic(_)) | Ok(report::Outcome::Fault { .. }) => {
            report::check(&text.all, elf)?;
        }
        _ => {}
    }
    Ok(n)
}

/// Sends all of `bytes`, reading the firmware's output meanwhile (it may be
/// blocked printing while zant writes).
fn send_all(
    link: &mut dyn Link,
    bytes: &[u8],
    text: &mut Text,
    elf: &Path,
    deadline: Instant,
    index: usize,
    timeout: Duration,
) -> Result<(), LinkError> {
    let mut at = 0;
    while at < bytes.len() {
        let n = link.send(&bytes[at..])?;
        at += n;
        if n == 0 {
            if Instant::now() > deadline {
                return Err(LinkError::NoAnswer { index, timeout });
            }
            if pump(link, text, elf)? == 0 {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }
    Ok(())
}

/// Runs `samples` (each one's payload: its inputs back to back) through
/// the firmware at the other end of `link`; `timeout` bounds the wait for
/// the firmware's ready line and for each answer. `on_sample(done)` is
/// called as samples complete. Returns the report and the sample lines.
pub fn run_framed(
    link: &mut dyn Link,
    samples: &[Vec<u8>],
    timeout: Duration,
    elf: &Path,
    on_sample: &mut dyn FnMut(usize),
) -> Result<(Report, Vec<SampleLine>), LinkError> {
    let mut text = Text {
        all: String::new(),
        seen: 0,
    };
    let idle = |n: usize| {
        if n == 0 {
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    let t0 = Instant::now();
    'ready: loop {
        for l in text.new_lines() {
            if l.starts_with(READY) {
                break 'ready;
            }
        }
        if t0.elapsed() > timeout {
            return Err(LinkError::NotReady(timeout));
        }
        idle(pump(link, &mut text, elf)?);
    }
    for (i, payload) in samples.iter().enumerate() {
        let f = frame::encode(i as u32, payload);
        let want = format!("{}index={i} ", report::SAMPLE_PREFIX);
        let mut tries = 0;
        'answer: loop {
            tries += 1;
            let deadline = Instant::now() + timeout;
            send_all(link, &f, &mut text, elf, deadline, i, timeout)?;
            loop {
                for l in text.new_lines() {
                    if l.starts_with(&want) {
                        break 'answer;
                    }
                    // Errors that name this frame (CRC, length) make zant
                    // send it again; noise between frames is only noted.
                    if l.starts_with(FRAME_ERROR)
                        && l.split_whitespace().any(|w| w == format!("index={i}"))
                    {
                        if tries >= RETRIES {
                            return Err(LinkError::Refused {
                                index: i,
                                tries,
                                line: l,
                            });
                        }
                        continue 'answer;
                    }
                }
                if Instant::now() > deadline {
                    return Err(LinkError::NoAnswer { index: i, timeout });
                }
                idle(pump(link, &mut text, elf)?);
            }
        }
        on_sample(i + 1);
    }
    let deadline = Instant::now() + timeout;
    send_all(
        link,
        &frame::end(),
        &mut text,
        elf,
        deadline,
        samples.len(),
        timeout,
    )?;
    let report = loop {
        if let Some(r) = report::check(&text.all, elf)? {
            break r;
        }
        if Instant::now() > deadline {
            return Err(TargetError::Timeout(timeout).into());
        }
        idle(pump(link, &mut text, elf)?);
    };
    let lines = report::parse_samples(&text.all).map_err(TargetError::Report)?;
    if lines.len() != samples.len() {
        return Err(TargetError::Report(ReportError::Samples(format!(
            "the firmware answered {} samples, zant sent {}",
            lines.len(),
            samples.len()
        )))
        .into());
    }
    Ok((report, lines))
}
