//! Running firmware under QEMU.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use wait_timeout::ChildExt;

use crate::plugin::{plugin_path, PluginError};
use crate::report::{self, CountUnit, MarkCounts, Outcome, Report, ReportError};
use crate::{symbol_address, symbolize};

/// How to run one ELF.
#[derive(Debug, Clone)]
pub struct QemuConfig {
    /// `qemu-system-arm` or `qemu-system-riscv32`.
    pub binary: String,
    /// `-machine`.
    pub machine: String,
    /// `-cpu`.
    pub cpu: Option<String>,
    /// More arguments from the board file.
    pub extra_args: Vec<String>,
    /// The firmware.
    pub elf: PathBuf,
    /// Hard time limit.
    pub timeout: Duration,
    /// Count the instructions between the firmware's bench markers.
    pub count_instructions: bool,
    /// With `count_instructions`: also attribute them to the functions of
    /// the ELF ([`RunOutcome::functions`]).
    pub per_function: bool,
}

/// A successful run.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The report.
    pub report: Report,
    /// Guest instructions of one inference (when counted).
    pub instructions: Option<u64>,
    /// Profiling builds (the ELF has `zant_profile_mark`), when counted: the
    /// running instruction count at each marker call.
    pub marks: Option<MarkCounts>,
    /// With [`QemuConfig::per_function`]: the counted instructions of each
    /// function, most first ([`FunctionCount`]).
    pub functions: Option<Vec<FunctionCount>>,
    /// Everything the firmware printed.
    pub stdout: String,
    /// Wall-clock time of the run (informative only).
    pub elapsed: Duration,
}

/// The instructions one function executed in a counted run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionCount {
    /// Demangled name without the hash (`model::zk::fast::matmul::matmul`),
    /// or `(no symbol)`.
    pub function: String,
    /// Guest instructions executed in it.
    pub instructions: u64,
}

