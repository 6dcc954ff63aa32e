//! Options shared by several subcommands and the model-loading step.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use zant_codegen::load::{self, LoadError, LoadOptions};
use zant_codegen::plan;
use zant_codegen::Graph;

use crate::out::CliError;

/// Model-related options.
#[derive(Debug, Clone, clap::Args)]
pub struct ModelArgs {
    /// The ONNX model file.
    pub model: PathBuf,
    /// Bind a dynamic input's shape: `--shape NAME=1,1,28,28` (repeatable).
    /// Unbound dynamic dimensions are 1.
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
}

impl ModelArgs {
    /// Parses `--shape` options.
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
        Ok(LoadOptions {
            shapes,
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
}

/// Maps a load error to a CLI error: unsupported operators fail the job (1),
/// everything else is an input error (2).
pub fn load_error(path: &Path, e: LoadError) -> CliError {
    let code = match e {
        LoadError::Unsupported(_) => 1,
        _ => 2,
    };
    CliError {
        code,
        error: anyhow!(e).context(format!("cannot load model {}", path.display())),
    }
}

/// Imports a model.
pub fn load_model(args: &ModelArgs) -> Result<Graph, CliError> {
    let opts = args.load_options()?;
    load::load_file(&args.model, &opts).map_err(|e| load_error(&args.model, e))
}

/// The kernel set of `--board B` (the portable set without a board).
pub fn kernel_set(board: Option<&str>) -> Result<zant_codegen::KernelSet, CliError> {
    match board {
        None => Ok(zant_codegen::KernelSet::portable()),
        Some(b) => zant_boards::resolve(b)
            .map(|b| zant_codegen::KernelSet::for_board(&b))
            .map_err(super::boards::board_error),
    }
}
