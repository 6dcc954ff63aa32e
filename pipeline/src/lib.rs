//! zant-pipeline: the whole path from an ONNX model to a checked run on a
//! board, as a library. The `zant` command line is a thin layer over it.
//!
//! One entry point per stage, each usable on its own:
//!
//! - [`compile`]: load the model and compile it for the board (passes and
//!   the memory plan in the board's arena regions);
//! - [`build`]: everything up to a measured firmware: compile, write the
//!   model crate, render and cross-compile the firmware project, measure the
//!   ELF ([`Built`]), and for ESP32 boards write the flash image;
//! - [`check_limits`]: the board's own flash/RAM limits;
//! - [`reference`]: the expected outputs (a file, or zant's host build of the
//!   same model on the same input);
//! - [`run_on_target`]: one inference on the target ([`zant_runner::run`]:
//!   QEMU, probe-rs or espflash);
//! - [`compare`]: target outputs against the reference;
//! - [`run`]: reference, run and comparison together, as [`RunFigures`];
//! - [`build_profiling`], [`run_profiled`]: the same with a marker between
//!   nodes, and the per-layer [`Profile`] of the run ([`profile`]);
//! - [`build_dataset`], [`dataset::validate`]: a data-set build that runs
//!   many samples in one firmware run, checked sample by sample
//!   ([`dataset`]).
//!
//! Progress goes to a [`Progress`]; [`Silent`] shows nothing.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod dataset;
mod error;
pub mod profile;

use std::path::{Path, PathBuf};

use serde::Serialize;
use zant_boards::{Board, RegionKind, Runner};
use zant_codegen::hostrun::{build_harness, run_cases, CaseResult, Harness, HostCase};
use zant_codegen::ir::{DType, Graph, TensorData};
use zant_codegen::krate;
use zant_codegen::load::{self, LoadOptions};
use zant_codegen::passes::{self, PassOptions};
use zant_codegen::plan::{self, plan_in_regions, Plan, RegionBudget};
use zant_codegen::KernelSet;
use zant_firmware::{Footprint, RegionUse};

pub use error::PipelineError;
pub use profile::{NodeProfile, Profile, SortBy};
pub use zant_runner::{Progress, RunOptions, Silent, TargetOutcome};

/// Checks that `board` takes a data-set build (QEMU boards), before
/// anything is read or built.
pub fn preflight_dataset(board: &Board) -> Result<(), PipelineError> {
    Ok(zant_runner::preflight_dataset(board)?)
}

/// Checks that a hardware board's debug probe or serial port is attached
/// ([`zant_runner::find_target`]), so a missing board costs no build.
pub fn find_target(board: &Board, opts: &RunOptions) -> Result<(), PipelineError> {
    Ok(zant_runner::find_target(board, opts)?)
}

/// What to build: a model, how to load it, the board and where.
#[derive(Debug, Clone)]
pub struct Request {
    /// The ONNX model file.
    pub model: PathBuf,
    /// How to import it (bound shapes, constant inputs).
    pub load: LoadOptions,
    /// Memory planner by name ([`zant_codegen::plan::planners`]).
    pub planner: String,
    /// The board, already resolved.
    pub board: Board,
    /// Directory of the firmware project (default: [`default_dir`]).
    pub out: Option<PathBuf>,
    /// Input compiled into the firmware: raw little-endian file in the
    /// model's input type and layout (default: [`default_input`]).
    pub input: Option<PathBuf>,
    /// Build into a directory zant did not create.
    pub force: bool,
    /// Let cargo print its own progress while cross-compiling.
    pub verbose: bool,
    /// `cargo --offline` for the firmware build (no network).
    pub offline: bool,
    /// `cargo --locked` for the firmware build (its `Cargo.lock` as it is).
    pub locked: bool,
    /// What the firmware's release profile optimizes for.
    pub opt: zant_firmware::Opt,
    /// The run that follows the build (`zant run`, `bench`, `deploy`), so
    /// that [`build`] checks it before the cross-compile.
    pub then: Option<Then>,
}

/// A run planned after the build: [`build`] checks what it can of it before
/// cross-compiling (the target reachable, the expected outputs' size).
#[derive(Debug, Clone, Default)]
pub struct Then {
    /// How the outputs will be checked.
    pub check: Check,
    /// How the firmware will run.
    pub run: RunOptions,
}