/// What can go wrong running under QEMU; each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum QemuError {
    /// QEMU is not installed.
    #[error("{binary} was not found")]
    NotInstalled {
        /// Binary.
        binary: String,
        /// Debian package.
        package: String,
    },
    /// The board names a machine this QEMU does not emulate.
    #[error("{binary} has no machine `{machine}`{}", if suggestions.is_empty() { String::new() } else { format!(" (did you mean `{}`?)", suggestions.join("`, `")) })]
    UnknownMachine {
        /// QEMU binary.
        binary: String,
        /// The machine the board names.
        machine: String,
        /// Close machine names this QEMU has.
        suggestions: Vec<String>,
    },
    /// The firmware did not finish in time.
    #[error("the firmware did not finish within {limit:?} under {binary} (a hang, or an infinite loop); last output:\n{tail}")]
    Timeout {
        /// QEMU binary.
        binary: String,
        /// Limit.
        limit: Duration,
        /// Last lines printed.
        tail: String,
    },
    /// The firmware panicked.
    #[error("the firmware panicked: {0}")]
    Panic(String),
    /// The core faulted.
    #[error("the core faulted at {location}: {line}")]
    Fault {
        /// pc and symbol.
        location: String,
        /// The fault line.
        line: String,
    },
    /// QEMU exited without a complete report.
    #[error("the firmware ended without a complete report (exit status {status}); QEMU said:\n{stderr}\nfirmware printed:\n{stdout}")]
    NoReport {
        /// Exit status.
        status: String,
        /// QEMU's stderr.
        stderr: String,
        /// Firmware output.
        stdout: String,
    },
    /// The report was malformed.
    #[error("the firmware's report is malformed: {0}")]
    Report(#[from] ReportError),
    /// The ELF has no bench markers.
    #[error("{elf} has no `zant_bench_start`/`zant_bench_end` symbols; instructions can only be counted in firmware made by zant")]
    NoMarkers {
        /// ELF path.
        elf: String,
    },
    /// The plugin could not be built.
    #[error(transparent)]
    Plugin(#[from] PluginError),
    /// The plugin did not produce a count.
    #[error("QEMU did not load zant's instruction-counting plugin ({0})")]
    PluginFailed(String),
    /// I/O.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl QemuError {
    /// What to do about the error, kept apart from its message (`None`
    /// when zant has no advice for it).
    pub fn help(&self) -> Option<String> {
        match self {
            QemuError::NotInstalled { package, .. } => Some(format!(
                "install QEMU: sudo apt-get install {package} (or run `ci/setup.sh`)"
            )),
            QemuError::Fault { .. } => Some(
                "a fault in the model code is a zant bug; please report it with the model".into(),
            ),
            QemuError::UnknownMachine { binary, .. } => Some(format!(
                "set [run.qemu] machine in the board file to one of `{binary} -machine help`"
            )),
            QemuError::PluginFailed(..) => {
                Some("QEMU must be built with plugin support (Debian's packages are)".into())
            }
            _ => None,
        }
    }
}

fn package_of(binary: &str) -> &'static str {
    if binary.contains("riscv") {
        "qemu-system-misc"
    } else {
        "qemu-system-arm"
    }
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A data-set run ([`run_dataset`]): the firmware of a data-set build
/// reads its samples from a file in QEMU's working directory, runs one
/// inference per sample and prints a `ZANT-SAMPLE` line for each.
#[derive(Debug, Clone)]
pub struct DataSetRun {
    /// QEMU's working directory: the firmware opens its samples file
    /// (`zant-samples.bin`) there.
    pub dir: PathBuf,
    /// How many samples the file holds (the inferences to expect).
    pub samples: usize,
}

/// A successful data-set run.
#[derive(Debug, Clone)]
pub struct DataSetOutcome {
    /// The final report (outputs of the last sample, deepest stack use).
    pub report: Report,
    /// One line per sample, in order.
    pub samples: Vec<report::SampleLine>,
    /// Guest instructions of each sample's inference (when counted).
    pub instructions: Option<Vec<u64>>,
    /// Wall-clock time of the run (informative only).
    pub elapsed: Duration,
}

/// What QEMU left behind: its exit status and output, and the plugin's file.
struct Raw {
    status: std::process::ExitStatus,
    stdout: String,
    stderr: String,
    counted: Option<String>,
    /// The plugin's per-block counts (`hist=`), when asked for.
    blocks: Option<String>,
    elapsed: Duration,
}

/// Runs the ELF under QEMU (in `cwd` when given), handing each line the
/// firmware prints to `on_line` as it comes. With `per_line`, the time
/// limit applies to the silence between lines, else to the whole run.
fn spawn(
    cfg: &QemuConfig,
    cwd: Option<&std::path::Path>,
    per_line: bool,
    on_line: &mut dyn FnMut(&str),
) -> Result<Raw, QemuError> {
    let elf_bytes = std::fs::read(&cfg.elf)?;
    let elf = std::path::absolute(&cfg.elf)?;
    let mut cmd = Command::new(&cfg.binary);
    cmd.arg("-machine").arg(&cfg.machine);
    if let Some(c) = &cfg.cpu {
        cmd.arg("-cpu").arg(c);
    }
    cmd.args(&cfg.extra_args)
        .args([
            "-nographic",
            "-monitor",
            "none",
            "-serial",
            "none",
            "-semihosting-config",
            "enable=on,target=native",
        ])
        .arg("-kernel")
        .arg(&elf);
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    let count_file =
        std::env::temp_dir().join(format!("zant-insn-{}-{}.txt", std::process::id(), unique()));
    let block_file = count_file.with_extension("blocks");
    if cfg.count_instructions {
        let (Some(start), Some(end)) = (
            symbol_address(&elf_bytes, "zant_bench_start"),
            symbol_address(&elf_bytes, "zant_bench_end"),
        ) else {
            return Err(QemuError::NoMarkers {
                elf: cfg.elf.display().to_string(),
            });
        };
        let so = plugin_path()?;
        let marker = symbol_address(&elf_bytes, PROFILE_MARK)
            .map(|m| format!(",marker=0x{m:x}"))
            .unwrap_or_default();
        let hist = if cfg.per_function {
            format!(",hist={}", block_file.display())
        } else {
            String::new()
        };
        cmd.arg("-plugin").arg(format!(
            "{},start=0x{start:x},end=0x{end:x},out={}{marker}{hist}",
            so.display(),
            count_file.display()
        ));
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let t0 = Instant::now();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(QemuError::NotInstalled {
                binary: cfg.binary.clone(),
                package: package_of(&cfg.binary).into(),
            })
        }
        Err(e) => return Err(e.into()),
    };
    // Drain the pipes on threads so a chatty firmware cannot block; stdout
    // comes back line by line.
    let so = child.stdout.take().expect("piped");
    let mut se = child.stderr.take().expect("piped");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let out_t = std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(so).split(b'\n') {
            let Ok(l) = line else { break };
            if tx.send(String::from_utf8_lossy(&l).into_owned()).is_err() {
                break;
            }
        }
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = se.read_to_string(&mut s);
        s
    });
    let mut stdout = String::new();
    let mut deadline = t0 + cfg.timeout;
    let timed_out = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                stdout.push_str(&line);
                stdout.push('\n');
                on_line(&line);
                if per_line {
                    deadline = Instant::now() + cfg.timeout;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => break true,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break false,
        }
    };
    let status = match timed_out {
        true => None,
        false => child.wait_timeout(deadline.saturating_duration_since(Instant::now()))?,
    };
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        let _ = out_t.join();
        let _ = std::fs::remove_file(&count_file);
        let _ = std::fs::remove_file(&block_file);
        return Err(QemuError::Timeout {
            binary: cfg.binary.clone(),
            limit: cfg.timeout,
            tail: tail(&stdout, 10),
        });
    };
    let elapsed = t0.elapsed();
    let _ = out_t.join();
    let stderr = err_t.join().unwrap_or_default();
    let counted = std::fs::read_to_string(&count_file).ok();
    let _ = std::fs::remove_file(&count_file);
    let blocks = std::fs::read_to_string(&block_file).ok();
    let _ = std::fs::remove_file(&block_file);
    Ok(Raw {
        status,
        stdout,
        stderr,
        counted,
        blocks,
        elapsed,
    })
}

