//! Flashing and running firmware on a board through a debug probe, with
//! probe-rs as a library: list probes, pick one, attach with the board's
//! chip name, erase and program the ELF, reset and run, and read the report
//! over RTT with a time limit.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use probe_rs::flashing::{
    DownloadOptions, ElfLoader, ElfOptions, FileDownloadError, FlashProgress, ProgressEvent,
};
use probe_rs::probe::list::Lister;
use probe_rs::probe::{DebugProbeError, DebugProbeInfo, DebugProbeSelector};
use probe_rs::rtt::{Error as RttError, Rtt};
use probe_rs::Permissions;

use crate::link::{Link, LinkError};
use crate::report::{self, Report, TargetError};

/// A probe as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeInfo {
    /// Probe name.
    pub name: String,
    /// USB vendor id.
    pub vid: u16,
    /// USB product id.
    pub pid: u16,
    /// Serial number.
    pub serial: Option<String>,
}

impl ProbeInfo {
    /// `VID:PID[:SERIAL]`, the form `--probe` takes.
    pub fn selector(&self) -> String {
        match &self.serial {
            Some(s) => format!("{:04x}:{:04x}:{s}", self.vid, self.pid),
            None => format!("{:04x}:{:04x}", self.vid, self.pid),
        }
    }
}

impl From<&DebugProbeInfo> for ProbeInfo {
    fn from(p: &DebugProbeInfo) -> Self {
        ProbeInfo {
            name: p.identifier.clone(),
            vid: p.vendor_id,
            pid: p.product_id,
            serial: p.serial_number.clone(),
        }
    }
}

