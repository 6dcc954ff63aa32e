//! zant-boards: boards as data.
//!
//! A board TOML file names its chip (core, FPU, SIMD, clock, memory regions;
//! shared chips live in `defs/chips/`), says where the arena, stack and
//! weights go, and how firmware runs (QEMU, probe-rs, espflash). This crate
//! parses such files with serde, validates them once reporting every problem
//! with file, key and line (and "did you mean" for misspelt keys), and
//! resolves them into a [`Board`]: from the core and FPU follow the Rust
//! target triple, `target-cpu` and target features. It knows nothing about
//! ONNX.

#![warn(missing_docs)]

pub mod raw;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use raw::{RawBoard, RawChip, RawChipRef, RawRegion};

/// Built-in board and chip files, embedded so the binary works anywhere.
static BUILTIN_BOARDS: &[(&str, &str)] = &[
    (
        "qemu-mps2-an385",
        include_str!("../defs/qemu-mps2-an385.toml"),
    ),
    (
        "qemu-mps2-an386",
        include_str!("../defs/qemu-mps2-an386.toml"),
    ),
    (
        "qemu-mps2-an500",
        include_str!("../defs/qemu-mps2-an500.toml"),
    ),
    (
        "qemu-mps3-an547",
        include_str!("../defs/qemu-mps3-an547.toml"),
    ),
    (
        "qemu-lm3s6965evb",
        include_str!("../defs/qemu-lm3s6965evb.toml"),
    ),
    (
        "qemu-netduinoplus2",
        include_str!("../defs/qemu-netduinoplus2.toml"),
    ),
    (
        "qemu-riscv32-virt",
        include_str!("../defs/qemu-riscv32-virt.toml"),
    ),
    ("nucleo-h743zi", include_str!("../defs/nucleo-h743zi.toml")),
    ("nucleo-f746zg", include_str!("../defs/nucleo-f746zg.toml")),
    ("nucleo-l4r5zi", include_str!("../defs/nucleo-l4r5zi.toml")),
    (
        "blackpill-f411ce",
        include_str!("../defs/blackpill-f411ce.toml"),
    ),
    ("nrf52840-dk", include_str!("../defs/nrf52840-dk.toml")),
    ("rp-pico", include_str!("../defs/rp-pico.toml")),
    ("rp-pico2", include_str!("../defs/rp-pico2.toml")),
    (
        "esp32-c3-devkit",
        include_str!("../defs/esp32-c3-devkit.toml"),
    ),
    (
        "esp32-c6-devkit",
        include_str!("../defs/esp32-c6-devkit.toml"),
    ),
];

static BUILTIN_CHIPS: &[(&str, &str)] = &[
    ("mps2-an385", include_str!("../defs/chips/mps2-an385.toml")),
    ("mps2-an386", include_str!("../defs/chips/mps2-an386.toml")),
    ("mps2-an500", include_str!("../defs/chips/mps2-an500.toml")),
    ("mps3-an547", include_str!("../defs/chips/mps3-an547.toml")),
    ("lm3s6965", include_str!("../defs/chips/lm3s6965.toml")),
    (
        "stm32f405rg",
        include_str!("../defs/chips/stm32f405rg.toml"),
    ),
    (
        "riscv32-virt",
        include_str!("../defs/chips/riscv32-virt.toml"),
    ),
    (
        "stm32h743zi",
        include_str!("../defs/chips/stm32h743zi.toml"),
    ),
    (
        "stm32f746zg",
        include_str!("../defs/chips/stm32f746zg.toml"),
    ),
    (
        "stm32l4r5zi",
        include_str!("../defs/chips/stm32l4r5zi.toml"),
    ),
    (
        "stm32f411ce",
        include_str!("../defs/chips/stm32f411ce.toml"),
    ),
    ("nrf52840", include_str!("../defs/chips/nrf52840.toml")),
    ("rp2040", include_str!("../defs/chips/rp2040.toml")),
    ("rp2350", include_str!("../defs/chips/rp2350.toml")),
    ("esp32c3", include_str!("../defs/chips/esp32c3.toml")),
    ("esp32c6", include_str!("../defs/chips/esp32c6.toml")),
];

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

