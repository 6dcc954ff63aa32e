//! Argument groups shared by several subcommands, and their translation
//! into the library's requests.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::anyhow;
use zant_codegen::load::{self, LoadOptions};
use zant_codegen::plan;
use zant_codegen::Graph;
use zant_pipeline::{Check, Request, RunOptions};

use crate::out::CliError;

/// Model-related options.
#[derive(Debug, Clone, clap::Args)]
pub struct ModelArgs {
    /// The ONNX model file.
    pub model: PathBuf,
    /// Bind a dynamic input's shape: `--shape NAME=1,1,28,28` (repeatable).
    /// A dynamic dimension left unbound is an error that names it.
    #[arg(long = "shape", value_name = "NAME=D0,D1,…")]
    pub shapes: Vec<String>,
    /// Bind an input to a constant, raw little-endian FILE in the input's type
    /// and shape: shapes, axes, scales or indices fixed in your deployment
    /// (repeatable). The input disappears from `predict`.
    #[arg(long = "const", value_name = "NAME=FILE")]
    pub constants: Vec<String>,
    /// Memory planner: greedy-by-size (default) or naive.
    #[arg(long, default_value = "greedy-by-size", value_name = "NAME")]
    pub planner: String,
    /// Bind a named dynamic dimension in every input that uses it:
    /// `--dim batch=1` (repeatable).
    #[arg(long = "dim", value_name = "NAME=N")]
    pub dims: Vec<String>,
}

impl ModelArgs {
    /// Parses `--shape` and `--const` options.
    pub fn load_options(&self) -> Result<LoadOptions, CliError> {
        let mut shapes = BTreeMap::new();
        for s in &self.shapes {
            let (name, dims) = s
                .split_once('=')
                .ok_or_else(|| CliError::input(anyhow!("--shape `{s}`: expected NAME=D0,D1,…")))?;
            let dims: Result<Vec<usize>, _> =
                dims.split(',').map(|d| d.trim().parse::<usize>()).collect();
            let dims = dims.map_err(|_| {
                CliError::input(anyhow!(
                    "--shape `{s}`: dimensions must be non-negative integers"
                ))
            })?;
            shapes.insert(name.to_string(), dims);
        }
        let mut constant_bytes = BTreeMap::new();
        for c in &self.constants {
            let (name, file) = c
                .split_once('=')
                .ok_or_else(|| CliError::input(anyhow!("--const `{c}`: expected NAME=FILE")))?;
            let bytes = std::fs::read(file)
                .map_err(|e| CliError::input(anyhow!("--const {name}: cannot read {file}: {e}")))?;
            constant_bytes.insert(name.to_string(), bytes);
        }
        let mut dims = BTreeMap::new();
        for d in &self.dims {
            let v = d
                .split_once('=')
                .and_then(|(n, v)| Some((n, v.trim().parse::<usize>().ok()?)))
                .filter(|(n, v)| !n.is_empty() && *v > 0)
                .ok_or_else(|| {
                    CliError::input(anyhow!(
                        "--dim `{d}`: expected NAME=N with N a whole number ≥ 1 (e.g. --dim batch=1)"
                    ))
                })?;
            dims.insert(v.0.to_string(), v.1);
        }
        Ok(LoadOptions {
            shapes,
            dims,
            constant_bytes,
            ..Default::default()
        })
    }

    /// The chosen planner.
    pub fn planner(&self) -> Result<Box<dyn plan::Planner>, CliError> {
        plan::planner_by_name(&self.planner).ok_or_else(|| {
            let names: Vec<&str> = plan::planners().iter().map(|p| p.name()).collect();
            CliError::input(anyhow!(
                "unknown planner `{}` (known: {})",
                self.planner,
                names.join(", ")
            ))
        })
    }

    /// Imports the model.
    pub fn load(&self) -> Result<Graph, CliError> {
        let opts = self.load_options()?;
        load::load_file(&self.model, &opts).map_err(|e| {
            CliError::from(e).context(format!("cannot load model {}", self.model.display()))
        })
    }
}

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
    /// Pass --offline to cargo: no network; the firmware's crates must be in
    /// cargo's cache (a first build of the same runtime puts them there).
    #[arg(long)]
    pub offline: bool,
    /// Pass --locked to cargo: build with the Cargo.lock zant writes (the
    /// versions it pins and tests), failing if it would need a change.
    #[arg(long)]
    pub locked: bool,
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