impl Request {
    /// A request with the defaults: no load options, the greedy-by-size
    /// planner, the default directory and input.
    pub fn new(model: impl Into<PathBuf>, board: Board) -> Request {
        Request {
            model: model.into(),
            load: LoadOptions::default(),
            planner: "greedy-by-size".into(),
            board,
            out: None,
            input: None,
            force: false,
            verbose: false,
            offline: false,
            locked: false,
            opt: zant_firmware::Opt::Speed,
            then: None,
        }
    }

    /// The model's file stem (`mnist-8`), `model` when it has none.
    pub fn stem(&self) -> String {
        self.model
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into())
    }

    /// The firmware project directory: `out`, or [`default_dir`].
    pub fn dir(&self) -> PathBuf {
        self.out
            .clone()
            .unwrap_or_else(|| default_dir(&self.stem(), &self.board))
    }
}

/// `zant-build/<model>-<board>`.
pub fn default_dir(stem: &str, board: &Board) -> PathBuf {
    PathBuf::from("zant-build").join(format!("{stem}-{}", board.name))
}

/// A model compiled for a board.
#[derive(Debug)]
pub struct Compiled {
    /// The imported graph.
    pub graph: Graph,
    /// The compiled graph (after passes).
    pub compiled: Graph,
    /// Its memory plan in the board's arena regions.
    pub plan: Plan,
    /// Multiply-accumulates of one inference.
    pub macs: u64,
}

/// A built and measured firmware.
#[derive(Debug)]
pub struct Built {
    /// The board.
    pub board: Board,
    /// The imported graph.
    pub graph: Graph,
    /// The compiled graph (after passes).
    pub compiled: Graph,
    /// The plan.
    pub plan: Plan,
    /// The input tensors compiled in.
    pub inputs: Vec<TensorData>,
    /// Project directory.
    pub dir: PathBuf,
    /// Footprint (and the ELF's path).
    pub footprint: Footprint,
    /// Multiply-accumulates of one inference.
    pub macs: u64,
    /// ESP32 boards: the flash image written beside the project.
    pub flash_image: Option<FlashImage>,
}

