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
    /// Everything the firmware printed.
    pub stdout: String,
    /// Wall-clock time of the run (informative only).
    pub elapsed: Duration,
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

/// Runs the ELF once under QEMU and returns its report.
pub fn run(cfg: &QemuConfig) -> Result<RunOutcome, QemuError> {
    let elf_bytes = std::fs::read(&cfg.elf)?;
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
        .arg(&cfg.elf);
    let count_file =
        std::env::temp_dir().join(format!("zant-insn-{}-{}.txt", std::process::id(), unique()));
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
        cmd.arg("-plugin").arg(format!(
            "{},start=0x{start:x},end=0x{end:x},out={}{marker}",
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
    // Drain the pipes on threads so a chatty firmware cannot block.
    let mut so = child.stdout.take().expect("piped");
    let mut se = child.stderr.take().expect("piped");
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = so.read_to_string(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = se.read_to_string(&mut s);
        s
    });
    let status = match child.wait_timeout(cfg.timeout)? {
        Some(s) => s,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            let stdout = out_t.join().unwrap_or_default();
            let _ = std::fs::remove_file(&count_file);
            return Err(QemuError::Timeout {
                binary: cfg.binary.clone(),
                limit: cfg.timeout,
                tail: tail(&stdout, 10),
            });
        }
    };
    let elapsed = t0.elapsed();
    let stdout = out_t.join().unwrap_or_default();
    let stderr = err_t.join().unwrap_or_default();
    let counted = std::fs::read_to_string(&count_file).ok();
    let _ = std::fs::remove_file(&count_file);
    match report::parse(&stdout)? {
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
        Outcome::Missing => Err(QemuError::NoReport {
            status: status.to_string(),
            stderr: tail(&stderr, 10),
            stdout: tail(&stdout, 10),
        }),
        Outcome::Report(report) => {
            let mut marks = None;
            let instructions = if cfg.count_instructions {
                let text = counted.ok_or_else(|| QemuError::PluginFailed(tail(&stderr, 5)))?;
                let n = text
                    .lines()
                    .find_map(|l| l.strip_prefix("instructions="))
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| QemuError::PluginFailed(format!("unreadable count {text:?}")))?;
                let hits = text
                    .lines()
                    .find_map(|l| l.strip_prefix("marker_hits="))
                    .unwrap_or("");
                if hits != "1,1" {
                    return Err(QemuError::PluginFailed(format!(
                        "markers hit {hits} times, expected once each"
                    )));
                }
                marks = parse_marks(&text, n)?;
                Some(n)
            } else {
                None
            };
            if !status.success() {
                return Err(QemuError::NoReport {
                    status: status.to_string(),
                    stderr: tail(&stderr, 10),
                    stdout: tail(&stdout, 10),
                });
            }
            Ok(RunOutcome {
                report,
                instructions,
                marks,
                stdout,
                elapsed,
            })
        }
    }
}

/// The profile marker's symbol (see `zant_codegen::emit::PROFILE_MARK`).
pub const PROFILE_MARK: &str = "zant_profile_mark";

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
}
