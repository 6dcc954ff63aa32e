//! The firmware report: `ZANT-REPORT v1`, `key=value` lines, `ZANT-END`;
//! or `ZANT-PANIC <message>` / `ZANT-FAULT pc=… …` when things go wrong.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::symbolize;

/// A parsed report.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    /// The key=value pairs.
    pub values: BTreeMap<String, String>,
    /// The output tensors' bytes, split by `output_lens`.
    pub outputs: Vec<Vec<u8>>,
}

impl Report {
    /// A value as an integer.
    pub fn int(&self, key: &str) -> Option<u64> {
        self.values.get(key)?.parse().ok()
    }
}

/// What the firmware printed, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A complete report.
    Report(Report),
    /// The firmware panicked.
    Panic(String),
    /// The core faulted.
    Fault {
        /// Program counter, if printed.
        pc: Option<u64>,
        /// The whole fault line.
        line: String,
    },
    /// No complete report was printed.
    Missing,
}

/// Errors in a report block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// A line is not `key=value`.
    #[error("malformed report line {0:?}")]
    Line(String),
    /// `outputs` is not hex or does not match `output_lens`.
    #[error("malformed outputs: {0}")]
    Outputs(String),
    /// The report has a version zant does not read.
    #[error("report version {0} is not supported")]
    Version(String),
    /// The `ZANT-SAMPLE` lines of a data-set run are malformed or too few.
    #[error("malformed sample lines: {0}")]
    Samples(String),
}

fn unhex(s: &str) -> Result<Vec<u8>, ReportError> {
    if !s.len().is_multiple_of(2) {
        return Err(ReportError::Outputs("odd number of hex digits".into()));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&s[i..i + 2], 16)
                .map_err(|_| ReportError::Outputs(format!("not hex at {i}")))
        })
        .collect()
}

/// Finds and parses the report (or panic/fault line) in a firmware's output.
pub fn parse(text: &str) -> Result<Outcome, ReportError> {
    let mut lines = text.lines().map(|l| l.trim_end_matches('\r'));
    let mut in_report = false;
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    for line in lines.by_ref() {
        if let Some(msg) = line.strip_prefix("ZANT-PANIC") {
            return Ok(Outcome::Panic(msg.trim().to_string()));
        }
        if line.starts_with("ZANT-FAULT") {
            let pc = line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("pc=0x"))
                .and_then(|h| u64::from_str_radix(h, 16).ok());
            return Ok(Outcome::Fault {
                pc,
                line: line.to_string(),
            });
        }
        if let Some(v) = line.strip_prefix("ZANT-REPORT") {
            let v = v.trim();
            if v != "v1" {
                return Err(ReportError::Version(v.to_string()));
            }
            in_report = true;
            continue;
        }
        if !in_report {
            continue;
        }
        if line == "ZANT-END" {
            let outputs = match (values.get("outputs"), values.get("output_lens")) {
                (Some(hex), Some(lens)) => {
                    let bytes = unhex(hex)?;
                    let lens: Result<Vec<usize>, _> = lens
                        .split(',')
                        .filter(|s: &&str| !s.is_empty())
                        .map(str::parse)
                        .collect();
                    let lens = lens.map_err(|_| ReportError::Outputs("bad output_lens".into()))?;
                    if lens.iter().sum::<usize>() != bytes.len() {
                        return Err(ReportError::Outputs(format!(
                            "{} bytes for output_lens {lens:?}",
                            bytes.len()
                        )));
                    }
                    let mut at = 0;
                    lens.iter()
                        .map(|&n| {
                            at += n;
                            bytes[at - n..at].to_vec()
                        })
                        .collect()
                }
                _ => Vec::new(),
            };
            return Ok(Outcome::Report(Report { values, outputs }));
        }
        let (k, v) = line
            .split_once('=')
            .ok_or_else(|| ReportError::Line(line.to_string()))?;
        values.insert(k.trim().to_string(), v.trim().to_string());
    }
    Ok(Outcome::Missing)
}

/// How a data-set build's line for one sample starts.
pub const SAMPLE_PREFIX: &str = "ZANT-SAMPLE ";