impl Built {
    /// The firmware ELF.
    pub fn elf(&self) -> &Path {
        &self.footprint.elf
    }
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

/// Deterministic uniform [0,1) noise (xorshift) for input `k`: the default
/// input of a firmware.
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

/// The input tensors: the file (one-input models) or the default input.
pub fn inputs_for(g: &Graph, input: Option<&Path>) -> Result<Vec<TensorData>, PipelineError> {
    let Some(p) = input else {
        return Ok((0..g.inputs.len()).map(|k| default_input(g, k)).collect());
    };
    if g.inputs.len() != 1 {
        return Err(PipelineError::InputCount {
            inputs: g.inputs.len(),
        });
    }
    let t = g.tensor(g.inputs[0]);
    let bytes = std::fs::read(p).map_err(|source| PipelineError::Read {
        path: p.to_path_buf(),
        source,
    })?;
    if bytes.len() != t.bytes() {
        return Err(PipelineError::InputSize {
            path: p.to_path_buf(),
            got: bytes.len(),
            name: t.name.clone(),
            dtype: t.dtype,
            shape: t.shape.clone(),
            want: t.bytes(),
        });
    }
    Ok(vec![TensorData {
        dtype: t.dtype,
        shape: t.shape.clone(),
        bytes,
    }])
}

/// `1×8×28×28`, `scalar` for no dimensions: how zant writes a shape, in
/// messages and tables alike.
pub fn shape_text(s: &[usize]) -> String {
    if s.is_empty() {
        return "scalar".into();
    }
    s.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("×")
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

/// The compiler passes for the board's kernel set, which picks the kernel
/// variants and their tuning from the board's core, FPU and SIMD.
pub fn pass_options(board: &Board) -> PassOptions {
    PassOptions {
        kernels: KernelSet::for_board(board),
        ..Default::default()
    }
}

/// Loads the model, runs the passes for the board and plans its memory in
/// the board's arena regions.
pub fn compile(req: &Request) -> Result<Compiled, PipelineError> {
    let graph = load::load_file(&req.model, &req.load).map_err(|source| PipelineError::Load {
        path: req.model.clone(),
        source,
    })?;
    let planner =
        plan::planner_by_name(&req.planner).ok_or_else(|| PipelineError::UnknownPlanner {
            name: req.planner.clone(),
            known: plan::planners()
                .iter()
                .map(|p| p.name().to_string())
                .collect(),
        })?;
    let compiled = passes::run(&graph, &pass_options(&req.board));
    let plan = plan_in_regions(&compiled, planner.as_ref(), &arena_budgets(&req.board)).map_err(
        |source| PipelineError::DoesNotFit {
            model: req.stem(),
            board: req.board.name.clone(),
            source,
        },
    )?;
    let macs = zant_codegen::report::node_reports(&graph)
        .iter()
        .map(|n| n.macs)
        .sum();
    Ok(Compiled {
        graph,
        compiled,
        plan,
        macs,
    })
}

/// Compiles the model, writes its crate, renders and cross-compiles the
/// firmware project and measures the ELF (and, on ESP32 boards, writes the
/// flash image).
///
/// Everything that can be checked without the cross-compile is checked
/// first ([`CHECKS_BEFORE_BUILD`]), so a mistake costs seconds, not minutes.
pub fn build(req: &Request, progress: &dyn Progress) -> Result<Built, PipelineError> {
    build_with(req, Flavour::Normal, progress)
}

/// [`build`] as a profiling build: the model calls a marker before each node
/// and after the last (see [`profile`]), into its own project directory
/// (`zant-build/<model>-profile-<board>` unless `req.out` names one), so
/// the normal build and its figures stay as they are.
pub fn build_profiling(req: &Request, progress: &dyn Progress) -> Result<Built, PipelineError> {
    build_with(req, Flavour::Profiling, progress)
}

/// [`build`] as a data-set build ([`zant_firmware::Mode::DataSet`]): the
/// firmware reads its samples through semihosting and runs one inference
/// each, for [`dataset::validate`]; into its own project directory
/// (`zant-build/<model>-dataset-<board>` unless `req.out` names one), so the
/// normal build stays as it is. QEMU boards only: others are refused before
/// anything is compiled.
pub fn build_dataset(req: &Request, progress: &dyn Progress) -> Result<Built, PipelineError> {
    build_with(req, Flavour::DataSet, progress)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavour {
    Normal,
    Profiling,
    DataSet,
}

fn build_with(
    req: &Request,
    flavour: Flavour,
    progress: &dyn Progress,
) -> Result<Built, PipelineError> {
    let board = &req.board;
    zant_firmware::runtime(board)?;
    let dir = match (&req.out, flavour) {
        (None, Flavour::Profiling) => default_dir(&format!("{}-profile", req.stem()), board),
        (None, Flavour::DataSet) => default_dir(&format!("{}-dataset", req.stem()), board),
        _ => req.dir(),
    };
    let profiling = flavour == Flavour::Profiling;
    zant_firmware::check_dir(&dir, req.force)?;
    if flavour == Flavour::DataSet {
        zant_runner::preflight_dataset(board)?;
    }
    if let Some(then) = &req.then {
        zant_runner::preflight(board, &then.run)?;
    }

    progress.step("checking and compiling the model");
    let Compiled {
        graph,
        compiled,
        plan,
        macs,
    } = compile(req)?;
    if let Some(Then {
        check: Check {
            expect: Some(p), ..
        },
        ..
    }) = &req.then
    {
        check_expect_size(&compiled, p)?;
    }
    let inputs = inputs_for(&graph, req.input.as_deref())?;
    let raw: Vec<Vec<u8>> = inputs.iter().map(|t| t.bytes.clone()).collect();
    let mut plan = plan;
    // Weights over several flash regions are placed with an estimate of the
    // code beside them in the first; when the linker finds more code than
    // that, the overflow it reports is moved out and the build runs again.
    let mut code = CODE_ESTIMATE_BYTES;
    let mut attempt = 0;
    let elf = loop {
        plan.weights = place_weights(board, &compiled, &plan, code)?;
        let files = krate::crate_files_profiled(
            &compiled,
            &plan,
            &KernelSet::for_board(board),
            &krate::package_name(&compiled.name),
            profiling,
        )?;
        let model_dir = dir.join("model");
        std::fs::create_dir_all(&dir).map_err(|source| PipelineError::CreateDir {
            path: dir.clone(),
            source,
        })?;
        krate::write_crate(&files, &model_dir, req.force)?;

        progress.step(&format!(
            "rendering the firmware project for {}",
            board.name
        ));
        let mode = match flavour {
            Flavour::DataSet => zant_firmware::Mode::DataSet,
            _ => zant_firmware::Mode::Single,
        };
        let project = zant_firmware::render_project_mode(
            board, &model_dir, &raw, &dir, req.force, req.opt, mode,
        )?;
        if zant_firmware::ensure_target(&board.target.triple)? {
            progress.note(&format!(
                "installed the Rust target {} with rustup",
                board.target.triple
            ));
        }
        progress.step(&format!(
            "cross-compiling for {} ({})",
            board.target.triple,
            board.target.cpu.as_deref().unwrap_or("generic")
        ));
        let cargo = zant_firmware::CargoOptions {
            verbose: req.verbose,
            offline: req.offline,
            locked: req.locked,
            target_dir: None,
        };
        match zant_firmware::build(&project, &cargo, &mut |l| progress.tool_line(l)) {
            Err(zant_firmware::FirmwareError::DoesNotFit { board: b, detail })
                if plan.weights.is_split() && attempt < 2 =>
            {
                let Some(over) = code_region_overflow(&detail) else {
                    return Err(
                        zant_firmware::FirmwareError::DoesNotFit { board: b, detail }.into(),
                    );
                };
                // The code is what the region's size and the overflow leave
                // beside the weights placed there.
                let size = board
                    .region(board.placement.code_region())
                    .map_or(0, |r| r.size);
                let placed = plan.weights.regions.first().map_or(0, |r| r.bytes as u64);
                code = (size + over)
                    .saturating_sub(placed)
                    .max(code + 1)
                    .div_ceil(256)
                    * 256;
                attempt += 1;
                progress.note(&format!(
                    "the code needs {over} B more of flash region {} than estimated: placing the weights again with {code} B for the code",
                    board.placement.code_region()
                ));
            }
            r => break r?,
        }
    };
    progress.step("measuring the ELF");
    let footprint = zant_firmware::measure(&elf, Some(board))?;
    let flash_image = match &board.runner {
        Runner::Espflash { chip } => {
            progress.step("making the flash image with espflash");
            Some(write_flash_image(&elf, chip, &dir)?)
        }
        _ => None,
    };
    Ok(Built {
        board: board.clone(),
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

/// The checks [`build`] runs before the cross-compile, in order (the list
/// `zant build --help` and the README give).
pub const CHECKS_BEFORE_BUILD: &[&str] = &[
    "the board has a firmware runtime (core, runner and report channel)",
    "the output directory is absent, empty, zant's own, or --force",
    "run/bench/deploy: --probe only for probe-rs boards and well formed (VID:PID[:SERIAL])",
    "run/bench/deploy: --port only for espflash boards, and the device exists",
    "run/bench/deploy: the QEMU binary is installed and emulates the board's machine",
    "run/bench/deploy: espflash knows the board's chip",
    "the model loads: every operator supported, opset in range, every dynamic dimension bound (--shape/--dim), --shape/--dim/--const name inputs",
    "--input has the input tensor's size",
    "the memory planner exists and the arena fits the board's arena regions",
    "run/bench/deploy: --expect has the outputs' size",
    "the weights fit the board's flash regions for them (the first with an estimate of the code) and its flash limit",
];

/// Smallest code zant's firmware has on any board (runtime, report and one
/// kernel), measured: the debug model's firmware is 7,160 B on the
/// Cortex-M7 with its weights; the estimate stays below so the early flash
/// check never refuses a model the linker would place.
pub const CODE_ESTIMATE_BYTES: u64 = 6 * 1024;

/// Checks before the cross-compile that the weights, with
/// [`CODE_ESTIMATE_BYTES`] of code, fit the flash regions the board places
/// them in and its flash limit, and places them there ([`place_weights`]);
/// else says by how much, where, and which other flash regions could hold
/// them.
pub fn check_flash(
    board: &Board,
    compiled: &Graph,
    plan: &Plan,
) -> Result<plan::WeightPlacement, PipelineError> {
    place_weights(board, compiled, plan, CODE_ESTIMATE_BYTES)
}

/// Places the weights of `compiled` in the board's weights regions
/// (`placement.weights`), `code` bytes of the first kept for the code: one
/// region takes them all (checked against its size and the flash limit);
/// several are filled first fit, largest weights first
/// ([`plan::place_weights`]).
pub fn place_weights(
    board: &Board,
    compiled: &Graph,
    plan: &Plan,
    code: u64,
) -> Result<plan::WeightPlacement, PipelineError> {
    let weights: u64 = plan::weight_tensors(compiled, plan)
        .iter()
        .filter_map(|&t| compiled.tensor(t).data.as_ref())
        .map(|d| d.bytes.len() as u64)
        .sum();
    let regions: Vec<&zant_boards::MemoryRegion> = board
        .placement
        .weights
        .iter()
        .filter_map(|n| board.region(n))
        .collect();
    let total: u64 = regions.iter().map(|r| r.size).sum();
    let need = weights + code;
    let (cap, what) = match board.limits.flash_bytes {
        Some(l) if l < total => (l, format!("the flash limit of board `{}`", board.name)),
        _ if regions.len() > 1 => (
            total,
            format!(
                "the flash of regions {}",
                regions
                    .iter()
                    .map(|r| format!("{} ({} B)", r.name, r.size))
                    .collect::<Vec<_>>()
                    .join(" + ")
            ),
        ),
        _ => (
            total,
            format!("flash region {}", board.placement.code_region()),
        ),
    };
    if need > cap {
        let elsewhere: Vec<String> = board
            .memory
            .iter()
            .filter(|r| {
                r.kind == RegionKind::Flash
                    && r.alias_of.is_none()
                    && !board.placement.weights.contains(&r.name)
                    && r.size >= weights
            })
            .map(|r| format!("{} ({} B)", r.name, r.size))
            .collect();
        return Err(PipelineError::FlashTooSmall {
            board: board.name.clone(),
            what,
            capacity: cap,
            weights,
            code,
            elsewhere,
        });
    }
    let budgets: Vec<RegionBudget> = regions
        .iter()
        .enumerate()
        .map(|(i, r)| RegionBudget {
            name: r.name.clone(),
            capacity: Some(if i == 0 {
                r.size.saturating_sub(code) as usize
            } else {
                r.size as usize
            }),
        })
        .collect();
    plan::place_weights(compiled, plan, &budgets).map_err(|source| PipelineError::WeightsDoNotFit {
        board: board.name.clone(),
        code,
        source,
    })
}

/// The bytes by which the linker says the code's flash region (`FLASH` in
/// the firmware's linker script) overflowed, the largest it reports.
fn code_region_overflow(detail: &str) -> Option<u64> {
    detail
        .split(';')
        .filter(|m| m.contains("region 'FLASH'"))
        .filter_map(|m| {
            let rest = &m[m.find("overflowed by ")? + "overflowed by ".len()..];
            rest.split_whitespace().next()?.parse::<u64>().ok()
        })
        .max()
}

/// Checks that an `--expect` file has the size of the compiled model's
/// outputs.
fn check_expect_size(g: &Graph, p: &Path) -> Result<(), PipelineError> {
    let got = std::fs::metadata(p)
        .map_err(|source| PipelineError::Read {
            path: p.to_path_buf(),
            source,
        })?
        .len() as usize;
    let want: usize = g.outputs.iter().map(|&o| g.tensor(o).bytes()).sum();
    if got != want {
        return Err(PipelineError::ExpectSize {
            path: p.to_path_buf(),
            got,
            want,
        });
    }
    Ok(())
}

/// Makes and writes `flash-image.bin` in `dir` from an espflash board's ELF.
pub fn write_flash_image(elf: &Path, chip: &str, dir: &Path) -> Result<FlashImage, PipelineError> {
    let img = zant_runner::esp::app_image(elf, chip).map_err(PipelineError::FlashImage)?;
    if img.partition_bytes > 0 && img.app_bytes > img.partition_bytes {
        return Err(PipelineError::ImageTooBig {
            app: img.app_bytes,
            partition: img.partition_bytes,
        });
    }
    let path = dir.join("flash-image.bin");
    std::fs::write(&path, img.merged()).map_err(|source| PipelineError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(FlashImage {
        path,
        app_bytes: img.app_bytes,
        partition_bytes: img.partition_bytes,
    })
}

/// Checks the board's own size limits against the footprint.
pub fn check_limits(b: &Built) -> Result<(), PipelineError> {
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
        Err(PipelineError::OverLimits {
            board: b.board.name.clone(),
            over,
        })
    }
}

/// Expected outputs and where they came from.
#[derive(Debug, Clone)]
pub struct Reference {
    /// One tensor per model output.
    pub outputs: Vec<TensorData>,
    /// The file, or `zant host build (same model, same input)`.
    pub source: String,
}

/// The expected outputs: `expect` (raw little-endian, the outputs one after
/// the other), or zant's host build of the same model on the same input.
pub fn reference(
    b: &Built,
    expect: Option<&Path>,
    progress: &dyn Progress,
) -> Result<Reference, PipelineError> {
    let g = &b.compiled;
    if let Some(p) = expect {
        let bytes = std::fs::read(p).map_err(|source| PipelineError::Read {
            path: p.to_path_buf(),
            source,
        })?;
        let want: usize = g.outputs.iter().map(|&o| g.tensor(o).bytes()).sum();
        if bytes.len() != want {
            return Err(PipelineError::ExpectSize {
                path: p.to_path_buf(),
                got: bytes.len(),
                want,
            });
        }
        let mut at = 0;
        let outputs = g
            .outputs
            .iter()
            .map(|&o| {
                let t = g.tensor(o);
                at += t.bytes();
                TensorData {
                    dtype: t.dtype,
                    shape: t.shape.clone(),
                    bytes: bytes[at - t.bytes()..at].to_vec(),
                }
            })
            .collect();
        return Ok(Reference {
            outputs,
            source: p.display().to_string(),
        });
    }
    progress.step("computing the reference outputs with zant's host build");
    let (h, work) = host_build(b)?;
    let outputs = host_outputs(&h, b, std::slice::from_ref(&b.inputs), &work.join("io"))?;
    Ok(Reference {
        outputs,
        source: "zant host build (same model, same input)".into(),
    })
}

/// zant's host build of `b`'s compiled model, which reference outputs come
/// from, and its work directory: under the project's own build directory
/// (cargo runs there with the firmware's .cargo/config.toml out of reach:
/// see [`build_harness`]).
pub(crate) fn host_build(b: &Built) -> Result<(Harness, PathBuf), PipelineError> {
    let g = &b.compiled;
    let work = host_dir(&b.dir);
    let h = build_harness(
        &[HostCase {
            name: g.name.clone(),
            graph: g,
            plan: &b.plan,
        }],
        &work,
        None,
    )
    .map_err(|source| PipelineError::HostBuild { source })?;
    Ok((h, work))
}

/// One inference of [`host_build`]'s harness on `inputs` (one case: the
/// model's input tensors), its files in `io`.
pub(crate) fn host_outputs(
    h: &Harness,
    b: &Built,
    inputs: &[Vec<TensorData>],
    io: &Path,
) -> Result<Vec<TensorData>, PipelineError> {
    let res = run_cases(h, &[&b.compiled], inputs, io)
        .map_err(|source| PipelineError::HostRun { source })?;
    match res.into_iter().next() {
        Some(CaseResult::Ok(outputs)) => Ok(outputs),
        Some(CaseResult::Failed(e)) => Err(PipelineError::HostCase(e)),
        None => Err(PipelineError::HostNothing),
    }
}

/// Where the host build of a firmware project in `dir` goes: its own build
/// directory, `target/zant-host`.
pub fn host_dir(dir: &Path) -> PathBuf {
    dir.join("target").join("zant-host")
}

/// Runs the built firmware on its target: [`zant_runner::run`].
pub fn run_on_target(
    b: &Built,
    opts: &RunOptions,
    progress: &dyn Progress,
) -> Result<TargetOutcome, PipelineError> {
    Ok(zant_runner::run(&b.board, b.elf(), opts, progress)?)
}

/// Target outputs against the reference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    /// Largest absolute difference (infinite when one side is NaN).
    pub max_abs: f64,
    /// Largest difference relative to the reference.
    pub max_rel: f64,
    /// Within the tolerance (floating-point outputs) or equal (integers).
    pub matches: bool,
}

/// Compares raw target outputs with the reference: floating-point outputs
/// match within `tolerance` (absolute), integer outputs exactly.
pub fn compare(got: &[Vec<u8>], want: &[TensorData], tolerance: f64) -> Comparison {
    let (mut abs, mut rel) = (0f64, 0f64);
    for (g, w) in got.iter().zip(want) {
        let gt = TensorData {
            dtype: w.dtype,
            shape: w.shape.clone(),
            bytes: g.clone(),
        };
        for (a, b) in gt.to_f64().iter().zip(w.to_f64()) {
            let d = if a.is_nan() && b.is_nan() {
                0.0
            } else {
                (a - b).abs()
            };
            let d = if d.is_nan() { f64::INFINITY } else { d };
            abs = abs.max(d);
            rel = rel.max(d / b.abs().max(1e-12));
        }
    }
    let float = want
        .iter()
        .all(|t| t.dtype == DType::F32 || t.dtype == DType::F64);
    Comparison {
        max_abs: abs,
        max_rel: rel,
        matches: if float { abs <= tolerance } else { abs == 0.0 },
    }
}

/// How a run is checked.
#[derive(Debug, Clone)]
pub struct Check {
    /// Expected outputs file (default: the host build's outputs).
    pub expect: Option<PathBuf>,
    /// Largest absolute difference accepted on floating-point outputs.
    pub tolerance: f64,
}

impl Default for Check {
    fn default() -> Self {
        Check {
            expect: None,
            tolerance: 1e-4,
        }
    }
}

/// The figures of a checked run (the keys of `zant run --json`).
#[derive(Debug, Clone, Serialize)]
pub struct RunFigures {
    /// Board.
    pub board: String,
    /// Model.
    pub model: String,
    /// Firmware ELF.
    pub elf: String,
    /// Flash bytes.
    pub flash_bytes: u64,
    /// Static RAM bytes (with the reserved stack).
    pub ram_bytes: u64,
    /// Arena bytes.
    pub arena_bytes: u64,
    /// Weight bytes.
    pub weights_bytes: u64,
    /// Code bytes.
    pub code_bytes: u64,
    /// Reserved stack bytes.
    pub stack_bytes: u64,
    /// Regions.
    pub regions: Vec<RegionUse>,
    /// Project directory (as `zant build --json` gives it).
    pub project: String,
    /// Flash bytes neither code nor weights.
    pub other_flash_bytes: u64,
    /// RAM bytes neither arena nor stack.
    pub other_ram_bytes: u64,
    /// Code of the model crate.
    pub model_code_bytes: u64,
    /// Code of the runtime and HAL.
    pub runtime_code_bytes: u64,
    /// The largest symbols.
    pub largest_symbols: Vec<zant_firmware::SymbolSize>,
    /// ESP32 boards: the flash image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flash_image: Option<FlashImage>,
    /// Multiply-accumulates per inference.
    pub macs: u64,
    /// Guest instructions per inference (QEMU).
    pub instructions_per_inference: Option<u64>,
    /// Instructions per MAC.
    pub instructions_per_mac: Option<f64>,
    /// Cycles per inference (hardware).
    pub cycles_per_inference: Option<u64>,
    /// Latency at the board's clock (hardware).
    pub latency_us: Option<f64>,
    /// Deepest stack use measured at run time.
    pub stack_peak_bytes: Option<u64>,
    /// RAM the program used: static RAM without the reservation + stack peak.
    pub ram_used_bytes: Option<u64>,
    /// Largest absolute error against the expected outputs.
    pub max_abs_error: f64,
    /// Largest relative error.
    pub max_rel_error: f64,
    /// Whether the outputs match within the tolerance.
    pub outputs_match: bool,
    /// Where the expected outputs came from.
    pub reference: String,
    /// With [`RunOptions::functions`] on a QEMU board: the instructions of
    /// the inference by function of the ELF, most first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub functions: Option<Vec<FunctionInstructions>>,
}

/// The instructions one function of the firmware executed in the counted
/// inference ([`RunFigures::functions`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionInstructions {
    /// Demangled name without the hash, or `(no symbol)`.
    pub function: String,
    /// Guest instructions.
    pub instructions: u64,
    /// Share of the inference's instructions (0 to 1).
    pub share: f64,
}

/// Computes the reference, runs the firmware on its target and compares.
/// Outputs that differ are not an error here: see
/// [`RunFigures::outputs_match`].
pub fn run(
    b: &Built,
    check: &Check,
    opts: &RunOptions,
    progress: &dyn Progress,
) -> Result<RunFigures, PipelineError> {
    Ok(run_outcome(b, check, opts, progress)?.0)
}

/// [`run`] on a profiling build ([`build_profiling`]): the checked figures
/// of the profiling build and its per-layer [`Profile`].
pub fn run_profiled(
    b: &Built,
    check: &Check,
    opts: &RunOptions,
    progress: &dyn Progress,
) -> Result<(RunFigures, Profile), PipelineError> {
    profile::profiling_manifest(b)?;
    let (f, o) = run_outcome(b, check, opts, progress)?;
    let p = profile::profile(b, &o)?;
    Ok((f, p))
}

fn run_outcome(
    b: &Built,
    check: &Check,
    opts: &RunOptions,
    progress: &dyn Progress,
) -> Result<(RunFigures, TargetOutcome), PipelineError> {
    let want = reference(b, check.expect.as_deref(), progress)?;
    let o = run_on_target(b, opts, progress)?;
    let n_out = b.compiled.outputs.len();
    if o.report.outputs.len() != n_out {
        return Err(PipelineError::OutputCount {
            got: o.report.outputs.len(),
            want: n_out,
        });
    }
    let c = compare(&o.report.outputs, &want.outputs, check.tolerance);
    let f = &b.footprint;
    let figures = RunFigures {
        board: b.board.name.clone(),
        model: b.graph.name.clone(),
        elf: f.elf.display().to_string(),
        flash_bytes: f.flash_bytes,
        ram_bytes: f.ram_bytes,
        arena_bytes: f.arena_bytes,
        weights_bytes: f.weights_bytes,
        code_bytes: f.code_bytes,
        stack_bytes: f.stack_bytes,
        regions: f.regions.clone(),
        project: b.dir.display().to_string(),
        other_flash_bytes: f.other_flash_bytes,
        other_ram_bytes: f.other_ram_bytes,
        model_code_bytes: f.model_code_bytes,
        runtime_code_bytes: f.runtime_code_bytes,
        largest_symbols: f.largest_symbols.clone(),
        flash_image: b.flash_image.clone(),
        macs: b.macs,
        instructions_per_inference: o.instructions,
        instructions_per_mac: o.instructions.map(|i| i as f64 / b.macs.max(1) as f64),
        cycles_per_inference: o.cycles,
        latency_us: o.cycles.map(|c| c as f64 / b.board.clock_hz as f64 * 1e6),
        stack_peak_bytes: o.stack_peak,
        ram_used_bytes: o.stack_peak.map(|p| f.ram_bytes - f.stack_bytes + p),
        max_abs_error: c.max_abs,
        max_rel_error: c.max_rel,
        outputs_match: c.matches,
        reference: want.source,
        functions: o.functions.as_ref().map(|fs| {
            let total = o.instructions.unwrap_or(0).max(1) as f64;
            fs.iter()
                .map(|f| FunctionInstructions {
                    function: f.function.clone(),
                    instructions: f.instructions,
                    share: f.instructions as f64 / total,
                })
                .collect()
        }),
    };
    Ok((figures, o))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32s(v: &[f32]) -> TensorData {
        TensorData::from_f32(vec![v.len()], v)
    }

    fn raw(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn floats_match_within_the_tolerance_and_nan_matches_nan() {
        let want = [f32s(&[1.0, f32::NAN, -2.0])];
        let c = compare(&[raw(&[1.00005, f32::NAN, -2.0])], &want, 1e-4);
        assert!(c.matches && c.max_abs > 0.0 && c.max_abs < 1e-4, "{c:?}");
        let c = compare(&[raw(&[1.0, 0.0, -2.0])], &want, 1e-4);
        assert!(!c.matches && c.max_abs.is_infinite(), "{c:?}");
    }

    #[test]
    fn integers_match_only_exactly() {
        let want = [TensorData {
            dtype: DType::I8,
            shape: vec![2],
            bytes: vec![1, 2],
        }];
        assert!(compare(&[vec![1, 2]], &want, 10.0).matches);
        assert!(!compare(&[vec![1, 3]], &want, 10.0).matches);
    }

    #[test]
    fn shapes_read_with_times_signs() {
        assert_eq!(shape_text(&[1, 8, 28, 28]), "1×8×28×28");
        assert_eq!(shape_text(&[]), "scalar");
    }
}
