//! `zant build --board B MODEL.onnx [-o DIR]`: firmware project rendered and
//! cross-compiled; size table.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use serde::Serialize;
use zant_boards::{Board, RegionKind};
use zant_codegen::ir::{DType, Graph, TensorData};
use zant_codegen::krate;
use zant_codegen::plan::{plan_in_regions, RegionBudget};
use zant_firmware::{FirmwareError, Footprint};

use super::boards::board_error;
use super::common::{load_model, ModelArgs};
use crate::out::{self, CliError, CliResult};
use crate::progress::Steps;

/// Options shared by build, run, bench and deploy.
#[derive(Debug, Clone, clap::Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Board: a built-in name, an alias (`stm32h7`) or a path to a board TOML.
    #[arg(long, short)]
    pub board: String,
    /// Directory of the firmware project (default: zant-build/<model>-<board>).
    #[arg(short, long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Input tensor compiled into the firmware: raw little-endian file in the
    /// model's input type and layout (default: seeded uniform [0,1) noise).
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Overwrite a directory zant did not create.
    #[arg(long)]
    pub force: bool,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Less output.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More output: cargo's own progress while cross-compiling.
    #[arg(short, long)]
    pub verbose: bool,
    /// What the firmware's release profile optimizes for: `speed`
    /// (opt-level 3) or `size` (opt-level "z").
    #[arg(long, value_enum, default_value_t = OptArg::Speed, value_name = "speed|size")]
    pub opt: OptArg,
}

/// `--opt`: the firmware's optimization goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OptArg {
    /// Fastest code: opt-level 3.
    Speed,
    /// Smallest code: opt-level "z".
    Size,
}

impl From<OptArg> for zant_firmware::Opt {
    fn from(o: OptArg) -> Self {
        match o {
            OptArg::Speed => zant_firmware::Opt::Speed,
            OptArg::Size => zant_firmware::Opt::Size,
        }
    }
}

/// Arguments of `zant build`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "The project stays on disk: open it, change it, and `cargo build --release` it yourself. \
Building into a non-empty directory that zant did not create needs --force."
)]
pub struct Args {
    #[command(flatten)]
    pub build: BuildArgs,
}

/// A built firmware.
#[derive(Debug)]
pub struct Built {
    /// The board.
    pub board: Board,
    /// The imported graph.
    pub graph: Graph,
    /// The compiled graph (after passes).
    pub compiled: Graph,
    /// The plan.
    pub plan: zant_codegen::plan::Plan,
    /// The input tensors compiled in.
    pub inputs: Vec<TensorData>,
    /// Project directory.
    pub dir: PathBuf,
    /// Footprint.
    pub footprint: Footprint,
    /// MACs of the model.
    pub macs: u64,
    /// ESP32 boards: the flash image written beside the project.
    pub flash_image: Option<FlashImage>,
}

/// The flash image of an ESP32 firmware (boot loader, partition table and
/// application, from offset 0), made from the ELF with espflash.
#[derive(Debug, Clone, Serialize)]
pub struct FlashImage {
    /// The image file.
    pub path: PathBuf,
    /// Bytes of the application image.
    pub app_bytes: u64,
    /// Bytes of the application partition.
    pub partition_bytes: u64,
}

/// Makes and writes the flash image of an espflash board's ELF.
fn write_flash_image(elf: &Path, chip: &str, dir: &Path) -> Result<FlashImage, CliError> {
    let img = zant_runner::esp::app_image(elf, chip).map_err(CliError::failed)?;
    if img.partition_bytes > 0 && img.app_bytes > img.partition_bytes {
        return Err(CliError::failed(anyhow!(
            "the application image ({} B) does not fit its flash partition ({} B) by {} B",
            img.app_bytes,
            img.partition_bytes,
            img.app_bytes - img.partition_bytes
        )));
    }
    let path = dir.join("flash-image.bin");
    std::fs::write(&path, img.merged())
        .map_err(|e| CliError::failed(anyhow!("cannot write {}: {e}", path.display())))?;
    Ok(FlashImage {
        path,
        app_bytes: img.app_bytes,
        partition_bytes: img.partition_bytes,
    })
}

/// Maps firmware errors to exit codes.
pub fn firmware_error(e: FirmwareError) -> CliError {
    match e {
        FirmwareError::NotOurs(_) | FirmwareError::UnsupportedBoard { .. } => CliError::input(e),
        _ => CliError::failed(e),
    }
}

