//! One entry point that runs a built ELF on whatever its board names: QEMU
//! (instructions counted), a debug probe through probe-rs, or an ESP32's
//! serial port through espflash.

use std::path::Path;
use std::time::Duration;

use zant_boards::{Board, ReportChannel, Runner};

use crate::esp::{self, EspError, EspJob};
use crate::probe::{self, FlashJob, ProbeError};
use crate::qemu::{self, QemuConfig, QemuError};
use crate::report::{self, MarkCounts, Report};

/// Where a long job reports its progress. The CLI draws it as a spinner or
/// plain lines; [`Silent`] shows nothing.
pub trait Progress {
    /// A new step begins.
    fn step(&self, msg: &str);
    /// Byte progress of the current step (flashing).
    fn bytes(&self, done: u64, total: u64) {
        let _ = (done, total);
    }
    /// Item progress of the current step (samples of a data set).
    fn items(&self, done: u64, total: u64) {
        let _ = (done, total);
    }
    /// A note that stays on screen.
    fn note(&self, msg: &str) {
        let _ = msg;
    }
    /// A line of a tool's own output (cargo's, with `-v`), printed as it
    /// comes, on stderr unless the display draws it (above a spinner).
    fn tool_line(&self, line: &str) {
        eprintln!("{line}");
    }
}

/// Progress that shows nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {
    fn step(&self, _msg: &str) {}
}

/// How to run on the target, beyond what the board says.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Time limit of one run.
    pub timeout: Duration,
    /// probe-rs boards: the debug probe, `VID:PID[:SERIAL]` (default: the only one).
    pub probe: Option<String>,
    /// espflash boards: the serial port (default: the only ESP32 adapter).
    pub port: Option<String>,
    /// QEMU boards: also count the instructions of each function
    /// ([`TargetOutcome::functions`]).
    pub functions: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            timeout: Duration::from_secs(120),
            probe: None,
            port: None,
            functions: false,
        }
    }
}

/// What a run on the target gave back, whatever ran it.
#[derive(Debug, Clone)]
pub struct TargetOutcome {
    /// The firmware's report (outputs and key=value figures).
    pub report: Report,
    /// Guest instructions of one inference (QEMU boards).
    pub instructions: Option<u64>,
    /// Cycles of one inference (hardware boards, from the cycle counter).
    pub cycles: Option<u64>,
    /// Deepest stack use the firmware measured.
    pub stack_peak: Option<u64>,
    /// Profiling builds: the running count at each profile marker
    /// (instructions under QEMU, cycles on hardware).
    pub marks: Option<MarkCounts>,
    /// With [`RunOptions::functions`] on a QEMU board: the instructions of
    /// one inference by function, most first.
    pub functions: Option<Vec<qemu::FunctionCount>>,
}

/// Why a run on the target failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Under QEMU.
    #[error(transparent)]
    Qemu(#[from] QemuError),
    /// Through a debug probe.
    #[error(transparent)]
    Probe(#[from] ProbeError),
    /// Over an ESP32's serial port.
    #[error(transparent)]
    Esp(#[from] EspError),
    /// An option of another runner than the board's (`--port` for a
    /// probe-rs board).
    #[error("{option} does not apply to board `{board}`, which runs through {runner}")]
    NotForThisBoard {
        /// The option given.
        option: &'static str,
        /// The board.
        board: String,
        /// How the board runs.
        runner: String,
        /// Which boards take the option.
        help: &'static str,
    },
    /// A data-set run on a board whose firmware cannot read samples: QEMU
    /// boards read them through semihosting, probe-rs boards over RTT,
    /// ESP32 boards over their UART; a probe-rs board that reports over
    /// another channel cannot.
    #[error("board `{board}` runs through {runner} and reports over {report}: a data set (--inputs) needs semihosting (QEMU), RTT (probe-rs) or an ESP32's UART")]
    NoDataSetTransport {
        /// The board.
        board: String,
        /// How the board runs.
        runner: String,
        /// What the board reports over.
        report: String,
    },
    /// The samples file does not hold `n` samples of equal size.
    #[error("the samples file {path} ({bytes} bytes) does not hold {n} samples of equal size")]
    SamplesFile {
        /// The file.
        path: String,
        /// Its size.
        bytes: usize,
        /// Samples expected.
        n: usize,
    },
}

impl RunError {
    /// What to do about the error, kept apart from its message (`None`
    /// when zant has no advice for it).
    pub fn help(&self) -> Option<String> {
        match self {
            RunError::Qemu(e) => e.help(),
            RunError::Probe(e) => e.help(),
            RunError::Esp(e) => e.help(),
            RunError::NotForThisBoard { help, .. } => Some((*help).to_string()),
            RunError::NoDataSetTransport { .. } => Some(
                "set report = \"rtt\" in the board file, or validate on a QEMU board of the same core (`zant boards` lists them)".into(),
            ),
            RunError::SamplesFile { .. } => None,
        }
    }
}

impl RunError {
    /// Exit status of a command that ends with this error: 2 for what the
    /// user gave or must install, 1 when the job failed.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Qemu(e) => e.exit_code(),
            RunError::Probe(e) => e.exit_code(),
            RunError::Esp(e) => e.exit_code(),
            RunError::NotForThisBoard { .. } | RunError::NoDataSetTransport { .. } => 2,
            RunError::SamplesFile { .. } => 1,
        }
    }
}

