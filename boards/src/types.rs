//! The resolved board: core, FPU, SIMD, memory, placement, runner.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// CPU core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Core {
    /// Arm Cortex-M0+ (Armv6-M).
    CortexM0Plus,
    /// Arm Cortex-M3 (Armv7-M).
    CortexM3,
    /// Arm Cortex-M4 (Armv7E-M, DSP).
    CortexM4,
    /// Arm Cortex-M7 (Armv7E-M, DSP).
    CortexM7,
    /// Arm Cortex-M33 (Armv8-M Mainline).
    CortexM33,
    /// Arm Cortex-M55 (Armv8.1-M, Helium).
    CortexM55,
    /// RISC-V RV32IMC.
    Rv32imc,
    /// RISC-V RV32IMAC.
    Rv32imac,
}

/// Core names as written in board files.
pub(crate) const CORES: &[(&str, Core)] = &[
    ("cortex-m0plus", Core::CortexM0Plus),
    ("cortex-m3", Core::CortexM3),
    ("cortex-m4", Core::CortexM4),
    ("cortex-m7", Core::CortexM7),
    ("cortex-m33", Core::CortexM33),
    ("cortex-m55", Core::CortexM55),
    ("rv32imc", Core::Rv32imc),
    ("rv32imac", Core::Rv32imac),
];

impl Core {
    /// Name as written in board files.
    pub fn name(self) -> &'static str {
        CORES
            .iter()
            .find(|(_, c)| *c == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }
    /// True for Arm Cortex-M cores.
    pub fn is_arm(self) -> bool {
        !matches!(self, Core::Rv32imc | Core::Rv32imac)
    }
}

impl fmt::Display for Core {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Floating-point unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Fpu {
    /// No FPU: floats in software.
    None,
    /// Single precision.
    Single,
    /// Single and double precision.
    Double,
}

/// SIMD extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Simd {
    /// Cortex-M DSP extension (packed 16-bit MACs).
    Dsp,
    /// Helium (M-profile Vector Extension).
    Mve,
    /// RISC-V P (packed SIMD).
    Rvp,
    /// RISC-V V (vectors).
    Rvv,
}

/// Rust compilation target of a board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RustTarget {
    /// Target triple.
    pub triple: String,
    /// `-C target-cpu`, if any.
    pub cpu: Option<String>,
    /// `-C target-feature` entries (`+mve.fp`, `-fp64`).
    pub features: Vec<String>,
}

/// Kind of a memory region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RegionKind {
    /// Non-volatile, holds code and constants.
    Flash,
    /// RAM.
    Ram,
}

impl RegionKind {
    /// Name as written in board files.
    pub fn name(self) -> &'static str {
        REGION_KINDS
            .iter()
            .find(|(_, k)| *k == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }
}

/// A memory region of the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemoryRegion {
    /// Name.
    pub name: String,
    /// Flash or RAM.
    pub kind: RegionKind,
    /// Start address.
    pub start: u64,
    /// Size in bytes.
    pub size: u64,
    /// Attributes (tightly-coupled, dma, xip, emulated).
    pub attributes: Vec<String>,
    /// The region this one is another view of (same memory, other addresses).
    pub alias_of: Option<String>,
}

/// Where the model's memory goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Placement {
    /// RAM regions of the arena, in order of preference.
    pub arena: Vec<String>,
    /// RAM region of the stack.
    pub stack: String,
    /// Stack bytes.
    pub stack_size: u64,
    /// Flash regions of the weights, in order of preference; the first
    /// holds the code too ([`Placement::code_region`]).
    pub weights: Vec<String>,
}

impl Placement {
    /// The flash region of the code: the first weights region.
    pub fn code_region(&self) -> &str {
        self.weights.first().map(String::as_str).unwrap_or("")
    }
}

/// Size budget of the board.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Flash bytes.
    pub flash_bytes: Option<u64>,
    /// RAM bytes.
    pub ram_bytes: Option<u64>,
}

/// How firmware runs on the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Runner {
    /// QEMU system emulation.
    Qemu {
        /// QEMU binary.
        binary: String,
        /// Machine.
        machine: String,
        /// CPU, if not the machine default.
        cpu: Option<String>,
        /// Extra arguments.
        extra_args: Vec<String>,
    },
    /// A debug probe through probe-rs.
    ProbeRs {
        /// probe-rs chip name.
        chip: String,
    },
    /// A serial port through espflash.
    Espflash {
        /// espflash chip.
        chip: String,
    },
}

impl Runner {
    /// Short name for tables.
    pub fn label(&self) -> String {
        match self {
            Runner::Qemu { machine, .. } => format!("qemu ({machine})"),
            Runner::ProbeRs { chip } => format!("probe-rs ({chip})"),
            Runner::Espflash { chip } => format!("espflash ({chip})"),
        }
    }
}

