//! zant-firmware: a firmware project around a model crate, for a board;
//! cross-compiled with cargo; its footprint measured from the real ELF.
//!
//! The templates (`templates/` in the repository, embedded here) are
//! rendered with minijinja in strict mode into an ordinary Cargo project:
//! `Cargo.toml`, `.cargo/config.toml` (target, runner, rustflags),
//! `memory.x` from the board's regions (with `ASSERT`s that fail the link
//! readably when the model does not fit), `build.rs`, `src/main.rs` and the
//! model crate under `model/`. The templates see only the [`Board`] and the
//! model crate's surface ([`ModelSurface`], read from `zant-model.json`).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod exit;
pub mod lockfile;
pub mod size;

use std::path::{Path, PathBuf};
use std::process::Command;

use minijinja::{context, Environment, UndefinedBehavior};
use zant_boards::{Board, Core, RegionKind, ReportChannel};

pub use size::{measure, Footprint, RegionUse, SymbolSize};

pub use zant_common::outdir::MARKER;
use zant_common::outdir::{Kind, OutDirError};
/// The model crate's surface, as written by `zant compile` in
/// `zant-model.json` (one type with codegen, which writes it).
pub use zant_common::surface::{IoSpec, Manifest as ModelSurface};

static TEMPLATES: &[(&str, &str)] = &[
    (
        "common/Cargo.toml.j2",
        include_str!("../../templates/common/Cargo.toml.j2"),
    ),
    (
        "common/config.toml.j2",
        include_str!("../../templates/common/config.toml.j2"),
    ),
    (
        "common/model_io.rs.j2",
        include_str!("../../templates/common/model_io.rs.j2"),
    ),
    (
        "common/run_model.rs.j2",
        include_str!("../../templates/common/run_model.rs.j2"),
    ),
    (
        "common/dataset_main.rs.j2",
        include_str!("../../templates/common/dataset_main.rs.j2"),
    ),
    (
        "common/dataset_frames_main.rs.j2",
        include_str!("../../templates/common/dataset_frames_main.rs.j2"),
    ),
    (
        "cortex-m/memory.x.j2",
        include_str!("../../templates/cortex-m/memory.x.j2"),
    ),
    (
        "cortex-m/build.rs.j2",
        include_str!("../../templates/cortex-m/build.rs.j2"),
    ),
    (
        "cortex-m/main.rs.j2",
        include_str!("../../templates/cortex-m/main.rs.j2"),
    ),
    (
        "riscv/memory.x.j2",
        include_str!("../../templates/riscv/memory.x.j2"),
    ),
    (
        "riscv/build.rs.j2",
        include_str!("../../templates/riscv/build.rs.j2"),
    ),
    (
        "riscv/main.rs.j2",
        include_str!("../../templates/riscv/main.rs.j2"),
    ),
    (
        "esp/zant.x.j2",
        include_str!("../../templates/esp/zant.x.j2"),
    ),
    (
        "esp/build.rs.j2",
        include_str!("../../templates/esp/build.rs.j2"),
    ),
    (
        "esp/main.rs.j2",
        include_str!("../../templates/esp/main.rs.j2"),
    ),
];

/// The firmware side of the data-set framing, copied as it is into a
/// data-set build that reads frames (`src/frame.rs`).
static FRAME_RS: &str = include_str!("../../templates/common/frame.rs");