impl QemuError {
    /// Exit status: 2 when QEMU is not installed, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            QemuError::NotInstalled { .. } | QemuError::UnknownMachine { .. } => 2,
            _ => 1,
        }
    }
}

impl ProbeError {
    /// Exit status: 2 for a malformed `--probe`, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            ProbeError::BadSelector(_) => 2,
            _ => 1,
        }
    }
}

impl EspError {
    /// Exit status: 2 for a port that does not exist or a chip espflash does
    /// not know, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            EspError::NoSuchPort(_) | EspError::UnknownChip(_) => 2,
            _ => 1,
        }
    }
}

/// What can be checked before building for a run on `board`, so a mistake
/// costs no cross-compile: QEMU installed and emulating the board's machine;
/// `--probe` well formed; `--port` existing and the espflash chip known; no
/// option of another runner.
pub fn preflight(board: &Board, opts: &RunOptions) -> Result<(), RunError> {
    let not_for = |option: &'static str, help: &'static str| RunError::NotForThisBoard {
        option,
        board: board.name.clone(),
        runner: board.runner.label(),
        help,
    };
    if opts.probe.is_some() && !matches!(board.runner, Runner::ProbeRs { .. }) {
        return Err(not_for(
            "--probe",
            "--probe chooses the debug probe of a probe-rs board",
        ));
    }
    if opts.port.is_some() && !matches!(board.runner, Runner::Espflash { .. }) {
        return Err(not_for(
            "--port",
            "--port chooses the serial port of an ESP32 (espflash) board",
        ));
    }
    match &board.runner {
        Runner::Qemu {
            binary, machine, ..
        } => qemu::preflight(binary, machine)?,
        Runner::ProbeRs { .. } => {
            if let Some(sel) = &opts.probe {
                probe::parse_selector(sel)?;
            }
        }
        Runner::Espflash { chip } => {
            esp::chip(chip)?;
            if let Some(port) = &opts.port {
                esp::check_port(port)?;
            }
        }
    }
    Ok(())
}

/// Checks before a data-set build that `board` can take it: a QEMU board
/// (its firmware reads the samples through semihosting), a probe-rs board
/// that reports over RTT (samples come as frames on RTT down channel 0), or
/// an ESP32 board (frames on its UART / USB-Serial-JTAG).
pub fn preflight_dataset(board: &Board) -> Result<(), RunError> {
    match board.runner {
        Runner::Qemu { .. } | Runner::Espflash { .. } => Ok(()),
        Runner::ProbeRs { .. } if board.report == ReportChannel::Rtt => Ok(()),
        _ => Err(RunError::NoDataSetTransport {
            board: board.name.clone(),
            runner: board.runner.label(),
            report: format!("{:?}", board.report).to_lowercase(),
        }),
    }
}

/// Checks before a build for a run on a hardware board that its debug
/// probe or serial port is there (the errors of [`run`] when it is not),
/// so a missing board costs no cross-compile. QEMU boards: nothing to check.
pub fn find_target(board: &Board, opts: &RunOptions) -> Result<(), RunError> {
    match &board.runner {
        Runner::Qemu { .. } => {}
        Runner::ProbeRs { chip } => {
            probe::choose(&probe::list(), opts.probe.as_deref(), chip)?;
        }
        Runner::Espflash { chip } => {
            esp::choose(&esp::list(), opts.port.as_deref(), chip)?;
        }
    }
    Ok(())
}