const CORES: &[(&str, Core)] = &[
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
        match self {
            RegionKind::Flash => "flash",
            RegionKind::Ram => "ram",
        }
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
    /// Flash region of weights and code.
    pub weights: String,
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

/// The Rust target of a core, FPU and SIMD set; `None` when Rust has none.
pub fn rust_target(core: Core, fpu: Fpu, simd: &[Simd]) -> Option<RustTarget> {
    let hf = fpu != Fpu::None;
    let (triple, cpu, mut features): (&str, Option<&str>, Vec<String>) = match core {
        Core::CortexM0Plus => ("thumbv6m-none-eabi", Some("cortex-m0plus"), vec![]),
        Core::CortexM3 => ("thumbv7m-none-eabi", Some("cortex-m3"), vec![]),
        Core::CortexM4 if hf => ("thumbv7em-none-eabihf", Some("cortex-m4"), vec![]),
        Core::CortexM4 => (
            "thumbv7em-none-eabi",
            Some("cortex-m4"),
            vec!["-fpregs".into()],
        ),
        Core::CortexM7 if fpu == Fpu::Double => {
            ("thumbv7em-none-eabihf", Some("cortex-m7"), vec![])
        }
        Core::CortexM7 if hf => (
            "thumbv7em-none-eabihf",
            Some("cortex-m7"),
            vec!["-fp64".into()],
        ),
        Core::CortexM7 => (
            "thumbv7em-none-eabi",
            Some("cortex-m7"),
            vec!["-fpregs".into()],
        ),
        Core::CortexM33 if hf => ("thumbv8m.main-none-eabihf", Some("cortex-m33"), vec![]),
        Core::CortexM33 => (
            "thumbv8m.main-none-eabi",
            Some("cortex-m33"),
            vec!["-fpregs".into()],
        ),
        Core::CortexM55 if hf => ("thumbv8m.main-none-eabihf", Some("cortex-m55"), vec![]),
        Core::CortexM55 => ("thumbv8m.main-none-eabi", Some("cortex-m55"), vec![]),
        Core::Rv32imc => ("riscv32imc-unknown-none-elf", None, vec![]),
        Core::Rv32imac => ("riscv32imac-unknown-none-elf", None, vec![]),
    };
    if core == Core::CortexM55 && !simd.contains(&Simd::Mve) {
        features.push("-mve".into());
    }
    Some(RustTarget {
        triple: triple.into(),
        cpu: cpu.map(str::to_string),
        features,
    })
}

/// One problem found in a board or chip file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// File (or `built-in:<name>`).
    pub file: String,
    /// Dotted key path (`placement.arena`).
    pub key: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// What to do (did you mean …).
    pub help: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, ":{l}:{c}")?;
        }
        if !self.key.is_empty() {
            write!(f, ": `{}`", self.key)?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(h) = &self.help {
            write!(f, "\n    help: {h}")?;
        }
        Ok(())
    }
}

/// Errors of board resolution.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    /// No built-in board or file of that name.
    #[error("unknown board `{name}`{}\n  help: `zant boards` lists the built-in boards; a path to your own board TOML works too", suggest(.suggestions))]
    NotFound {
        /// What was asked for.
        name: String,
        /// Close built-in names.
        suggestions: Vec<String>,
    },
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The file is invalid; every problem is listed.
    #[error("{} problem{} in the board file:\n{}", .0.len(), if .0.len() == 1 { "" } else { "s" }, .0.iter().map(|d| format!("  {d}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Diagnostic>),
}

fn suggest(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(
            " (did you mean {}?)",
            s.iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        )
    }
}

/// JSON Schema of board files (with the chip table), for editors.
pub fn board_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(RawBoard)).expect("schema serializes")
}

/// JSON Schema of chip files.
pub fn chip_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(RawChip)).expect("schema serializes")
}

struct Source<'a> {
    file: String,
    text: &'a str,
    doc: Option<toml_edit::Document<String>>,
}

impl Source<'_> {
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
        (line, col)
    }

    /// Line and column of a dotted key path (`run.qemu.machine`, `memory.2.size`).
    fn span_of(&self, path: &str) -> Option<(usize, usize)> {
        let doc = self.doc.as_ref()?;
        let parts: Vec<&str> = path.split('.').filter(|p| !p.is_empty()).collect();
        span_in_table(doc.as_table(), &parts).map(|s| self.line_col(s.start))
    }

    fn diag(&self, key: &str, message: impl Into<String>, help: Option<String>) -> Diagnostic {
        let lc = self.span_of(key);
        Diagnostic {
            file: self.file.clone(),
            key: key.to_string(),
            line: lc.map(|l| l.0),
            column: lc.map(|l| l.1),
            message: message.into(),
            help,
        }
    }
}