impl BuildArgs {
    /// The pipeline's request: the board resolved, the load options parsed.
    pub fn request(&self) -> Result<Request, CliError> {
        let board = zant_boards::resolve(&self.board)?;
        Ok(Request {
            model: self.model.model.clone(),
            load: self.model.load_options()?,
            planner: self.model.planner.clone(),
            board,
            out: self.out.clone(),
            input: self.input.clone(),
            force: self.force,
            verbose: self.verbose,
            offline: self.offline,
            locked: self.locked,
            opt: self.opt.into(),
            then: None,
        })
    }
}

/// Options of run/bench/deploy beyond building.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub build: BuildArgs,
    /// Expected outputs: raw little-endian file in the model's output type and
    /// layout (default: zant's host build of the same model on the same input).
    #[arg(long, value_name = "FILE")]
    pub expect: Option<PathBuf>,
    /// Largest absolute difference accepted between target and expected outputs.
    #[arg(long, default_value_t = 1e-4, value_name = "ABS", value_parser = parse_tolerance)]
    pub tolerance: f64,
    /// Time limit of one run on the target, in seconds (at least 1).
    #[arg(long, default_value_t = 120, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// Debug probe to use when several are attached: VID:PID[:SERIAL] (hex).
    #[arg(long, value_name = "VID:PID[:SERIAL]")]
    pub probe: Option<String>,
    /// Serial port of an ESP32 board (default: the only ESP32 USB adapter attached).
    #[arg(long, value_name = "PORT")]
    pub port: Option<String>,
}

impl RunArgs {
    /// The pipeline's request, with the run that follows so that the build
    /// checks it first.
    pub fn request(&self) -> Result<Request, CliError> {
        let mut req = self.build.request()?;
        req.then = Some(zant_pipeline::Then {
            check: self.check(),
            run: self.run_options(),
        });
        Ok(req)
    }

    /// How the run is checked.
    pub fn check(&self) -> Check {
        Check {
            expect: self.expect.clone(),
            tolerance: self.tolerance,
        }
    }

    /// How to run on the target.
    pub fn run_options(&self) -> RunOptions {
        RunOptions {
            timeout: Duration::from_secs(self.timeout),
            probe: self.probe.clone(),
            port: self.port.clone(),
            functions: false,
        }
    }
}

/// `-v`/`-q`, accepted by every subcommand (scripts pass them uniformly).
/// Commands that print only their result accept them and print it anyway;
/// `compile -q` prints nothing on success.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct Verbosity {
    /// More output.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Less output.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// Parses `--tolerance`: a finite, non-negative number (`nan` would accept
/// any output, `inf` too, a negative one none).
pub fn parse_tolerance(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number"))?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!(
            "`{s}`: the tolerance must be a finite number ≥ 0 (e.g. 1e-4)"
        ));
    }
    Ok(v)
}

/// The kernel set of `--board B` (the portable set without a board).
pub fn kernel_set(board: Option<&str>) -> Result<zant_codegen::KernelSet, CliError> {
    match board {
        None => Ok(zant_codegen::KernelSet::portable()),
        Some(b) => Ok(zant_codegen::KernelSet::for_board(&zant_boards::resolve(
            b,
        )?)),
    }
}

/// `--profile` and `--sort` of bench and deploy: the per-layer profile.
#[derive(Debug, Clone, clap::Args)]
pub struct ProfileArgs {
    /// Also build the firmware with a marker between nodes, run it, and print
    /// each node's instructions (QEMU, exact) or cycles (hardware), MACs,
    /// per-MAC figure and share; the normal build's figures stay apart.
    #[arg(long)]
    pub profile: bool,
    /// Order of the per-node table: `order` (execution) or `share` (largest first).
    #[arg(long, value_enum, default_value_t = SortArg::Order, value_name = "order|share", requires = "profile")]
    pub sort: SortArg,
}

/// `--sort`: the order of the per-node table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SortArg {
    /// Execution order.
    Order,
    /// Largest share first.
    Share,
}

impl From<SortArg> for zant_pipeline::SortBy {
    fn from(s: SortArg) -> Self {
        match s {
            SortArg::Order => zant_pipeline::SortBy::Order,
            SortArg::Share => zant_pipeline::SortBy::Share,
        }
    }
}
