//! `zant compile MODEL.onnx -o DIR`: the model as a `no_std` Rust library crate.

use std::path::PathBuf;

use anyhow::anyhow;

use super::common::{load_model, ModelArgs};
use crate::out::{CliError, CliResult};

/// Arguments of `zant compile`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    /// Directory to write the crate into.
    #[arg(short, long, value_name = "DIR")]
    out: PathBuf,
    /// Overwrite a directory zant did not create.
    #[arg(long)]
    force: bool,
    /// Print one JSON object describing the crate.
    #[arg(long)]
    json: bool,
}

/// Runs `zant compile`.
pub fn run(args: Args) -> CliResult {
    let _graph = load_model(&args.model)?;
    let _ = (&args.out, args.force, args.json);
    Err(CliError::failed(anyhow!("compile: wiring in progress")))
}