/// Errors of rendering and building.
#[derive(Debug, thiserror::Error)]
pub enum FirmwareError {
    /// The output directory holds files zant did not write.
    #[error(transparent)]
    NotOurs(OutDirError),
    /// The board needs a runtime zant has no template for.
    #[error("board `{board}`: {what}")]
    UnsupportedBoard {
        /// Board.
        board: String,
        /// What is missing.
        what: String,
    },
    /// The model crate manifest is missing or invalid.
    #[error("cannot read the model crate's manifest {}: {source}", .path.display())]
    Manifest {
        /// Path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: zant_common::surface::ManifestCause,
    },
    /// The input tensors given do not match the model crate's manifest.
    #[error("cannot read the model crate's manifest {}: {detail}", .path.display())]
    Inputs {
        /// Path of the manifest.
        path: PathBuf,
        /// Which input does not match, and how.
        detail: String,
    },
    /// A template failed to render (a bug in zant's templates).
    #[error("internal error rendering {template}: {source:#}")]
    Template {
        /// Template.
        template: String,
        /// Cause.
        #[source]
        source: minijinja::Error,
    },
    /// A Rust target is missing and rustup could not install it.
    #[error("the Rust target {triple} is not installed and could not be installed: {stderr}")]
    Target {
        /// Triple.
        triple: String,
        /// What rustup printed on stderr.
        stderr: String,
    },
    /// rustup could not be started to install a missing Rust target.
    #[error("the Rust target {triple} is not installed and could not be installed: {source}")]
    Rustup {
        /// Triple.
        triple: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The model does not fit the board: the link failed on a region.
    #[error("the firmware does not fit board `{board}`: {detail}")]
    DoesNotFit {
        /// Board.
        board: String,
        /// Region and bytes, from the linker.
        detail: String,
    },
    /// cargo failed.
    #[error("cargo build failed for board `{board}`:\n{stderr}")]
    Build {
        /// Board.
        board: String,
        /// Project dir.
        dir: String,
        /// The relevant part of cargo's output.
        stderr: String,
    },
    /// I/O.
    #[error("{path}: {source}")]
    Io {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The ELF was built for another architecture than the board's core.
    #[error("{} is {found} ELF, but board `{board}` has a {core} core: expected {expected} ELF", .path.display())]
    WrongMachine {
        /// The ELF.
        path: PathBuf,
        /// What the ELF is (`an x86-64 little-endian`).
        found: String,
        /// Board.
        board: String,
        /// The board's core.
        core: String,
        /// What it should be (`a 32-bit ARM little-endian`).
        expected: String,
    },
    /// Loadable sections lie outside every memory region of the board.
    #[error("{}: {} section{} outside every memory region of board `{board}`:\n{}\n  expected within: {regions}", .path.display(), .sections.len(), if .sections.len() == 1 { " lies" } else { "s lie" }, .sections.iter().map(|s| format!("    {s}")).collect::<Vec<_>>().join("\n"))]
    OutsideRegions {
        /// The ELF.
        path: PathBuf,
        /// Board.
        board: String,
        /// `name at 0x…..0x… (N B, flash/RAM)` per section.
        sections: Vec<String>,
        /// The board's regions, `NAME 0x…..0x… (kind)`.
        regions: String,
    },
    /// The ELF could not be read.
    #[error("cannot read ELF {}: {source}", .path.display())]
    ReadElf {
        /// Path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The ELF could not be parsed.
    #[error("cannot read ELF {}: {source}", .path.display())]
    Elf {
        /// Path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: zant_common::elf::ElfError,
    },
}

impl FirmwareError {
    /// What to do about the error, kept apart from its message (`None`
    /// when zant has no advice for it).
    pub fn help(&self) -> Option<String> {
        match self {
            FirmwareError::NotOurs(e) => Some(e.help()),
            FirmwareError::Target { triple, .. } => Some(format!("run `rustup target add {triple}`")),
            FirmwareError::Rustup { triple, .. } => Some(format!("run `rustup target add {triple}`")),
            FirmwareError::Build { dir, .. } => Some(format!("the project is in {dir}; run `cargo build --release` there to see everything")),
            FirmwareError::WrongMachine { board, .. } => Some(format!("measure a firmware built for this board (`zant build --board {board} …`), or pass the board it was built for with --board")),
            FirmwareError::OutsideRegions { .. } => Some("was the ELF linked for another board? Measure it with the board it was built for".into()),
            _ => None,
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FirmwareError + '_ {
    move |source| FirmwareError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The runtime family of a board's firmware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// cortex-m-rt.
    CortexM,
    /// riscv-rt.
    Riscv,
    /// esp-hal (its own start-up and linker scripts; boots through the ESP-IDF
    /// second-stage boot loader).
    Esp,
}

/// The ESP32 chips zant's esp-hal template supports (esp-hal feature names)
/// and the CPU clocks (MHz) esp-hal can set on them.
const ESP_CHIPS: &[(&str, &[u64])] = &[("esp32c3", &[80, 160]), ("esp32c6", &[80, 160])];

/// Checks that zant can make firmware for the board, and which runtime.
pub fn runtime(board: &Board) -> Result<Runtime, FirmwareError> {
    let unsupported = |what: String| FirmwareError::UnsupportedBoard {
        board: board.name.clone(),
        what,
    };
    if let zant_boards::Runner::Espflash { chip } = &board.runner {
        check_esp(board, chip).map_err(unsupported)?;
        return Ok(Runtime::Esp);
    }
    if board.chip.family.starts_with("ESP32") {
        return Err(unsupported(
            "ESP32 boards run through espflash: give the board a [run.espflash] table".into(),
        ));
    }
    if board.report == ReportChannel::Uart {
        return Err(unsupported(
            "reporting over a UART is supported on ESP32 boards (esp-hal); on this board use semihosting or rtt".into(),
        ));
    }
    Ok(if board.core.is_arm() {
        Runtime::CortexM
    } else {
        Runtime::Riscv
    })
}

/// Checks an espflash board against what the esp-hal template supports.
fn check_esp(board: &Board, chip: &str) -> Result<(), String> {
    let Some((_, clocks)) = ESP_CHIPS.iter().find(|(c, _)| *c == chip) else {
        return Err(format!(
            "espflash chip `{chip}`: zant's esp-hal firmware supports {}",
            ESP_CHIPS
                .iter()
                .map(|(c, _)| *c)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    };
    if board.report != ReportChannel::Uart {
        return Err("ESP32 firmware reports over its UART: set report = \"uart\"".into());
    }
    let mhz = board.clock_hz / 1_000_000;
    if !board.clock_hz.is_multiple_of(1_000_000) || !clocks.contains(&mhz) {
        return Err(format!(
            "clock-hz {}: esp-hal runs the {chip} CPU at {} MHz",
            board.clock_hz,
            clocks
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" or ")
        ));
    }
    if board.placement.weights.len() > 1 {
        return Err(format!(
            "esp-hal maps the flash through its cache as one region: set placement.weights = \"{}\"",
            board.placement.code_region()
        ));
    }
    if board
        .placement
        .arena
        .iter()
        .any(|a| *a != board.placement.stack)
    {
        return Err(format!(
            "esp-hal links data, bss and the stack into one RAM region: set placement.arena = [\"{}\"] (the stack's region)",
            board.placement.stack
        ));
    }
    Ok(())
}

/// What the generated firmware's release profile optimizes for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Opt {
    /// `opt-level = 3`: fastest code (the default).
    #[default]
    Speed,
    /// `opt-level = "z"`: smallest code, for flash-bound boards.
    Size,
}

impl Opt {
    /// The `opt-level` value written into the project's `Cargo.toml`.
    pub fn opt_level(self) -> &'static str {
        match self {
            Opt::Speed => "3",
            Opt::Size => "\"z\"",
        }
    }

    /// The name used on the command line (`speed`, `size`).
    pub fn name(self) -> &'static str {
        match self {
            Opt::Speed => "speed",
            Opt::Size => "size",
        }
    }
}

/// A rendered firmware project.
#[derive(Debug, Clone)]
pub struct Project {
    /// Directory.
    pub dir: PathBuf,
    /// Cargo package (and binary) name.
    pub package: String,
    /// Target triple.
    pub triple: String,
    /// Board name.
    pub board: String,
}

impl Project {
    /// Path of the ELF after `build`.
    pub fn elf(&self) -> PathBuf {
        self.dir
            .join("target")
            .join(&self.triple)
            .join("release")
            .join(&self.package)
    }
}

/// Checks that `dir` may be written as a firmware project (and its
/// `model/` as a model crate): absent, empty, or made by `zant build` with
/// its files unchanged; `force` overrides all but a model crate
/// ([`zant_common::outdir::check`]).
pub fn check_dir(dir: &Path, force: bool) -> Result<(), FirmwareError> {
    zant_common::outdir::check(dir, Kind::FirmwareProject, force).map_err(owned_error)?;
    zant_common::outdir::check(&dir.join("model"), Kind::ModelCrate, force).map_err(owned_error)
}

fn owned_error(e: OutDirError) -> FirmwareError {
    match e {
        OutDirError::Io { path, source } => FirmwareError::Io { path, source },
        e => FirmwareError::NotOurs(e),
    }
}

fn link_name(board: &Board, region: &str) -> String {
    if region == board.placement.code_region() {
        "FLASH".into()
    } else if region == board.placement.stack {
        "RAM".into()
    } else {
        region
            .to_uppercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    }
}

/// The files under `from` (but its `target/` and zant's marker), relative
/// to `from`, into `out`.
fn read_tree(
    from: &Path,
    rel: &Path,
    out: &mut Vec<(PathBuf, Vec<u8>)>,
) -> Result<(), FirmwareError> {
    let dir = from.join(rel);
    for e in std::fs::read_dir(&dir).map_err(io(&dir))? {
        let e = e.map_err(io(&dir))?;
        let p = e.path();
        let name = e.file_name();
        if rel.as_os_str().is_empty() && (name == "target" || name == MARKER) {
            continue;
        }
        if p.is_dir() {
            read_tree(from, &rel.join(&name), out)?;
        } else {
            out.push((rel.join(&name), std::fs::read(&p).map_err(io(&p))?));
        }
    }
    Ok(())
}

/// The QEMU command line that `.cargo/config.toml` uses as `runner`.
pub fn qemu_runner_line(board: &Board) -> Option<String> {
    match &board.runner {
        zant_boards::Runner::Qemu {
            binary,
            machine,
            cpu,
            extra_args,
        } => {
            let mut s = format!("{binary} -machine {machine}");
            if let Some(c) = cpu {
                s.push_str(&format!(" -cpu {c}"));
            }
            for a in extra_args {
                s.push(' ');
                s.push_str(a);
            }
            s.push_str(" -nographic -semihosting-config enable=on,target=native -kernel");
            Some(s)
        }
        zant_boards::Runner::ProbeRs { chip } => Some(format!("probe-rs run --chip {chip}")),
        zant_boards::Runner::Espflash { .. } => Some("espflash flash --monitor".into()),
    }
}

/// The boot block the board's runtime template places (`rp2040`: a
/// second-stage boot loader; `rp2350`: an image definition), or `none`.
fn boot_name(board: &Board) -> &'static str {
    match board.chip.family.as_str() {
        "RP2040" => "rp2040",
        "RP2350" => "rp2350",
        _ => "none",
    }
}

/// Flash the runtime uses outside the board's regions: the RP2040's
/// second-stage boot loader, 256 bytes at 0x10000000 before the FLASH
/// region (`templates/cortex-m/memory.x.j2`). Start and length.
pub(crate) fn boot_block(board: &Board) -> Option<(u64, u64)> {
    (boot_name(board) == "rp2040").then_some((0x1000_0000, 0x100))
}

/// The runtime variant whose dependencies decide the lock file:
/// runtime, report channel, boot block and ESP chip, as in
/// `templates/locks/<key>.lock`.
pub fn lock_key(board: &Board, rt: Runtime) -> String {
    let mut key = match rt {
        Runtime::CortexM => "cortex-m".to_string(),
        Runtime::Riscv => "riscv".to_string(),
        Runtime::Esp => "esp".to_string(),
    };
    key.push('-');
    key.push_str(&format!("{:?}", board.report).to_lowercase());
    if boot_name(board) == "rp2040" {
        key.push_str("-rp2040");
    }
    if let zant_boards::Runner::Espflash { chip } = &board.runner {
        key.push('-');
        key.push_str(chip);
    }
    key
}

/// What the firmware does with the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// One inference on the input compiled in, then the report.
    #[default]
    Single,
    /// A data-set build: runs one inference per sample, prints a
    /// `ZANT-SAMPLE` line for each, then the report; the inputs compiled
    /// into a normal build are left out. Semihosting boards (QEMU) read the
    /// samples from `zant-samples.bin` in the emulator's working directory
    /// (each sample's inputs one after the other); RTT boards (probe-rs) and
    /// ESP32 boards (UART / USB-Serial-JTAG) read them as frames from the
    /// host (`templates/common/frame.rs`, [`dataset_transport`]).
    DataSet,
}

/// Renders the firmware project for `board` around the model crate in
/// `model_dir` into `out`, with the input tensors compiled in; `opt` sets
/// the release profile's `opt-level`.
pub fn render_project(
    board: &Board,
    model_dir: &Path,
    inputs: &[Vec<u8>],
    out: &Path,
    force: bool,
    opt: Opt,
) -> Result<Project, FirmwareError> {
    render_project_mode(board, model_dir, inputs, out, force, opt, Mode::Single)
}

/// How a data-set build on `board` gets its samples: `semihosting` (a
/// file the emulator opens), `rtt` (frames on RTT down channel 0) or
/// `uart` (frames on the ESP32's UART or USB-Serial-JTAG).
pub fn dataset_transport(board: &Board) -> Result<&'static str, FirmwareError> {
    let rt = runtime(board)?;
    Ok(match (rt, board.report) {
        (Runtime::Esp, _) => "uart",
        (_, ReportChannel::Semihosting) => "semihosting",
        (Runtime::CortexM, ReportChannel::Rtt) => "rtt",
        _ => {
            return Err(FirmwareError::UnsupportedBoard {
                board: board.name.clone(),
                what: format!(
                    "a data-set build reads its samples through semihosting, RTT (Cortex-M) or an ESP32's UART, and this board reports over {}",
                    format!("{:?}", board.report).to_lowercase()
                ),
            })
        }
    })
}