/// Deterministic uniform [0,1) noise (xorshift), for default inputs.
pub fn default_input(g: &Graph, k: usize) -> TensorData {
    let t = g.tensor(g.inputs[k]);
    let mut s: u64 = 0x5eed_2026_u64 ^ (k as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let n = t.numel();
    match t.dtype {
        DType::F32 => TensorData::from_f32(
            t.shape.clone(),
            &(0..n)
                .map(|_| (next() >> 40) as f32 / (1u64 << 24) as f32)
                .collect::<Vec<_>>(),
        ),
        dt => TensorData {
            dtype: dt,
            shape: t.shape.clone(),
            bytes: vec![0; n * dt.size()],
        },
    }
}

/// Reads `--input` or makes the default input.
pub fn inputs_for(g: &Graph, input: Option<&Path>) -> Result<Vec<TensorData>, CliError> {
    match input {
        None => Ok((0..g.inputs.len()).map(|k| default_input(g, k)).collect()),
        Some(p) => {
            if g.inputs.len() != 1 {
                return Err(CliError::input(anyhow!(
                    "--input takes one file but the model has {} inputs",
                    g.inputs.len()
                )));
            }
            let t = g.tensor(g.inputs[0]);
            let bytes = std::fs::read(p)
                .map_err(|e| CliError::input(anyhow!("cannot read {}: {e}", p.display())))?;
            if bytes.len() != t.bytes() {
                return Err(CliError::input(anyhow!(
                    "{} has {} bytes but input `{}` ({} {}) needs {}",
                    p.display(),
                    bytes.len(),
                    t.name,
                    t.dtype,
                    out::shape(&t.shape),
                    t.bytes()
                )));
            }
            Ok(vec![TensorData {
                dtype: t.dtype,
                shape: t.shape.clone(),
                bytes,
            }])
        }
    }
}

/// Arena budgets from the board: its arena regions in order; the stack's
/// region loses the stack.
pub fn arena_budgets(board: &Board) -> Vec<RegionBudget> {
    board
        .placement
        .arena
        .iter()
        .filter_map(|name| board.region(name))
        .filter(|r| r.kind == RegionKind::Ram)
        .map(|r| {
            let cap = if r.name == board.placement.stack {
                r.size.saturating_sub(board.placement.stack_size)
            } else {
                r.size
            };
            RegionBudget {
                name: r.name.clone(),
                capacity: Some(cap as usize),
            }
        })
        .collect()
}

/// Loads, compiles, renders and builds; the shared first half of build/run/bench/deploy.
pub fn build_firmware(a: &BuildArgs, steps: &Steps) -> Result<Built, CliError> {
    let board = zant_boards::resolve(&a.board).map_err(board_error)?;
    let runtime_ok = zant_firmware::runtime(&board).map_err(firmware_error);
    runtime_ok?;
    let stem = a
        .model
        .model
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    let dir = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("zant-build").join(format!("{stem}-{}", board.name)));
    zant_firmware::check_dir(&dir, a.force).map_err(firmware_error)?;

    steps.step("checking and compiling the model");
    let graph = load_model(&a.model)?;
    let planner = a.model.planner()?;
    // The board's kernel set: cores with Helium vectorize the direct
    // convolution best two output positions at a time.
    let pass_opts = zant_codegen::passes::PassOptions {
        conv_positions: if board.simd.contains(&zant_boards::Simd::Mve) {
            2
        } else {
            3
        },
        ..Default::default()
    };
    let compiled = zant_codegen::passes::run(&graph, &pass_opts);
    let plan =
        plan_in_regions(&compiled, planner.as_ref(), &arena_budgets(&board)).map_err(|e| {
            CliError::failed(anyhow!(
                "model `{stem}` does not fit board `{}`: {e}",
                board.name
            ))
        })?;
    let files = krate::crate_files(&compiled, &plan).map_err(super::compile::crate_error)?;
    let model_dir = dir.join("model");
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError::failed(anyhow!("cannot create {}: {e}", dir.display())))?;
    krate::write_crate(&files, &model_dir, true).map_err(super::compile::crate_error)?;
    let inputs = inputs_for(&graph, a.input.as_deref())?;

    steps.step(&format!(
        "rendering the firmware project for {}",
        board.name
    ));
    let raw: Vec<Vec<u8>> = inputs.iter().map(|t| t.bytes.clone()).collect();
    // The directory was checked above (absent, empty, ours, or --force).
    let project = zant_firmware::render_project(&board, &model_dir, &raw, &dir, true, a.opt.into())
        .map_err(firmware_error)?;
    if zant_firmware::ensure_target(&board.target.triple).map_err(firmware_error)? {
        steps.note(&format!(
            "installed the Rust target {} with rustup",
            board.target.triple
        ));
    }
    steps.step(&format!(
        "cross-compiling for {} ({})",
        board.target.triple,
        board.target.cpu.as_deref().unwrap_or("generic")
    ));
    let elf = zant_firmware::build(&project, a.verbose).map_err(firmware_error)?;
    steps.step("measuring the ELF");
    let footprint = zant_firmware::measure(&elf, Some(&board)).map_err(firmware_error)?;
    let flash_image = match &board.runner {
        zant_boards::Runner::Espflash { chip } => {
            steps.step("making the flash image with espflash");
            Some(write_flash_image(&elf, chip, &dir)?)
        }
        _ => None,
    };
    let macs = zant_codegen::report::node_reports(&graph)
        .iter()
        .map(|n| n.macs)
        .sum();
    Ok(Built {
        board,
        graph,
        compiled,
        plan,
        inputs,
        dir,
        footprint,
        macs,
        flash_image,
    })
}