/// One sample of a data-set run, as the firmware printed it:
/// `ZANT-SAMPLE index=N outputs=HEX [cycles=C] status=ok`, the outputs
/// split like the report's (`output_lens`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleLine {
    /// The sample's position in the samples file, from 0.
    pub index: usize,
    /// The output tensors' bytes.
    pub outputs: Vec<Vec<u8>>,
    /// Cycles of the inference (when the firmware reads a cycle counter).
    pub cycles: Option<u64>,
    /// The inference ran (`status=ok`).
    pub ok: bool,
}

/// The `ZANT-SAMPLE` lines of a data-set run before its report, in order;
/// their outputs split by the report's `output_lens`. The indices must run
/// 0, 1, 2, … without gaps.
pub fn parse_samples(text: &str) -> Result<Vec<SampleLine>, ReportError> {
    let lens: Vec<usize> = text
        .lines()
        .find_map(|l| l.trim_end_matches('\r').strip_prefix("output_lens="))
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .ok_or_else(|| ReportError::Samples("the report has no output_lens".into()))?;
    let mut out = Vec::new();
    for line in text.lines().map(|l| l.trim_end_matches('\r')) {
        let Some(rest) = line.strip_prefix(SAMPLE_PREFIX) else {
            continue;
        };
        let mut s = SampleLine {
            index: usize::MAX,
            outputs: Vec::new(),
            cycles: None,
            ok: false,
        };
        let bad = |what: &str| ReportError::Samples(format!("{what} in {line:?}"));
        for kv in rest.split_whitespace() {
            let (k, v) = kv.split_once('=').ok_or_else(|| bad("not key=value"))?;
            match k {
                "index" => s.index = v.parse().map_err(|_| bad("bad index"))?,
                "cycles" => s.cycles = Some(v.parse().map_err(|_| bad("bad cycles"))?),
                "status" => s.ok = v == "ok",
                "outputs" => {
                    let bytes = unhex(v)?;
                    if lens.iter().sum::<usize>() != bytes.len() {
                        return Err(bad(&format!(
                            "{} output bytes for output_lens {lens:?}",
                            bytes.len()
                        )));
                    }
                    let mut at = 0;
                    s.outputs = lens
                        .iter()
                        .map(|&n| {
                            at += n;
                            bytes[at - n..at].to_vec()
                        })
                        .collect();
                }
                _ => {}
            }
        }
        if s.index != out.len() {
            return Err(bad(&format!("expected index={}", out.len())));
        }
        if s.outputs.len() != lens.len() {
            return Err(bad("no outputs"));
        }
        out.push(s);
    }
    Ok(out)
}

/// Where the time of one inference went, as read at the profile markers of
/// a profiling build: running counts since the start of the inference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkCounts {
    /// Instructions (QEMU, exact) or cycles (hardware counter).
    pub unit: CountUnit,
    /// The running count at each marker call, in call order.
    pub marks: Vec<u64>,
    /// The count of the whole inference (start to end marker).
    pub total: u64,
}

/// What [`MarkCounts`] count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountUnit {
    /// Guest instructions, counted by zant's QEMU plugin.
    Instructions,
    /// Core cycles, read from the cycle counter.
    Cycles,
}

/// The hardware profile of a profiling build: the report's
/// `profile_cycles=S,M0,…,Mn,E` (the low 32 bits of the cycle counter at the
/// start, at each marker and at the end) as running cycle counts since the
/// start, each step taken as a wrapping 32-bit difference (a node of more
/// than 2^32 cycles is out of reach). `None` when the report has no table.
pub fn profile_cycles(r: &Report) -> Result<Option<MarkCounts>, ReportError> {
    let Some(text) = r.values.get("profile_cycles") else {
        return Ok(None);
    };
    let vals: Result<Vec<u32>, _> = text
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.trim().parse::<u32>())
        .collect();
    let vals = vals.map_err(|_| ReportError::Line(format!("profile_cycles={text}")))?;
    if vals.len() < 2 {
        return Err(ReportError::Line(format!(
            "profile_cycles={text}: needs the start and end values"
        )));
    }
    let mut run = 0u64;
    let mut cum = Vec::with_capacity(vals.len());
    cum.push(0);
    for w in vals.windows(2) {
        run += u64::from(w[1].wrapping_sub(w[0]));
        cum.push(run);
    }
    let total = cum[cum.len() - 1];
    Ok(Some(MarkCounts {
        unit: CountUnit::Cycles,
        marks: cum[1..cum.len() - 1].to_vec(),
        total,
    }))
}