/// Channel the firmware reports over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportChannel {
    /// ARM/RISC-V semihosting (QEMU).
    Semihosting,
    /// SEGGER RTT through the debug probe.
    Rtt,
    /// The board's UART.
    Uart,
}

/// Chip identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chip {
    /// Chip name.
    pub name: String,
    /// Vendor.
    pub vendor: String,
    /// Family.
    pub family: String,
    /// Part number.
    pub part: String,
}

/// A validated, resolved board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Board {
    /// Board name.
    pub name: String,
    /// Aliases.
    pub aliases: Vec<String>,
    /// Description.
    pub description: String,
    /// The chip.
    pub chip: Chip,
    /// CPU core.
    pub core: Core,
    /// FPU.
    pub fpu: Fpu,
    /// SIMD extensions.
    pub simd: Vec<Simd>,
    /// Core clock in Hz.
    pub clock_hz: u64,
    /// Rust target (derived from core, FPU and SIMD).
    pub target: RustTarget,
    /// Memory regions.
    pub memory: Vec<MemoryRegion>,
    /// Placement.
    pub placement: Placement,
    /// Budget limits.
    pub limits: Limits,
    /// How to run.
    pub runner: Runner,
    /// Report channel.
    pub report: ReportChannel,
    /// File it came from (`None` for built-in boards).
    pub source: Option<PathBuf>,
}

impl Board {
    /// A region by name.
    pub fn region(&self, name: &str) -> Option<&MemoryRegion> {
        self.memory.iter().find(|r| r.name == name)
    }
    /// Total flash bytes (aliases not counted twice).
    pub fn total_flash(&self) -> u64 {
        self.memory
            .iter()
            .filter(|r| r.kind == RegionKind::Flash && r.alias_of.is_none())
            .map(|r| r.size)
            .sum()
    }
    /// Total RAM bytes (aliases not counted twice).
    pub fn total_ram(&self) -> u64 {
        self.memory
            .iter()
            .filter(|r| r.kind == RegionKind::Ram && r.alias_of.is_none())
            .map(|r| r.size)
            .sum()
    }
    /// The region of `kind` holding `addr`, resolved through aliases to the
    /// region whose memory it is, with the address in that region.
    pub fn locate(&self, addr: u64, kind: RegionKind) -> Option<(&MemoryRegion, u64)> {
        let r = self
            .memory
            .iter()
            .find(|r| r.kind == kind && addr >= r.start && addr < r.start + r.size)?;
        match &r.alias_of {
            None => Some((r, addr)),
            Some(t) => {
                let t = self.region(t)?;
                Some((t, t.start + (addr - r.start)))
            }
        }
    }
    /// True when the board runs under QEMU.
    pub fn is_qemu(&self) -> bool {
        matches!(self.runner, Runner::Qemu { .. })
    }
}

/// FPU names as written in board files.
pub(crate) const FPUS: &[(&str, Fpu)] = &[
    ("none", Fpu::None),
    ("single", Fpu::Single),
    ("double", Fpu::Double),
];

/// SIMD extension names as written in board files (`helium` is `mve`).
pub(crate) const SIMDS: &[(&str, Simd)] = &[
    ("dsp", Simd::Dsp),
    ("mve", Simd::Mve),
    ("helium", Simd::Mve),
    ("rvp", Simd::Rvp),
    ("rvv", Simd::Rvv),
];

/// Region kinds as written in board files.
pub(crate) const REGION_KINDS: &[(&str, RegionKind)] =
    &[("flash", RegionKind::Flash), ("ram", RegionKind::Ram)];

/// Report channels as written in board files.
pub(crate) const REPORT_CHANNELS: &[(&str, ReportChannel)] = &[
    ("semihosting", ReportChannel::Semihosting),
    ("rtt", ReportChannel::Rtt),
    ("uart", ReportChannel::Uart),
];

/// Region attributes zant knows.
pub(crate) const REGION_ATTRIBUTES: &[&str] = &["tightly-coupled", "dma", "xip", "emulated"];

/// The value of `name` in a vocabulary table.
pub(crate) fn lookup<T: Copy>(table: &[(&str, T)], name: &str) -> Option<T> {
    table.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

/// The names of a vocabulary table, one per value (aliases left out).
pub(crate) fn names<T: PartialEq>(table: &[(&'static str, T)]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for (i, (n, v)) in table.iter().enumerate() {
        if !table[..i].iter().any(|(_, w)| w == v) {
            out.push(n);
        }
    }
    out
}

/// `a, b or c`.
pub(crate) fn listed<S: AsRef<str>>(names: &[S]) -> String {
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.as_ref().to_string(),
        Some((last, rest)) => {
            let rest: Vec<&str> = rest.iter().map(AsRef::as_ref).collect();
            format!("{} or {}", rest.join(", "), last.as_ref())
        }
    }
}