/// What a data-set run on the target gave back.
#[derive(Debug, Clone)]
pub struct DataSetTargetOutcome {
    /// One line per sample: its outputs and figures.
    pub samples: Vec<report::SampleLine>,
    /// Guest instructions of each sample's inference (QEMU boards).
    pub instructions: Option<Vec<u64>>,
    /// Deepest stack use over all samples.
    pub stack_peak: Option<u64>,
    /// Wall-clock time of the run on the target (informative only).
    pub elapsed: Duration,
}

/// Runs the data-set build `elf` on `board` over the samples file
/// `samples` (`n` samples, each one's inputs back to back): under QEMU, in
/// a directory of its own where the firmware opens the file; on a probe-rs
/// board, as frames over RTT; on an ESP32 board, as frames over its serial
/// port. `progress` gets the samples done as items.
pub fn run_dataset(
    board: &Board,
    elf: &Path,
    samples: &Path,
    n: usize,
    opts: &RunOptions,
    progress: &dyn Progress,
) -> Result<DataSetTargetOutcome, RunError> {
    preflight_dataset(board)?;
    let (binary, machine, cpu, extra_args) = match &board.runner {
        Runner::Qemu {
            binary,
            machine,
            cpu,
            extra_args,
        } => (binary, machine, cpu, extra_args),
        Runner::ProbeRs { .. } | Runner::Espflash { .. } => {
            return run_dataset_framed(board, elf, samples, n, opts, progress)
        }
    };
    progress.step(&format!(
        "running {n} samples on QEMU {machine} and counting instructions"
    ));
    progress.items(0, n as u64);
    let cfg = QemuConfig {
        binary: binary.clone(),
        machine: machine.clone(),
        cpu: cpu.clone(),
        extra_args: extra_args.clone(),
        elf: elf.to_path_buf(),
        timeout: opts.timeout,
        count_instructions: true,
        per_function: false,
    };
    let dir = samples
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if samples.file_name() != Some(std::ffi::OsStr::new(SAMPLES_FILE)) {
        return Err(RunError::Qemu(QemuError::Io(std::io::Error::other(
            format!(
                "the samples file must be named {SAMPLES_FILE} (got {})",
                samples.display()
            ),
        ))));
    }
    let ds = qemu::DataSetRun {
        dir: dir.to_path_buf(),
        samples: n,
    };
    let o = qemu::run_dataset(&cfg, &ds, &mut |done| progress.items(done as u64, n as u64))?;
    Ok(DataSetTargetOutcome {
        stack_peak: o.report.int("stack_peak"),
        samples: o.samples,
        instructions: o.instructions,
        elapsed: o.elapsed,
    })
}

/// The samples file split into `n` samples of equal size.
fn split_samples(samples: &Path, n: usize) -> Result<Vec<Vec<u8>>, RunError> {
    let bytes = std::fs::read(samples).map_err(|e| RunError::SamplesFile {
        path: format!("{} ({e})", samples.display()),
        bytes: 0,
        n,
    })?;
    if n == 0 || !bytes.len().is_multiple_of(n) {
        return Err(RunError::SamplesFile {
            path: samples.display().to_string(),
            bytes: bytes.len(),
            n,
        });
    }
    Ok(bytes.chunks(bytes.len() / n).map(<[u8]>::to_vec).collect())
}