/// UART0's RX pin on the ESP32 chips zant supports (the pin the USB-UART
/// bridge of a development kit drives).
fn esp_uart_rx_pin(chip: &str) -> u32 {
    match chip {
        "esp32c6" => 17,
        _ => 20,
    }
}

/// [`render_project`] in a [`Mode`]: [`Mode::DataSet`] needs a board with
/// a [`dataset_transport`], and compiles no input in (`inputs` are checked
/// against the model all the same).
pub fn render_project_mode(
    board: &Board,
    model_dir: &Path,
    inputs: &[Vec<u8>],
    out: &Path,
    force: bool,
    opt: Opt,
    mode: Mode,
) -> Result<Project, FirmwareError> {
    let rt = runtime(board)?;
    let dataset = mode == Mode::DataSet;
    let frames = dataset && dataset_transport(board)? != "semihosting";
    check_dir(out, force)?;
    let manifest = ModelSurface::read(model_dir).map_err(|e| FirmwareError::Manifest {
        path: e.path,
        source: e.source,
    })?;
    let surface = &manifest.surface;
    if inputs.len() != surface.inputs.len() {
        return Err(FirmwareError::Inputs {
            path: model_dir.join("zant-model.json"),
            detail: format!(
                "{} input tensors given, the model has {}",
                inputs.len(),
                surface.inputs.len()
            ),
        });
    }
    for (i, (data, spec)) in inputs.iter().zip(&surface.inputs).enumerate() {
        if data.len() != spec.bytes() {
            return Err(FirmwareError::Inputs {
                path: model_dir.join("zant-model.json"),
                detail: format!(
                    "input {i} (`{}`) has {} bytes, expected {} ({} × {})",
                    spec.name,
                    data.len(),
                    spec.bytes(),
                    spec.len,
                    spec.elem
                ),
            });
        }
    }
    let package = format!("zant-fw-{}", manifest.package.trim_end_matches("-model"));
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Block tags leave no blank lines or indentation behind in the output.
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .map_err(|source| FirmwareError::Template {
                template: "syntax".into(),
                source,
            })?,
    );
    for (name, src) in TEMPLATES {
        env.add_template(name, src)
            .map_err(|source| FirmwareError::Template {
                template: name.to_string(),
                source,
            })?;
    }
    let regions: Vec<_> = board
        .memory
        .iter()
        .filter(|r| r.kind == RegionKind::Ram || board.placement.weights.contains(&r.name))
        .map(|r| context! { link_name => link_name(board, &r.name), start_hex => format!("0x{:08X}", r.start), size => r.size, region => r.name.clone() })
        .collect();
    let arena_sections: Vec<_> = board
        .placement
        .arena
        .iter()
        .enumerate()
        .filter(|(_, r)| **r != board.placement.stack)
        .map(|(i, r)| context! { index => i, section => zant_common::names::arena_section(r), link_name => link_name(board, r), region => r.clone() })
        .collect();
    // Weights over several flash regions: the model crate puts each weight
    // in its region's section (`.zant_weights.<region>`); one region keeps
    // them in the ordinary read-only data beside the code.
    let weight_sections: Vec<_> = if board.placement.weights.len() > 1 {
        board
            .placement
            .weights
            .iter()
            .enumerate()
            .map(|(i, r)| context! { index => i, section => zant_common::names::weights_section(r), link_name => link_name(board, r), region => r.clone() })
            .collect()
    } else {
        Vec::new()
    };
    let counter = match (rt, board.core, board.report) {
        (_, _, ReportChannel::Semihosting) if rt == Runtime::CortexM => "none",
        (Runtime::Riscv, _, _) => "mcycle",
        (Runtime::Esp, _, _) => "pccr",
        (_, Core::CortexM0Plus, _) => "systick",
        _ => "dwt",
    };
    let has_cas = !matches!(board.core, Core::CortexM0Plus | Core::Rv32imc);
    let zero = |elem: &str| match elem {
        "f32" | "f64" => "0.0",
        "bool" => "false",
        _ => "0",
    };
    let io_ctx = |v: &[IoSpec]| -> Vec<minijinja::Value> {
        let mut offset = 0;
        v.iter()
            .map(|s| {
                offset += s.bytes();
                context! { elem => s.elem.clone(), len => s.len, bytes => s.bytes(), zero => zero(&s.elem), offset => offset - s.bytes() }
            })
            .collect()
    };
    // riscv-rt's link.x does not include memory.x itself; cortex-m-rt's does.
    let mut rustflags: Vec<String> = match rt {
        Runtime::CortexM => vec!["-C".into(), "link-arg=-Tlink.x".into()],
        Runtime::Riscv => vec![
            "-C".into(),
            "link-arg=-Tmemory.x".into(),
            "-C".into(),
            "link-arg=-Tlink.x".into(),
        ],
        // esp-hal's linkall.x brings its memory map and layout; zant.x checks the stack.
        Runtime::Esp => vec![
            "-C".into(),
            "link-arg=-Tlinkall.x".into(),
            "-C".into(),
            "link-arg=-Tzant.x".into(),
        ],
    };
    if let Some(cpu) = &board.target.cpu {
        rustflags.push("-C".into());
        rustflags.push(format!("target-cpu={cpu}"));
    }
    if !board.target.features.is_empty() {
        rustflags.push("-C".into());
        rustflags.push(format!(
            "target-feature={}",
            board.target.features.join(",")
        ));
    }
    let dir = match rt {
        Runtime::CortexM => "cortex-m",
        Runtime::Riscv => "riscv",
        Runtime::Esp => "esp",
    };
    let ctx = context! {
        zant_version => env!("CARGO_PKG_VERSION"),
        board => board.name.clone(),
        model_name => manifest.model.clone(),
        package => package.clone(),
        model_package => manifest.package.clone(),
        runtime => dir,
        esp_chip => match &board.runner {
            zant_boards::Runner::Espflash { chip } => chip.clone(),
            _ => String::new(),
        },
        clock_mhz => board.clock_hz / 1_000_000,
        report => format!("{:?}", board.report).to_lowercase(),
        triple => board.target.triple.clone(),
        runner => qemu_runner_line(board),
        rustflags => rustflags,
        regions => regions,
        arena_sections => arena_sections,
        weight_sections => weight_sections,
        stack_size => board.placement.stack_size,
        ram_region => board.placement.stack.clone(),
        flash_region => board.placement.code_region().to_string(),
        inputs => io_ctx(&surface.inputs),
        outputs => io_ctx(&surface.outputs),
        counter => counter,
        has_cas => has_cas,
        opt => opt.name(),
        opt_level => opt.opt_level(),
        boot => boot_name(board),
        profile_marks => if manifest.profile_marks.is_empty() { 0 } else { manifest.profile_marks.len() + 1 },
        dataset => dataset,
        frames => frames,
        sample_bytes => surface.inputs.iter().map(IoSpec::bytes).sum::<usize>(),
        uart_rx_pin => match &board.runner {
            zant_boards::Runner::Espflash { chip } => esp_uart_rx_pin(chip),
            _ => 0,
        },
        semihosting => match rt {
            Runtime::Riscv => "riscv_semihosting",
            _ => "cortex_m_semihosting",
        },
    };
    // The linker script: memory.x from the board's regions, or (esp-hal,
    // which has its own) zant.x with zant's checks.
    let script = if rt == Runtime::Esp {
        "zant.x"
    } else {
        "memory.x"
    };
    let files = [
        ("common/Cargo.toml.j2".to_string(), "Cargo.toml".to_string()),
        (
            "common/config.toml.j2".to_string(),
            ".cargo/config.toml".to_string(),
        ),
        (format!("{dir}/{script}.j2"), script.to_string()),
        (format!("{dir}/build.rs.j2"), "build.rs".to_string()),
        (format!("{dir}/main.rs.j2"), "src/main.rs".to_string()),
    ];
    let mut written: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    for (tname, rel) in &files {
        let t = env
            .get_template(tname)
            .map_err(|source| FirmwareError::Template {
                template: tname.clone(),
                source,
            })?;
        let text = t.render(&ctx).map_err(|source| FirmwareError::Template {
            template: tname.clone(),
            source,
        })?;
        written.push((PathBuf::from(rel), text.into_bytes()));
    }
    let model_package = manifest.package.clone();
    if let Some(lock) = lockfile::render(&lock_key(board, rt), &package, &model_package) {
        written.push((PathBuf::from("Cargo.lock"), lock.into_bytes()));
    }
    if frames {
        written.push((PathBuf::from("src/frame.rs"), FRAME_RS.as_bytes().to_vec()));
    }
    if !dataset {
        for (i, bytes) in inputs.iter().enumerate() {
            written.push((PathBuf::from(format!("data/input{i}.bin")), bytes.clone()));
        }
    }
    zant_common::outdir::write_owned(out, Kind::FirmwareProject, &written, force)
        .map_err(owned_error)?;
    // The model crate: its own directory, owned as a model crate.
    let model_out = out.join("model");
    if model_out.canonicalize().ok() != model_dir.canonicalize().ok() {
        let mut files = Vec::new();
        read_tree(model_dir, Path::new(""), &mut files)?;
        zant_common::outdir::write_owned(&model_out, Kind::ModelCrate, &files, force)
            .map_err(owned_error)?;
    }
    Ok(Project {
        dir: out.to_path_buf(),
        package,
        triple: board.target.triple.clone(),
        board: board.name.clone(),
    })
}