/// Close matches of `word` among `known`.
fn close_matches(word: &str, known: &[String]) -> Vec<String> {
    let mut v: Vec<(f64, &String)> = known
        .iter()
        .map(|k| (strsim::jaro_winkler(word, k), k))
        .filter(|(s, _)| *s > 0.8)
        .collect();
    v.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
    v.into_iter().take(2).map(|(_, k)| k.clone()).collect()
}

type Span = std::ops::Range<usize>;

fn span_in_table(t: &dyn toml_edit::TableLike, parts: &[&str]) -> Option<Span> {
    let (first, rest) = parts.split_first()?;
    let (k, v) = t.get_key_value(first)?;
    if rest.is_empty() {
        return k.span();
    }
    span_in_item(v, rest).or_else(|| k.span())
}

fn span_in_item(item: &toml_edit::Item, parts: &[&str]) -> Option<Span> {
    let (first, rest) = parts.split_first()?;
    if let Ok(i) = first.parse::<usize>() {
        return match item {
            toml_edit::Item::ArrayOfTables(a) => {
                let t = a.get(i)?;
                if rest.is_empty() {
                    t.span()
                } else {
                    span_in_table(t, rest).or_else(|| t.span())
                }
            }
            toml_edit::Item::Value(toml_edit::Value::Array(a)) => a.get(i)?.span(),
            _ => None,
        };
    }
    span_in_table(item.as_table_like()?, parts)
}

fn resolve_ref<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or("");
        if let Some(d) = root.get("$defs").and_then(|d| d.get(name)) {
            return resolve_ref(d, root);
        }
    }
    schema
}

/// Known keys of an object schema (merging anyOf/oneOf alternatives).
fn object_props<'a>(schema: &'a Value, root: &'a Value) -> Option<Vec<(&'a String, &'a Value)>> {
    let s = resolve_ref(schema, root);
    if let Some(p) = s.get("properties").and_then(Value::as_object) {
        return Some(p.iter().collect());
    }
    for k in ["anyOf", "oneOf"] {
        if let Some(alts) = s.get(k).and_then(Value::as_array) {
            for a in alts {
                if let Some(p) = object_props(a, root) {
                    return Some(p);
                }
            }
        }
    }
    None
}

fn array_items<'a>(schema: &'a Value, root: &'a Value) -> Option<&'a Value> {
    let s = resolve_ref(schema, root);
    if let Some(i) = s.get("items") {
        return Some(i);
    }
    for k in ["anyOf", "oneOf"] {
        if let Some(alts) = s.get(k).and_then(Value::as_array) {
            for a in alts {
                if let Some(i) = array_items(a, root) {
                    return Some(i);
                }
            }
        }
    }
    None
}

/// Reports every key the schema does not know, with a did-you-mean.
fn unknown_keys(
    src: &Source<'_>,
    item: &toml_edit::Item,
    schema: &Value,
    root: &Value,
    path: &str,
    out: &mut Vec<Diagnostic>,
) {
    match item {
        toml_edit::Item::Table(_) | toml_edit::Item::Value(toml_edit::Value::InlineTable(_)) => {
            let Some(props) = object_props(schema, root) else {
                return;
            };
            let known: Vec<String> = props.iter().map(|(k, _)| (*k).clone()).collect();
            let table = item.as_table_like().expect("a table");
            for (k, v) in table.iter() {
                let p = if path.is_empty() {
                    k.to_string()
                } else {
                    format!("{path}.{k}")
                };
                match props.iter().find(|(name, _)| name.as_str() == k) {
                    Some((_, sub)) => unknown_keys(src, v, sub, root, &p, out),
                    None => {
                        let m = close_matches(k, &known);
                        let help = if m.is_empty() {
                            Some(format!("known keys here: {}", known.join(", ")))
                        } else {
                            Some(format!("did you mean `{}`?", m[0]))
                        };
                        out.push(src.diag(&p, format!("unknown key `{k}`"), help));
                    }
                }
            }
        }
        toml_edit::Item::ArrayOfTables(a) => {
            if let Some(items) = array_items(schema, root) {
                for (i, t) in a.iter().enumerate() {
                    let it = toml_edit::Item::Table(t.clone());
                    unknown_keys(src, &it, items, root, &format!("{path}.{i}"), out);
                }
            }
        }
        _ => {}
    }
}