/// The report of a run that ended: panics, faults and a missing report as
/// errors (a fault's address named with the function it lies in).
fn classify(cfg: &QemuConfig, raw: &Raw) -> Result<Report, QemuError> {
    match report::parse(&raw.stdout)? {
        Outcome::Panic(m) => Err(QemuError::Panic(m)),
        Outcome::Fault { pc, line } => {
            let location = match pc {
                Some(pc) => format!(
                    "0x{pc:08x} ({})",
                    symbolize(&cfg.elf, pc).unwrap_or_else(|| "unknown function".into())
                ),
                None => "an unknown address".into(),
            };
            Err(QemuError::Fault { location, line })
        }
        Outcome::Missing => Err(no_report(raw)),
        Outcome::Report(report) => Ok(report),
    }
}

fn no_report(raw: &Raw) -> QemuError {
    QemuError::NoReport {
        status: raw.status.to_string(),
        stderr: tail(&raw.stderr, 10),
        stdout: tail(&raw.stdout, 10),
    }
}

/// The plugin's file: the instruction count, checked to have seen the bench
/// markers `runs` times each.
fn counted(raw: &Raw, runs: usize) -> Result<(u64, String), QemuError> {
    let text = raw
        .counted
        .clone()
        .ok_or_else(|| QemuError::PluginFailed(tail(&raw.stderr, 5)))?;
    let n = text
        .lines()
        .find_map(|l| l.strip_prefix("instructions="))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| QemuError::PluginFailed(format!("unreadable count {text:?}")))?;
    let hits = text
        .lines()
        .find_map(|l| l.strip_prefix("marker_hits="))
        .unwrap_or("");
    if hits != format!("{runs},{runs}") {
        return Err(QemuError::PluginFailed(match runs {
            1 => format!("markers hit {hits} times, expected once each"),
            n => format!("markers hit {hits} times, expected {n} times each"),
        }));
    }
    Ok((n, text))
}

/// Runs the ELF once under QEMU and returns its report.
pub fn run(cfg: &QemuConfig) -> Result<RunOutcome, QemuError> {
    let raw = spawn(cfg, None, false, &mut |_| {})?;
    let report = classify(cfg, &raw)?;
    let mut marks = None;
    let mut functions = None;
    let instructions = if cfg.count_instructions {
        let (n, text) = counted(&raw, 1)?;
        marks = parse_marks(&text, n)?;
        if cfg.per_function {
            functions = Some(per_function(cfg, raw.blocks.as_deref(), n)?);
        }
        Some(n)
    } else {
        None
    };
    if !raw.status.success() {
        return Err(no_report(&raw));
    }
    Ok(RunOutcome {
        report,
        instructions,
        marks,
        functions,
        stdout: raw.stdout,
        elapsed: raw.elapsed,
    })
}