/// How a run on hardware ended without a report.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The target did not report in time.
    #[error("the target did not report within {0:?}; the firmware may have hung or faulted before printing")]
    Timeout(Duration),
    /// The firmware panicked.
    #[error("the firmware panicked on the target: {0}")]
    Panic(String),
    /// The core faulted.
    #[error("the core faulted at {0}")]
    Fault(String),
    /// Malformed report.
    #[error("malformed report: {0}")]
    Report(#[from] ReportError),
}

/// Looks at what a target printed so far, while reading from it: the report
/// when it is complete, `None` to read on, or how the firmware failed (a
/// fault's address named with the function of `elf` it lies in).
pub fn check(text: &str, elf: &Path) -> Result<Option<Report>, TargetError> {
    match parse(text)? {
        Outcome::Report(r) => Ok(Some(r)),
        Outcome::Panic(m) => Err(TargetError::Panic(m)),
        Outcome::Fault { pc, line } => {
            let at = pc.and_then(|pc| symbolize(elf, pc)).unwrap_or_default();
            Err(TargetError::Fault(
                format!("{line} {at}").trim_end().to_string(),
            ))
        }
        Outcome::Missing => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_report() {
        let t = "boot noise\nZANT-REPORT v1\nboard=b\noutputs=0000803f00000040\noutput_lens=4,4\nstack_peak=856\nZANT-END\n";
        let Outcome::Report(r) = parse(t).unwrap() else {
            panic!()
        };
        assert_eq!(r.int("stack_peak"), Some(856));
        assert_eq!(
            r.outputs,
            vec![1f32.to_le_bytes().to_vec(), 2f32.to_le_bytes().to_vec()]
        );
    }

    #[test]
    fn profile_cycles_wrap_and_sum() {
        let mut r = Report::default();
        assert_eq!(profile_cycles(&r).unwrap(), None);
        // Start near the top of the 32-bit counter: the second node wraps.
        r.values.insert(
            "profile_cycles".into(),
            "4294967000,4294967100,104,204,1204".into(),
        );
        let p = profile_cycles(&r).unwrap().unwrap();
        assert_eq!(p.unit, CountUnit::Cycles);
        assert_eq!(p.marks, vec![100, 400, 500]);
        assert_eq!(p.total, 1500);
        r.values.insert("profile_cycles".into(), "12".into());
        assert!(profile_cycles(&r).is_err());
        r.values.insert("profile_cycles".into(), "1,x,3".into());
        assert!(profile_cycles(&r).is_err());
    }

    #[test]
    fn parses_sample_lines() {
        let t = "ZANT-SAMPLE index=0 outputs=0000803f00000040 status=ok\n\
                 ZANT-SAMPLE index=1 outputs=0000000000000000 cycles=77 status=arena-busy\n\
                 ZANT-REPORT v1\noutputs=0000000000000000\noutput_lens=4,4\nZANT-END\n";
        let s = parse_samples(t).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[0].outputs,
            vec![1f32.to_le_bytes().to_vec(), 2f32.to_le_bytes().to_vec()]
        );
        assert!(s[0].ok && !s[1].ok);
        assert_eq!((s[0].cycles, s[1].cycles), (None, Some(77)));
        // A gap in the indices, a short output and no output_lens are errors.
        let gap = t.replace("index=1", "index=2");
        assert!(parse_samples(&gap).is_err());
        let short = t.replace("outputs=0000803f00000040 ", "outputs=0000803f ");
        assert!(parse_samples(&short).is_err());
        assert!(parse_samples("ZANT-SAMPLE index=0 outputs=00 status=ok\n").is_err());
    }

    #[test]
    fn panics_faults_and_missing() {
        assert_eq!(
            parse("ZANT-PANIC oops at x.rs:1\n").unwrap(),
            Outcome::Panic("oops at x.rs:1".into())
        );
        let Outcome::Fault { pc, .. } = parse("ZANT-FAULT pc=0x000004d2 lr=0x1\n").unwrap() else {
            panic!()
        };
        assert_eq!(pc, Some(0x4d2));
        assert_eq!(
            parse("ZANT-REPORT v1\nboard=b\n").unwrap(),
            Outcome::Missing
        );
        assert!(parse("ZANT-REPORT v1\nnonsense\nZANT-END\n").is_err());
        assert!(parse("ZANT-REPORT v2\n").is_err());
        assert!(parse("ZANT-REPORT v1\noutputs=00\noutput_lens=4\nZANT-END\n").is_err());
    }
}