fn parse_source<'a>(file: String, text: &'a str, schema: &Value) -> (Source<'a>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let doc = match toml_edit::Document::parse(text.to_string()) {
        Ok(d) => Some(d),
        Err(e) => {
            let (line, column) = e
                .span()
                .map(|s| {
                    let before = &text[..s.start.min(text.len())];
                    (
                        before.matches('\n').count() + 1,
                        before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1,
                    )
                })
                .unzip();
            diags.push(Diagnostic {
                file: file.clone(),
                key: String::new(),
                line,
                column,
                message: format!("not valid TOML: {}", e.message()),
                help: None,
            });
            None
        }
    };
    let src = Source { file, text, doc };
    if let Some(d) = &src.doc {
        unknown_keys(&src, d.as_item(), schema, schema, "", &mut diags);
    }
    (src, diags)
}

fn serde_diag(src: &Source<'_>, e: toml::de::Error) -> Diagnostic {
    let lc = e.span().map(|s| src.line_col(s.start));
    Diagnostic {
        file: src.file.clone(),
        key: String::new(),
        line: lc.map(|l| l.0),
        column: lc.map(|l| l.1),
        message: e.message().to_string(),
        help: None,
    }
}

/// Names of the built-in boards.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN_BOARDS.iter().map(|(n, _)| *n).collect()
}

/// Every built-in board, resolved.
pub fn builtin_boards() -> Vec<Board> {
    BUILTIN_BOARDS
        .iter()
        .map(|(n, _)| resolve(n).unwrap_or_else(|e| panic!("built-in board {n} is invalid: {e}")))
        .collect()
}

/// Resolves a built-in board name, an alias, or a path to a board TOML file.
pub fn resolve(name_or_path: &str) -> Result<Board, BoardError> {
    if let Some((n, text)) = BUILTIN_BOARDS.iter().find(|(n, _)| *n == name_or_path) {
        return load_text(text, &format!("built-in:{n}"), None);
    }
    for (n, text) in BUILTIN_BOARDS {
        if let Ok(raw) = toml::from_str::<RawBoard>(text) {
            if raw.aliases.iter().any(|a| a == name_or_path) {
                return load_text(text, &format!("built-in:{n}"), None);
            }
        }
    }
    let p = Path::new(name_or_path);
    if p.extension().is_some_and(|e| e == "toml") || p.exists() {
        return check_file(p);
    }
    let mut known: Vec<String> = builtin_names().iter().map(|s| s.to_string()).collect();
    for (_, text) in BUILTIN_BOARDS {
        if let Ok(raw) = toml::from_str::<RawBoard>(text) {
            known.extend(raw.aliases);
        }
    }
    Err(BoardError::NotFound {
        name: name_or_path.to_string(),
        suggestions: close_matches(name_or_path, &known),
    })
}