/// Errors of the hardware path, each with what to do.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// No probe is attached.
    #[error("no debug probe found (zant would flash chip `{chip}` through probe-rs)")]
    NoProbe {
        /// Chip zant would have flashed.
        chip: String,
    },
    /// Several probes and no choice.
    #[error("{} debug probes found; choose one with --probe VID:PID[:SERIAL]:\n{}", .0.len(), .0.iter().map(|p| format!("  {}  {}", p.selector(), p.name)).collect::<Vec<_>>().join("\n"))]
    Ambiguous(Vec<ProbeInfo>),
    /// The selector matched nothing.
    #[error("no debug probe matches --probe {0}")]
    NotMatched(String),
    /// `--probe` is malformed.
    #[error("--probe {0}: expected VID:PID or VID:PID:SERIAL in hex")]
    BadSelector(String),
    /// Opening the probe failed (busy, permissions).
    #[error("cannot open debug probe {probe}: {source}")]
    Open {
        /// Probe.
        probe: String,
        /// Cause.
        #[source]
        source: DebugProbeError,
    },
    /// Attaching to the chip failed.
    #[error("cannot attach to chip `{chip}` through {probe}: {source}")]
    Attach {
        /// Chip.
        chip: String,
        /// Probe.
        probe: String,
        /// Cause.
        #[source]
        source: probe_rs::Error,
    },
    /// Flashing or verifying failed.
    #[error("flashing {elf} failed: {source}")]
    Flash {
        /// ELF.
        elf: String,
        /// Cause.
        #[source]
        source: FileDownloadError,
    },
    /// The core could not be reset to run the firmware.
    #[error("cannot read the firmware's report over RTT: {0}")]
    Reset(#[source] probe_rs::Error),
    /// The firmware's RTT control block was not found in time.
    #[error("cannot read the firmware's report over RTT: no RTT control block found: {0}")]
    NoRtt(#[source] RttError),
    /// The firmware has no RTT up channel 0.
    #[error("cannot read the firmware's report over RTT: the firmware has no RTT up channel 0")]
    NoUpChannel,
    /// Reading the RTT up channel failed.
    #[error("cannot read the firmware's report over RTT: {0}")]
    RttRead(#[source] RttError),
    /// A data-set run over RTT failed: no ready line, a link error, no
    /// answer to a frame, or frames refused.
    #[error("data set over RTT: {0}")]
    DataSet(String),
    /// The firmware failed, or did not report in time.
    #[error(transparent)]
    Target(#[from] TargetError),
}

impl ProbeError {
    /// What to do about the error, kept apart from its message (`None`
    /// when zant has no advice for it).
    pub fn help(&self) -> Option<String> {
        match self {
            ProbeError::NoProbe { .. } => Some("connect the board's debug probe (ST-LINK, J-Link, CMSIS-DAP) by USB; on Linux make sure your user may access it (probe-rs udev rules: https://probe.rs/docs/getting-started/probe-setup/); or use --no-flash to stop after building".into()),
            ProbeError::Open { .. } => Some("close other debuggers using it (probe-rs, OpenOCD, STM32CubeIDE); on Linux install the probe-rs udev rules and re-plug the probe".into()),
            ProbeError::Attach { .. } => Some("check that the board is powered and that the board file names the right chip (`probe-rs chip list`)".into()),
            _ => None,
        }
    }
}

/// Kind of a memory range in probe-rs's description of a chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryKind {
    /// Non-volatile memory (flash).
    Flash,
    /// RAM.
    Ram,
}

/// A named memory range of a chip as probe-rs describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChipRange {
    /// probe-rs's name of the range (`DTCM`, `BANK_1`).
    pub name: String,
    /// Flash or RAM.
    pub kind: MemoryKind,
    /// Addresses.
    pub range: std::ops::Range<u64>,
}

/// The memory map probe-rs has for `chip` (its flashing and RTT use it), or
/// `None` when probe-rs does not know the chip.
pub fn chip_memory(chip: &str) -> Option<Vec<ChipRange>> {
    let target = probe_rs::config::Registry::from_builtin_families()
        .get_target_by_name(chip)
        .ok()?;
    Some(
        target
            .memory_map
            .iter()
            .filter_map(|m| {
                let (name, kind) = match m {
                    probe_rs::config::MemoryRegion::Ram(r) => (r.name.clone(), MemoryKind::Ram),
                    probe_rs::config::MemoryRegion::Nvm(r) => (r.name.clone(), MemoryKind::Flash),
                    probe_rs::config::MemoryRegion::Generic(_) => return None,
                };
                Some(ChipRange {
                    name: name.unwrap_or_default(),
                    kind,
                    range: m.address_range(),
                })
            })
            .collect(),
    )
}

/// True when ranges of `kind` in `map` cover `range` without a gap.
pub fn covered(map: &[ChipRange], kind: MemoryKind, range: std::ops::Range<u64>) -> bool {
    let mut at = range.start;
    while at < range.end {
        match map
            .iter()
            .filter(|c| c.kind == kind && c.range.start <= at && at < c.range.end)
            .map(|c| c.range.end)
            .max()
        {
            Some(end) => at = end,
            None => return false,
        }
    }
    true
}

/// Lists the attached probes.
pub fn list() -> Vec<ProbeInfo> {
    Lister::new()
        .list_all()
        .iter()
        .map(ProbeInfo::from)
        .collect()
}

/// Reads a `--probe` selector, `VID:PID[:SERIAL]` with VID and PID in hex.
pub fn parse_selector(sel: &str) -> Result<(u16, u16, Option<String>), ProbeError> {
    DebugProbeSelector::from_str(sel).map_err(|_| ProbeError::BadSelector(sel.to_string()))?;
    let parts: Vec<&str> = sel.split(':').collect();
    match (
        parts.first().and_then(|v| u16::from_str_radix(v, 16).ok()),
        parts.get(1).and_then(|v| u16::from_str_radix(v, 16).ok()),
    ) {
        (Some(v), Some(p)) => Ok((v, p, parts.get(2).map(|s| s.to_string()))),
        _ => Err(ProbeError::BadSelector(sel.to_string())),
    }
}

/// Picks a probe: the one matching `selector`, or the only one attached.
pub fn choose(
    probes: &[ProbeInfo],
    selector: Option<&str>,
    chip: &str,
) -> Result<ProbeInfo, ProbeError> {
    if let Some(sel) = selector {
        let (vid, pid, serial) = parse_selector(sel)?;
        return probes
            .iter()
            .find(|p| p.vid == vid && p.pid == pid && (serial.is_none() || p.serial == serial))
            .cloned()
            .ok_or_else(|| ProbeError::NotMatched(sel.to_string()));
    }
    match probes {
        [] => Err(ProbeError::NoProbe {
            chip: chip.to_string(),
        }),
        [one] => Ok(one.clone()),
        many => Err(ProbeError::Ambiguous(many.to_vec())),
    }
}

/// What to flash and how.
#[derive(Debug, Clone)]
pub struct FlashJob {
    /// probe-rs chip name.
    pub chip: String,
    /// `--probe` selector.
    pub probe: Option<String>,
    /// The ELF.
    pub elf: PathBuf,
    /// Time limit for the report.
    pub timeout: Duration,
}

/// Opens the probe, attaches to the chip, flashes the ELF (verified) and
/// resets the core; `progress(done, total)` is called while programming.
fn flash(
    job: &FlashJob,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(probe_rs::Session, String), ProbeError> {
    let probes = list();
    let chosen = choose(&probes, job.probe.as_deref(), &job.chip)?;
    let selector = DebugProbeSelector::from_str(&chosen.selector())
        .map_err(|_| ProbeError::BadSelector(chosen.selector()))?;
    let probe = Lister::new()
        .open(selector)
        .map_err(|source| ProbeError::Open {
            probe: chosen.name.clone(),
            source,
        })?;
    let mut session = probe
        .attach(job.chip.as_str(), Permissions::default())
        .map_err(|source| ProbeError::Attach {
            chip: job.chip.clone(),
            probe: chosen.name.clone(),
            source,
        })?;
    let (mut total, mut done) = (0u64, 0u64);
    let mut opts = DownloadOptions::default();
    opts.verify = true;
    opts.progress = FlashProgress::new(|event: ProgressEvent| match event {
        ProgressEvent::AddProgressBar { total: Some(t), .. } => total += t,
        ProgressEvent::Progress { size, .. } => {
            done += size;
            progress(done, total.max(done));
        }
        _ => {}
    });
    let elf_str = job.elf.display().to_string();
    probe_rs::flashing::download_file_with_options(
        &mut session,
        &job.elf,
        ElfLoader(ElfOptions::default()),
        opts,
    )
    .map_err(|source| ProbeError::Flash {
        elf: elf_str.clone(),
        source,
    })?;
    Ok((session, chosen.name))
}

/// The running core and its RTT control block, found within the time limit.
fn attach_rtt<'s>(
    session: &'s mut probe_rs::Session,
    job: &FlashJob,
    probe: &str,
) -> Result<(probe_rs::Core<'s>, Rtt), ProbeError> {
    let mut core = session.core(0).map_err(|source| ProbeError::Attach {
        chip: job.chip.clone(),
        probe: probe.to_string(),
        source,
    })?;
    core.reset().map_err(ProbeError::Reset)?;
    let t0 = Instant::now();
    let rtt = loop {
        match Rtt::attach(&mut core) {
            Ok(r) => break r,
            Err(_) if t0.elapsed() < job.timeout => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(ProbeError::NoRtt(e)),
        }
    };
    Ok((core, rtt))
}

/// Flashes the ELF, runs it, and reads its report over RTT.
/// `progress(done, total)` is called while programming.
pub fn flash_and_run(
    job: &FlashJob,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Report, ProbeError> {
    let (mut session, probe) = flash(job, progress)?;
    let (mut core, mut rtt) = attach_rtt(&mut session, job, &probe)?;
    let t0 = Instant::now();
    let mut text = String::new();
    let mut buf = [0u8; 1024];
    loop {
        let Some(ch) = rtt.up_channel(0) else {
            return Err(ProbeError::NoUpChannel);
        };
        let n = ch.read(&mut core, &mut buf).map_err(ProbeError::RttRead)?;
        text.push_str(&String::from_utf8_lossy(&buf[..n]));
        if let Some(r) = report::check(&text, &job.elf)? {
            return Ok(r);
        }
        if t0.elapsed() > job.timeout {
            return Err(TargetError::Timeout(job.timeout).into());
        }
        if n == 0 {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// RTT through the probe as a [`Link`]: frames go to down channel 0, the
/// firmware's lines come from up channel 0.
struct RttLink<'a, 's> {
    core: &'a mut probe_rs::Core<'s>,
    rtt: &'a mut Rtt,
}

fn rtt_io(e: RttError) -> std::io::Error {
    std::io::Error::other(format!("RTT: {e}"))
}

impl Link for RttLink<'_, '_> {
    fn send(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let ch = self
            .rtt
            .down_channel(0)
            .ok_or_else(|| std::io::Error::other("the firmware has no RTT down channel 0"))?;
        ch.write(self.core, bytes).map_err(rtt_io)
    }

    fn recv(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let ch = self
            .rtt
            .up_channel(0)
            .ok_or_else(|| std::io::Error::other("the firmware has no RTT up channel 0"))?;
        ch.read(self.core, buf).map_err(rtt_io)
    }
}

/// Flashes a framed data-set build ([`crate::link`]), runs it, and sends
/// it `samples` (each one's inputs back to back) over RTT down channel 0,
/// reading the answers from up channel 0. `on_sample(done)` is called as
/// samples complete.
pub fn run_dataset(
    job: &FlashJob,
    samples: &[Vec<u8>],
    progress: &mut dyn FnMut(u64, u64),
    on_sample: &mut dyn FnMut(usize),
) -> Result<(Report, Vec<report::SampleLine>), ProbeError> {
    let (mut session, probe) = flash(job, progress)?;
    let (mut core, mut rtt) = attach_rtt(&mut session, job, &probe)?;
    let mut link = RttLink {
        core: &mut core,
        rtt: &mut rtt,
    };
    crate::link::run_framed(&mut link, samples, job.timeout, &job.elf, on_sample).map_err(|e| {
        match e {
            LinkError::Target(t) => ProbeError::Target(t),
            e => ProbeError::DataSet(e.to_string()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(vid: u16, pid: u16, serial: Option<&str>) -> ProbeInfo {
        ProbeInfo {
            name: "probe".into(),
            vid,
            pid,
            serial: serial.map(str::to_string),
        }
    }

    #[test]
    fn choosing_a_probe() {
        let e = {
            let e = choose(&[], None, "STM32H743ZITx").unwrap_err();
            format!("{e}\n  help: {}", e.help().unwrap_or_default())
        };
        assert!(
            e.contains("no debug probe found") && e.contains("STM32H743ZITx") && e.contains("udev"),
            "{e}"
        );
        let two = [p(0x0483, 0x374b, Some("A")), p(0x0483, 0x374b, Some("B"))];
        assert!(matches!(
            choose(&two, None, "x"),
            Err(ProbeError::Ambiguous(_))
        ));
        assert_eq!(
            choose(&two, Some("0483:374b:B"), "x")
                .unwrap()
                .serial
                .as_deref(),
            Some("B")
        );
        assert!(matches!(
            choose(&two, Some("1234:5678"), "x"),
            Err(ProbeError::NotMatched(_))
        ));
        assert!(matches!(
            choose(&two, Some("zz"), "x"),
            Err(ProbeError::BadSelector(_))
        ));
    }

    #[test]
    fn listing_probes_works_without_hardware() {
        // On a machine without probes this is empty; it must not fail.
        let _ = list();
    }
}