/// Makes sure the Rust target is installed (with rustup when it is not).
/// Returns true when it was installed now.
pub fn ensure_target(triple: &str) -> Result<bool, FirmwareError> {
    let err = |stderr: String| FirmwareError::Target {
        triple: triple.to_string(),
        stderr,
    };
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    let out = match out {
        Ok(o) if o.status.success() => o,
        Ok(o) => return Err(err(String::from_utf8_lossy(&o.stderr).into_owned())),
        // Without rustup, trust the toolchain; cargo will say if the target is missing.
        Err(_) => return Ok(false),
    };
    if String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == triple)
    {
        return Ok(false);
    }
    let add = Command::new("rustup")
        .args(["target", "add", triple])
        .output()
        .map_err(|source| FirmwareError::Rustup {
            triple: triple.to_string(),
            source,
        })?;
    if !add.status.success() {
        return Err(err(String::from_utf8_lossy(&add.stderr).into_owned()));
    }
    Ok(true)
}

/// How cargo runs for a firmware build.
#[derive(Debug, Clone, Default)]
pub struct CargoOptions {
    /// Show cargo's own progress as it happens (each line to the caller's
    /// `on_line`).
    pub verbose: bool,
    /// `cargo --offline`: no network; the crates must be in cargo's cache.
    pub offline: bool,
    /// `cargo --locked`: build with the project's `Cargo.lock` as it is.
    pub locked: bool,
    /// Cargo's target directory; `None` for [`shared_target_dir`].
    pub target_dir: Option<PathBuf>,
}