/// Reads and validates a user's board file.
pub fn check_file(path: &Path) -> Result<Board, BoardError> {
    let text = std::fs::read_to_string(path).map_err(|source| BoardError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    load_text(&text, &path.display().to_string(), Some(path))
}

fn load_chip(
    name: &str,
    base: Option<&Path>,
    board_src: &Source<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<RawChip> {
    let schema = chip_schema();
    let (file, text) = if let Some((n, text)) = BUILTIN_CHIPS.iter().find(|(n, _)| *n == name) {
        (format!("built-in:chips/{n}"), text.to_string())
    } else {
        let p = base
            .and_then(Path::parent)
            .unwrap_or(Path::new("."))
            .join(name);
        match std::fs::read_to_string(&p) {
            Ok(t) => (p.display().to_string(), t),
            Err(_) => {
                let known: Vec<String> = BUILTIN_CHIPS.iter().map(|(n, _)| n.to_string()).collect();
                let m = close_matches(name, &known);
                let help = if m.is_empty() {
                    format!("built-in chips: {}; or give a path to a chip file, or an inline [chip] table", known.join(", "))
                } else {
                    format!("did you mean `{}`?", m[0])
                };
                diags.push(board_src.diag("chip", format!("unknown chip `{name}`"), Some(help)));
                return None;
            }
        }
    };
    let (src, mut d) = parse_source(file, &text, &schema);
    let chip = match toml::from_str::<RawChip>(&text) {
        Ok(c) => Some(c),
        Err(e) => {
            d.push(serde_diag(&src, e));
            None
        }
    };
    diags.extend(d);
    chip
}

fn load_text(text: &str, file: &str, path: Option<&Path>) -> Result<Board, BoardError> {
    let schema = board_schema();
    let (src, mut diags) = parse_source(file.to_string(), text, &schema);
    let raw = match toml::from_str::<RawBoard>(text) {
        Ok(r) => r,
        Err(e) => {
            diags.push(serde_diag(&src, e));
            return Err(BoardError::Invalid(diags));
        }
    };
    if raw.schema_version != 1 {
        diags.push(src.diag(
            "schema-version",
            format!("schema-version {} is not supported", raw.schema_version),
            Some("this zant reads schema-version = 1".into()),
        ));
    }
    let chip = match &raw.chip {
        RawChipRef::Name(n) => load_chip(n, path, &src, &mut diags),
        RawChipRef::Inline(c) => Some((**c).clone()),
    };
    let Some(chip) = chip else {
        return Err(BoardError::Invalid(diags));
    };
    let board = validate(&raw, &chip, &src, path, &mut diags);
    match board {
        Some(b) if diags.is_empty() => Ok(b),
        _ => Err(BoardError::Invalid(diags)),
    }
}

fn region(
    r: &RawRegion,
    key: &str,
    src: &Source<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<MemoryRegion> {
    let kind = match r.kind.as_str() {
        "flash" => RegionKind::Flash,
        "ram" => RegionKind::Ram,
        other => {
            diags.push(src.diag(
                &format!("{key}.kind"),
                format!("unknown region kind `{other}`"),
                Some("use `flash` or `ram`".into()),
            ));
            return None;
        }
    };
    if r.size == 0 {
        diags.push(src.diag(
            &format!("{key}.size"),
            format!("region `{}` has size 0", r.name),
            None,
        ));
    }
    if r.start.checked_add(r.size).is_none_or(|end| end > 1 << 32) {
        diags.push(src.diag(
            &format!("{key}.size"),
            format!("region `{}` ends beyond the 32-bit address space", r.name),
            None,
        ));
    }
    const ATTRS: [&str; 4] = ["tightly-coupled", "dma", "xip", "emulated"];
    for a in &r.attributes {
        if !ATTRS.contains(&a.as_str()) {
            let known: Vec<String> = ATTRS.iter().map(|s| s.to_string()).collect();
            let m = close_matches(a, &known);
            diags.push(
                src.diag(
                    &format!("{key}.attributes"),
                    format!("unknown attribute `{a}`"),
                    Some(
                        m.first()
                            .map(|m| format!("did you mean `{m}`?"))
                            .unwrap_or_else(|| format!("known: {}", ATTRS.join(", "))),
                    ),
                ),
            );
        }
    }
    Some(MemoryRegion {
        name: r.name.clone(),
        kind,
        start: r.start,
        size: r.size,
        attributes: r.attributes.clone(),
        alias_of: r.alias_of.clone(),
    })
}

fn validate(
    raw: &RawBoard,
    chip: &RawChip,
    src: &Source<'_>,
    path: Option<&Path>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Board> {
    let core = match CORES.iter().find(|(n, _)| *n == chip.core) {
        Some((_, c)) => Some(*c),
        None => {
            let known: Vec<String> = CORES.iter().map(|(n, _)| n.to_string()).collect();
            let m = close_matches(&chip.core, &known);
            diags.push(
                src.diag(
                    "chip",
                    format!("core `{}` has no Rust target zant knows", chip.core),
                    Some(
                        m.first()
                            .map(|m| format!("did you mean `{m}`?"))
                            .unwrap_or_else(|| format!("supported cores: {}", known.join(", "))),
                    ),
                ),
            );
            None
        }
    };
    let fpu = match chip.fpu.as_str() {
        "none" => Fpu::None,
        "single" => Fpu::Single,
        "double" => Fpu::Double,
        other => {
            diags.push(src.diag(
                "chip",
                format!("unknown fpu `{other}`"),
                Some("use none, single or double".into()),
            ));
            Fpu::None
        }
    };
    let mut simd = Vec::new();
    for s in &chip.simd {
        match s.as_str() {
            "dsp" => simd.push(Simd::Dsp),
            "mve" | "helium" => simd.push(Simd::Mve),
            "rvp" => simd.push(Simd::Rvp),
            "rvv" => simd.push(Simd::Rvv),
            other => diags.push(src.diag(
                "chip",
                format!("unknown SIMD extension `{other}`"),
                Some("use dsp, mve, rvp or rvv".into()),
            )),
        }
    }
    if let Some(c) = core {
        if !c.is_arm() && fpu != Fpu::None {
            diags.push(src.diag(
                "chip",
                format!("{c} with an FPU: zant has no Rust target for RISC-V with F/D yet"),
                None,
            ));
        }
        if matches!(c, Core::CortexM0Plus | Core::CortexM3) && fpu != Fpu::None {
            diags.push(src.diag(
                "chip",
                format!("{c} has no FPU"),
                Some("set fpu = \"none\"".into()),
            ));
        }
    }
    // The clock converts cycles to time (latency, the board's report): 0 Hz
    // would divide by zero.
    if raw.clock_hz.unwrap_or(chip.clock_hz) == 0 {
        let key = if raw.clock_hz.is_some() {
            "clock-hz"
        } else if matches!(raw.chip, RawChipRef::Inline(_)) {
            "chip.clock-hz"
        } else {
            "chip"
        };
        diags.push(src.diag(
            key,
            "clock-hz is 0",
            Some("give the core clock in Hz, e.g. clock-hz = 480_000_000".into()),
        ));
    }
    let mut memory = Vec::new();
    for (i, r) in chip.memory.iter().enumerate() {
        let key = if matches!(raw.chip, RawChipRef::Inline(_)) {
            format!("chip.memory.{i}")
        } else {
            "chip".to_string()
        };
        memory.extend(region(r, &key, src, diags));
    }
    for (i, r) in raw.memory.iter().enumerate() {
        memory.extend(region(r, &format!("memory.{i}"), src, diags));
    }
    for i in 0..memory.len() {
        for j in i + 1..memory.len() {
            let (a, b) = (&memory[i], &memory[j]);
            if a.name == b.name {
                diags.push(src.diag(
                    "memory",
                    format!("two regions are named `{}`", a.name),
                    None,
                ));
            }
            if a.start < b.start + b.size && b.start < a.start + a.size {
                diags.push(src.diag(
                    "memory",
                    format!(
                        "regions `{}` (0x{:08x}..0x{:08x}) and `{}` (0x{:08x}..0x{:08x}) overlap",
                        a.name,
                        a.start,
                        a.start + a.size,
                        b.name,
                        b.start,
                        b.start + b.size
                    ),
                    None,
                ));
            }
        }
    }
    let names: Vec<String> = memory.iter().map(|r| r.name.clone()).collect();
    for r in &memory {
        let Some(t) = &r.alias_of else { continue };
        let problem = match memory.iter().find(|m| &m.name == t) {
            None => Some(format!("region `{}` is an alias of `{t}`, which does not exist", r.name)),
            Some(m) if m.alias_of.is_some() => Some(format!(
                "region `{}` is an alias of `{t}`, which is itself an alias; name the region the memory belongs to",
                r.name
            )),
            Some(m) if m.kind != r.kind => Some(format!(
                "region `{}` ({}) is an alias of `{t}` ({}): an alias has its region's kind",
                r.name,
                r.kind.name(),
                m.kind.name()
            )),
            Some(m) if r.size > m.size => Some(format!(
                "region `{}` ({} bytes) is larger than `{t}` ({} bytes), of which it is an alias",
                r.name, r.size, m.size
            )),
            Some(_) => None,
        };
        if let Some(p) = problem {
            let m = close_matches(t, &names);
            diags.push(
                src.diag(
                    "memory",
                    p,
                    m.first()
                        .filter(|m| *m != t)
                        .map(|m| format!("did you mean `{m}`?")),
                ),
            );
        }
    }
    let check_region =
        |key: &str, name: &str, kind: RegionKind, diags: &mut Vec<Diagnostic>| match memory
            .iter()
            .find(|r| r.name == name)
        {
            None => {
                let m = close_matches(name, &names);
                diags.push(
                    src.diag(
                        key,
                        format!("no memory region named `{name}`"),
                        Some(
                            m.first()
                                .map(|m| format!("did you mean `{m}`?"))
                                .unwrap_or_else(|| format!("regions: {}", names.join(", "))),
                        ),
                    ),
                );
            }
            Some(MemoryRegion {
                alias_of: Some(a), ..
            }) => {
                diags.push(src.diag(
                    key,
                    format!(
                        "region `{name}` is an alias of `{a}`; place memory in the region itself"
                    ),
                    Some(format!("use `{a}`")),
                ));
            }
            Some(r) if r.kind != kind => {
                let (is, must) = match kind {
                    RegionKind::Ram => ("flash", "RAM"),
                    RegionKind::Flash => ("RAM", "flash"),
                };
                diags.push(src.diag(
                    key,
                    format!("region `{name}` is {is} but must be {must}"),
                    None,
                ));
            }
            Some(_) => {}
        };
    if raw.placement.arena.is_empty() {
        diags.push(src.diag(
            "placement.arena",
            "the arena needs at least one RAM region",
            None,
        ));
    }
    for a in &raw.placement.arena {
        check_region("placement.arena", a, RegionKind::Ram, diags);
    }
    check_region(
        "placement.stack",
        &raw.placement.stack,
        RegionKind::Ram,
        diags,
    );
    check_region(
        "placement.weights",
        &raw.placement.weights,
        RegionKind::Flash,
        diags,
    );
    if let Some(r) = memory.iter().find(|r| r.name == raw.placement.stack) {
        if raw.placement.stack_size == 0 || raw.placement.stack_size > r.size {
            diags.push(src.diag(
                "placement.stack-size",
                format!(
                    "stack of {} bytes does not fit region `{}` ({} bytes)",
                    raw.placement.stack_size, r.name, r.size
                ),
                None,
            ));
        }
    }
    let report = match raw.report.as_str() {
        "semihosting" => ReportChannel::Semihosting,
        "rtt" => ReportChannel::Rtt,
        "uart" => ReportChannel::Uart,
        other => {
            diags.push(src.diag(
                "report",
                format!("unknown report channel `{other}`"),
                Some("use semihosting, rtt or uart".into()),
            ));
            ReportChannel::Semihosting
        }
    };
    let runners = [
        raw.run.qemu.is_some(),
        raw.run.probe_rs.is_some(),
        raw.run.espflash.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if runners != 1 {
        diags.push(src.diag(
            "run",
            format!(
                "exactly one of run.qemu, run.probe-rs, run.espflash is needed ({runners} given)"
            ),
            None,
        ));
    }
    let runner = if let Some(q) = &raw.run.qemu {
        if !["qemu-system-arm", "qemu-system-riscv32"].contains(&q.binary.as_str()) {
            diags.push(src.diag(
                "run.qemu.binary",
                format!("`{}` is not a QEMU zant can drive", q.binary),
                Some("use qemu-system-arm or qemu-system-riscv32".into()),
            ));
        }
        if report != ReportChannel::Semihosting {
            diags.push(src.diag(
                "report",
                "QEMU boards report over semihosting",
                Some("set report = \"semihosting\"".into()),
            ));
        }
        Runner::Qemu {
            binary: q.binary.clone(),
            machine: q.machine.clone(),
            cpu: q.cpu.clone(),
            extra_args: q.extra_args.clone(),
        }
    } else if let Some(p) = &raw.run.probe_rs {
        Runner::ProbeRs {
            chip: p.chip.clone(),
        }
    } else if let Some(e) = &raw.run.espflash {
        Runner::Espflash {
            chip: e.chip.clone(),
        }
    } else {
        return None;
    };
    let core = core?;
    let target = rust_target(core, fpu, &simd)?;
    Some(Board {
        name: raw.name.clone(),
        aliases: raw.aliases.clone(),
        description: raw.description.clone().unwrap_or_default(),
        chip: Chip {
            name: chip
                .name
                .clone()
                .unwrap_or_else(|| chip.part.to_lowercase()),
            vendor: chip.vendor.clone(),
            family: chip.family.clone(),
            part: chip.part.clone(),
        },
        core,
        fpu,
        simd,
        clock_hz: raw.clock_hz.unwrap_or(chip.clock_hz),
        target,
        memory,
        placement: Placement {
            arena: raw.placement.arena.clone(),
            stack: raw.placement.stack.clone(),
            stack_size: raw.placement.stack_size,
            weights: raw.placement.weights.clone(),
        },
        limits: raw
            .limits
            .as_ref()
            .map(|l| Limits {
                flash_bytes: l.flash_bytes,
                ram_bytes: l.ram_bytes,
            })
            .unwrap_or_default(),
        runner,
        report,
        source: path.map(Path::to_path_buf),
    })
}

#[cfg(test)]
mod tests;