/// [`run_dataset`] on a hardware board: flash, then the samples as frames
/// over RTT (probe-rs) or the serial port (espflash).
fn run_dataset_framed(
    board: &Board,
    elf: &Path,
    samples: &Path,
    n: usize,
    opts: &RunOptions,
    progress: &dyn Progress,
) -> Result<DataSetTargetOutcome, RunError> {
    let payloads = split_samples(samples, n)?;
    let t0 = std::time::Instant::now();
    let mut bytes = |done: u64, total: u64| progress.bytes(done, total);
    let mut items = |done: usize| progress.items(done as u64, n as u64);
    let (report, lines) = match &board.runner {
        Runner::ProbeRs { chip } => {
            progress.step(&format!("looking for a debug probe for {chip}"));
            probe::choose(&probe::list(), opts.probe.as_deref(), chip)?;
            let job = FlashJob {
                chip: chip.clone(),
                probe: opts.probe.clone(),
                elf: elf.to_path_buf(),
                timeout: opts.timeout,
            };
            progress.step(&format!(
                "flashing {} through probe-rs, then {n} samples over RTT",
                board.name
            ));
            probe::run_dataset(&job, &payloads, &mut bytes, &mut items)?
        }
        Runner::Espflash { chip } => {
            progress.step(&format!("looking for the serial port of the {chip}"));
            let port = esp::choose(&esp::list(), opts.port.as_deref(), chip)?;
            let job = EspJob {
                chip: chip.clone(),
                port: Some(port.name.clone()),
                elf: elf.to_path_buf(),
                timeout: opts.timeout,
            };
            progress.step(&format!(
                "flashing {} on {} through espflash, then {n} samples over it",
                board.name, port.name
            ));
            esp::run_dataset(&job, &payloads, &mut bytes, &mut items)?
        }
        Runner::Qemu { .. } => unreachable!("QEMU boards read the samples file"),
    };
    Ok(DataSetTargetOutcome {
        stack_peak: report.int("stack_peak"),
        samples: lines,
        instructions: None,
        elapsed: t0.elapsed(),
    })
}

/// The file a data-set build's firmware opens through semihosting, in
/// QEMU's working directory: every sample's inputs one after the other.
pub const SAMPLES_FILE: &str = "zant-samples.bin";

/// Runs `elf` on the target `board` names (QEMU, probe-rs or espflash), one
/// inference, and reads back its report.
pub fn run(
    board: &Board,
    elf: &Path,
    opts: &RunOptions,
    progress: &dyn Progress,
) -> Result<TargetOutcome, RunError> {
    let mut functions = None;
    let (report, instructions, qemu_marks) = match &board.runner {
        Runner::Qemu {
            binary,
            machine,
            cpu,
            extra_args,
        } => {
            progress.step(&format!(
                "running on QEMU {machine} and counting instructions"
            ));
            let cfg = QemuConfig {
                binary: binary.clone(),
                machine: machine.clone(),
                cpu: cpu.clone(),
                extra_args: extra_args.clone(),
                elf: elf.to_path_buf(),
                timeout: opts.timeout,
                count_instructions: true,
                per_function: opts.functions,
            };
            let o = qemu::run(&cfg)?;
            functions = o.functions;
            (o.report, o.instructions, o.marks)
        }
        Runner::ProbeRs { chip } => {
            progress.step(&format!("looking for a debug probe for {chip}"));
            let job = FlashJob {
                chip: chip.clone(),
                probe: opts.probe.clone(),
                elf: elf.to_path_buf(),
                timeout: opts.timeout,
            };
            probe::choose(&probe::list(), opts.probe.as_deref(), chip)?;
            progress.step(&format!("flashing {} through probe-rs", board.name));
            let mut bytes = |done: u64, total: u64| progress.bytes(done, total);
            (probe::flash_and_run(&job, &mut bytes)?, None, None)
        }
        Runner::Espflash { chip } => {
            progress.step(&format!("looking for the serial port of the {chip}"));
            let port = esp::choose(&esp::list(), opts.port.as_deref(), chip)?;
            let job = EspJob {
                chip: chip.clone(),
                port: Some(port.name.clone()),
                elf: elf.to_path_buf(),
                timeout: opts.timeout,
            };
            progress.step(&format!(
                "flashing {} on {} through espflash",
                board.name, port.name
            ));
            let mut bytes = |done: u64, total: u64| progress.bytes(done, total);
            (esp::flash_and_run(&job, &mut bytes)?, None, None)
        }
    };
    let cycles = match board.runner {
        Runner::Qemu { .. } => None,
        _ => report.int("cycles"),
    };
    let stack_peak = report.int("stack_peak");
    let marks = match board.runner {
        Runner::Qemu { .. } => qemu_marks,
        Runner::ProbeRs { .. } => report::profile_cycles(&report)
            .map_err(|e| ProbeError::Target(report::TargetError::Report(e)))?,
        Runner::Espflash { .. } => report::profile_cycles(&report)
            .map_err(|e| EspError::Target(report::TargetError::Report(e)))?,
    };
    Ok(TargetOutcome {
        report,
        instructions,
        cycles,
        stack_peak,
        marks,
        functions,
    })
}