impl CargoOptions {
    fn flags(&self) -> Vec<&'static str> {
        let mut f = vec!["build", "--release"];
        if self.offline {
            f.push("--offline");
        }
        if self.locked {
            f.push("--locked");
        }
        f
    }
}

/// The environment variable that sets the firmware builds' target directory.
pub const TARGET_DIR_ENV: &str = "ZANT_TARGET_DIR";

/// The one target directory of every firmware build, so a second model or
/// board reuses the HAL crates already compiled: `$ZANT_TARGET_DIR`, else
/// `zant/target` in the user's cache directory (`~/.cache` on Linux,
/// `~/Library/Caches` on macOS, `%LOCALAPPDATA%` on Windows), else
/// `zant-target` in the system's temporary directory. Each project keeps its
/// own ELF: [`build`] copies it to [`Project::elf`].
pub fn shared_target_dir() -> PathBuf {
    if let Some(d) = std::env::var_os(TARGET_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    match dirs::cache_dir() {
        Some(c) => c.join("zant").join("target"),
        None => std::env::temp_dir().join("zant-target"),
    }
}

/// Runs cargo in the project, its output lines to `on_line` as they come.
fn cargo_streamed(
    cmd: &mut Command,
    on_line: &mut dyn FnMut(&str),
) -> std::io::Result<std::process::ExitStatus> {
    use std::io::BufRead;
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    if let Some(err) = child.stderr.take() {
        for line in std::io::BufReader::new(err).lines() {
            on_line(&line?);
        }
    }
    child.wait()
}

/// Sets the modification time of every file under `dir` (but not under a
/// `target/` or `.git/` directory) to now.
fn touch_sources(dir: &Path) -> Result<(), FirmwareError> {
    let now = std::time::SystemTime::now();
    let entries = std::fs::read_dir(dir).map_err(io(dir))?;
    for entry in entries {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(io(&path))?;
        if kind.is_dir() {
            if entry.file_name() != "target" && entry.file_name() != ".git" {
                touch_sources(&path)?;
            }
        } else if kind.is_file() {
            let f = std::fs::File::options()
                .write(true)
                .open(&path)
                .map_err(io(&path))?;
            f.set_modified(now).map_err(io(&path))?;
        }
    }
    Ok(())
}

/// Cross-compiles the project in release mode, in the target directory of
/// `opts` (one shared by every project, locked while zant builds and copies
/// the ELF out), and returns the project's own copy of the ELF
/// ([`Project::elf`]). With `opts.verbose`, each of cargo's lines goes to
/// `on_line` as it comes (the CLI prints them above its spinner).
pub fn build(
    p: &Project,
    opts: &CargoOptions,
    on_line: &mut dyn FnMut(&str),
) -> Result<PathBuf, FirmwareError> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target_dir = opts.target_dir.clone().unwrap_or_else(shared_target_dir);
    let target_dir = std::path::absolute(&target_dir).map_err(io(&target_dir))?;
    std::fs::create_dir_all(&target_dir).map_err(io(&target_dir))?;
    // Builds of one package for one triple share an output path: one at a time.
    let lock_path = target_dir.join(".zant-build.lock");
    let lock = std::fs::File::create(&lock_path).map_err(io(&lock_path))?;
    lock.lock().map_err(io(&lock_path))?;
    // Every project's packages have the same relative paths, and cargo keys
    // a path package's artifacts by paths relative to its root and by
    // modification times: a project rendered before another project of the
    // same package name was built would look fresh and link the other's
    // code (or run its build script). Stamping the sources now, under the
    // lock, makes cargo rebuild this project's own packages every time.
    touch_sources(&p.dir)?;
    let command = |extra: &[&str]| {
        let mut c = Command::new(&cargo);
        c.args(opts.flags())
            .args(extra)
            .current_dir(&p.dir)
            .env("CARGO_TARGET_DIR", &target_dir)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_BUILD_TARGET")
            .env_remove("CARGO_ENCODED_RUSTFLAGS");
        c
    };
    let copy_out = || -> Result<PathBuf, FirmwareError> {
        let built = target_dir.join(&p.triple).join("release").join(&p.package);
        let elf = p.elf();
        if let Some(d) = elf.parent() {
            std::fs::create_dir_all(d).map_err(io(d))?;
        }
        std::fs::copy(&built, &elf).map_err(io(&built))?;
        Ok(elf)
    };
    if opts.verbose {
        let status = cargo_streamed(&mut command(&[]), on_line).map_err(io(&p.dir))?;
        if status.success() {
            return copy_out();
        }
        // Fall through: run again quietly to classify the failure.
    }
    let out = command(&["--quiet"]).output().map_err(io(&p.dir))?;
    if out.status.success() {
        return copy_out();
    }
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    // The linker's region checks, ours and its own.
    let fit: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            l.contains("zant: ")
                || l.contains("will not fit in region")
                || l.contains("overflowed by")
        })
        .collect();
    if !fit.is_empty() {
        let detail: Vec<String> = fit
            .iter()
            .map(|l| {
                let l = l.trim();
                match l.find("zant: ") {
                    Some(i) => l[i + 6..].trim_end_matches('"').to_string(),
                    None => l.trim_start_matches("rust-lld: error: ").to_string(),
                }
            })
            .collect();
        let mut uniq = detail.clone();
        uniq.dedup();
        return Err(FirmwareError::DoesNotFit {
            board: p.board.clone(),
            detail: uniq.join("; "),
        });
    }
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = lines[lines.len().saturating_sub(40)..].join("\n");
    Err(FirmwareError::Build {
        board: p.board.clone(),
        dir: p.dir.display().to_string(),
        stderr: tail,
    })
}