/// Runs a data-set build under QEMU in `ds.dir`: one inference per sample,
/// `on_sample(done)` after each sample's line. The time limit applies to
/// each sample (the silence between lines), not to the whole run.
pub fn run_dataset(
    cfg: &QemuConfig,
    ds: &DataSetRun,
    on_sample: &mut dyn FnMut(usize),
) -> Result<DataSetOutcome, QemuError> {
    let mut done = 0;
    let raw = spawn(cfg, Some(&ds.dir), true, &mut |l| {
        if l.starts_with(report::SAMPLE_PREFIX) {
            done += 1;
            on_sample(done);
        }
    })?;
    let report = classify(cfg, &raw)?;
    let samples = report::parse_samples(&raw.stdout)?;
    if samples.len() != ds.samples {
        return Err(QemuError::Report(ReportError::Samples(format!(
            "the firmware ran {} samples, the samples file holds {}",
            samples.len(),
            ds.samples
        ))));
    }
    let instructions = if cfg.count_instructions {
        let (total, text) = counted(&raw, ds.samples)?;
        Some(parse_runs(&text, total, ds.samples)?)
    } else {
        None
    };
    if !raw.status.success() {
        return Err(no_report(&raw));
    }
    Ok(DataSetOutcome {
        report,
        samples,
        instructions,
        elapsed: raw.elapsed,
    })
}

/// The plugin's `runs=` line (running counts at each end marker) as the
/// instructions of each inference.
fn parse_runs(text: &str, total: u64, n: usize) -> Result<Vec<u64>, QemuError> {
    let list = text
        .lines()
        .find_map(|l| l.strip_prefix("runs="))
        .ok_or_else(|| QemuError::PluginFailed("the plugin wrote no runs= line".into()))?;
    let runs: Result<Vec<u64>, _> = list
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::parse::<u64>)
        .collect();
    let runs = runs.map_err(|_| QemuError::PluginFailed(format!("unreadable runs {list:?}")))?;
    if runs.len() != n
        || runs.windows(2).any(|w| w[0] > w[1])
        || runs.last().is_some_and(|&r| r != total)
    {
        return Err(QemuError::PluginFailed(format!(
            "per-inference counts {list} do not match {n} inferences of {total} instructions in all"
        )));
    }
    let mut prev = 0;
    Ok(runs
        .iter()
        .map(|&r| {
            let d = r - prev;
            prev = r;
            d
        })
        .collect())
}

/// The profile marker's symbol (see `zant_codegen::emit::PROFILE_MARK`).
pub const PROFILE_MARK: &str = "zant_profile_mark";

/// The plugin's per-block lines (`ADDR N COUNT`) as `(address,
/// instructions)` pairs; they must add up to the counted `total`.
fn parse_blocks(text: &str, total: u64) -> Result<Vec<(u64, u64)>, QemuError> {
    let bad = |l: &str| QemuError::PluginFailed(format!("unreadable block count {l:?}"));
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut f = line.split_ascii_whitespace();
        let (Some(a), Some(n), Some(c), None) = (f.next(), f.next(), f.next(), f.next()) else {
            return Err(bad(line));
        };
        let a = u64::from_str_radix(a, 16).map_err(|_| bad(line))?;
        let n: u64 = n.parse().map_err(|_| bad(line))?;
        let c: u64 = c.parse().map_err(|_| bad(line))?;
        out.push((a, n * c));
    }
    let sum: u64 = out.iter().map(|b| b.1).sum();
    if sum != total {
        return Err(QemuError::PluginFailed(format!(
            "per-block counts add up to {sum}, the run counted {total}"
        )));
    }
    Ok(out)
}

/// The counted instructions by function of the ELF, most first.
fn per_function(
    cfg: &QemuConfig,
    blocks: Option<&str>,
    total: u64,
) -> Result<Vec<FunctionCount>, QemuError> {
    let text = blocks
        .ok_or_else(|| QemuError::PluginFailed("the plugin wrote no per-block counts".into()))?;
    let blocks = parse_blocks(text, total)?;
    let data = std::fs::read(&cfg.elf)?;
    let elf = zant_common::elf::Elf::parse(&data)
        .map_err(|e| QemuError::PluginFailed(format!("{}: {e}", cfg.elf.display())))?;
    Ok(elf
        .functions_of(&blocks)
        .into_iter()
        .map(|(function, instructions)| FunctionCount {
            function,
            instructions,
        })
        .collect())
}