/// Checks the board's own size limits against the footprint.
pub fn check_limits(b: &Built) -> Result<(), CliError> {
    let f = &b.footprint;
    let mut over = Vec::new();
    if let Some(l) = b.board.limits.flash_bytes {
        if f.flash_bytes > l {
            over.push(format!(
                "flash {} B > limit {} B (by {} B)",
                f.flash_bytes,
                l,
                f.flash_bytes - l
            ));
        }
    }
    if let Some(l) = b.board.limits.ram_bytes {
        if f.ram_bytes > l {
            over.push(format!(
                "RAM {} B > limit {} B (by {} B)",
                f.ram_bytes,
                l,
                f.ram_bytes - l
            ));
        }
    }
    if over.is_empty() {
        Ok(())
    } else {
        Err(CliError::failed(anyhow!(
            "the firmware exceeds the size budget of board `{}`: {}",
            b.board.name,
            over.join("; ")
        )))
    }
}

/// JSON of `zant build`.
#[derive(Debug, Serialize)]
pub struct BuildJson<'a> {
    /// Board.
    pub board: &'a str,
    /// Model.
    pub model: &'a str,
    /// Project directory.
    pub project: String,
    /// Footprint keys.
    #[serde(flatten)]
    pub footprint: &'a Footprint,
    /// ESP32 boards: the flash image (path, application and partition bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flash_image: Option<&'a FlashImage>,
}

/// Prints the footprint table.
pub fn print_footprint(f: &Footprint) {
    let mut t = out::table(&["", "bytes"], &[1]);
    let row = |t: &mut comfy_table::Table, k: &str, v: u64| {
        t.add_row(vec![k.to_string(), out::thousands(v)]);
    };
    row(&mut t, "flash", f.flash_bytes);
    row(&mut t, "  code", f.code_bytes);
    row(&mut t, "    model (kernels, predict)", f.model_code_bytes);
    row(
        &mut t,
        "    runtime (start-up, report)",
        f.runtime_code_bytes,
    );
    row(&mut t, "  weights", f.weights_bytes);
    row(
        &mut t,
        "  other (vectors, constants, data images)",
        f.other_flash_bytes,
    );
    row(&mut t, "ram", f.ram_bytes);
    row(&mut t, "  arena", f.arena_bytes);
    row(&mut t, "  stack (reserved)", f.stack_bytes);
    row(&mut t, "  other (data, bss)", f.other_ram_bytes);
    out::print(&t.to_string());
    if !f.regions.is_empty() {
        let mut r = out::table(&["region", "kind", "used", "size", "use"], &[2, 3, 4]);
        for g in f.regions.iter().filter(|g| g.used > 0) {
            r.add_row(vec![
                g.name.clone(),
                g.kind.clone(),
                out::thousands(g.used),
                out::thousands(g.size),
                format!("{:.1}%", 100.0 * g.used as f64 / g.size.max(1) as f64),
            ]);
        }
        out::print(&r.to_string());
    }
    if !f.largest_symbols.is_empty() {
        let mut s = out::table(&["largest symbols", "kind", "bytes"], &[2]);
        for sym in f.largest_symbols.iter().take(8) {
            s.add_row(vec![
                sym.name.clone(),
                sym.kind.clone(),
                out::thousands(sym.bytes),
            ]);
        }
        out::print(&s.to_string());
    }
}

/// Prints a built firmware: JSON, or a line and the footprint tables.
/// `note` follows the board name (`" (not flashed: --no-flash)"`).
pub fn report_build(b: &Built, json: bool, note: &str) -> CliResult {
    if json {
        return out::json(&BuildJson {
            board: &b.board.name,
            model: &b.graph.name,
            project: b.dir.display().to_string(),
            footprint: &b.footprint,
            flash_image: b.flash_image.as_ref(),
        });
    }
    print_built(b, note);
    Ok(())
}

/// Prints a built firmware for a person: the ELF, the footprint tables and
/// (ESP32) the flash image. `note` follows the board name.
pub fn print_built(b: &Built, note: &str) {
    out::print(&format!(
        "{} {} for {}{note} → {}",
        out::green("built"),
        b.graph.name,
        b.board.name,
        b.footprint.elf.display()
    ));
    print_footprint(&b.footprint);
    if let Some(i) = &b.flash_image {
        out::print(&format!(
            "flash image: {} (application {} B of a {} B partition; write it at offset 0)",
            i.path.display(),
            out::thousands(i.app_bytes),
            out::thousands(i.partition_bytes)
        ));
    }
}

/// Runs `zant build`.
pub fn run(args: Args) -> CliResult {
    let a = &args.build;
    let steps = Steps::new(a.quiet || a.json);
    let b = build_firmware(a, &steps)?;
    check_limits(&b)?;
    steps.finish();
    report_build(&b, a.json, "")?;
    if !a.json {
        out::print(&format!(
            "project: {} (an ordinary Cargo project: `cargo build --release` there)",
            b.dir.display()
        ));
    }
    Ok(())
}