/// The plugin's `marks=` line as running instruction counts; `None` when the
/// firmware has no profile marker. Every count lies within the inference.
fn parse_marks(text: &str, total: u64) -> Result<Option<MarkCounts>, QemuError> {
    let Some(list) = text.lines().find_map(|l| l.strip_prefix("marks=")) else {
        return Ok(None);
    };
    let marks: Result<Vec<u64>, _> = list
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::parse::<u64>)
        .collect();
    let marks = marks.map_err(|_| QemuError::PluginFailed(format!("unreadable marks {list:?}")))?;
    if marks.windows(2).any(|w| w[0] > w[1]) || marks.last().is_some_and(|&m| m > total) {
        return Err(QemuError::PluginFailed(format!(
            "profile marks out of order: {list}"
        )));
    }
    Ok(Some(MarkCounts {
        unit: CountUnit::Instructions,
        marks,
        total,
    }))
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// Path-independent check that a QEMU binary runs; returns its version line.
pub fn version(binary: &str) -> Option<String> {
    let out = Command::new(binary).arg("--version").output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .map(str::to_string)
}

/// The machines `binary` emulates (`-machine help`), or `None` when it cannot
/// be asked (not installed, or an answer zant cannot read).
pub fn machines(binary: &str) -> Option<Vec<String>> {
    let out = Command::new(binary)
        .args(["-machine", "help"])
        .stdin(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip_while(|l| !l.starts_with("Supported machines"))
        .skip(1)
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    (!names.is_empty()).then_some(names)
}

/// Checks before a build that QEMU can run the board: `binary` is installed
/// and emulates `machine`.
pub fn preflight(binary: &str, machine: &str) -> Result<(), QemuError> {
    let installed = Command::new(binary)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if let Err(e) = installed {
        if e.kind() == std::io::ErrorKind::NotFound {
            return Err(QemuError::NotInstalled {
                binary: binary.to_string(),
                package: package_of(binary).to_string(),
            });
        }
        return Err(QemuError::Io(e));
    }
    if let Some(known) = machines(binary) {
        if !known.iter().any(|m| m == machine) {
            return Err(QemuError::UnknownMachine {
                binary: binary.to_string(),
                machine: machine.to_string(),
                suggestions: zant_common::suggest::close_matches(machine, &known),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_blocks_read_as_instructions_and_must_add_up() {
        let text = "100 4 10\n1a0 3 2\n";
        assert_eq!(
            parse_blocks(text, 46).unwrap(),
            vec![(0x100, 40), (0x1a0, 6)]
        );
        assert!(parse_blocks(text, 47).is_err());
        assert!(parse_blocks("zz 1 1\n", 1).is_err());
        assert!(parse_blocks("10 1\n", 1).is_err());
        assert_eq!(parse_blocks("", 0).unwrap(), vec![]);
    }

    #[test]
    fn plugin_marks_read_as_running_counts() {
        let text = "instructions=900\nmarker_hits=1,1\nmarks=10,400,890\n";
        let m = parse_marks(text, 900).unwrap().unwrap();
        assert_eq!(m.marks, vec![10, 400, 890]);
        assert_eq!((m.total, m.unit), (900, CountUnit::Instructions));
        assert_eq!(parse_marks("instructions=9\n", 9).unwrap(), None);
        assert!(parse_marks("marks=5,4\n", 9).is_err());
        assert!(parse_marks("marks=5,10\n", 9).is_err());
        assert!(parse_marks("marks=5,x\n", 9).is_err());
    }

    #[test]
    fn plugin_runs_read_as_per_inference_counts() {
        let text = "instructions=90\nmarker_hits=3,3\nruns=30,55,90\n";
        assert_eq!(parse_runs(text, 90, 3).unwrap(), vec![30, 25, 35]);
        assert!(parse_runs(text, 90, 2).is_err());
        assert!(parse_runs(text, 91, 3).is_err());
        assert!(parse_runs("runs=30,20,90\n", 90, 3).is_err());
        assert!(parse_runs("instructions=90\n", 90, 3).is_err());
    }
}
