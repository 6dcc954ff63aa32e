//! `zant build --board B MODEL.onnx [-o DIR]`: firmware project rendered and
//! cross-compiled; size table.

use crate::args::BuildArgs;
use crate::out::{self, CliResult};
use crate::progress::Steps;
use crate::render;

/// Arguments of `zant build`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "The project stays on disk: open it, change it, and `cargo build --release` it yourself. \
zant rewrites only the files it wrote and you left alone: building over a directory zant did not create, or over files you changed, needs --force."
)]
pub struct Args {
    #[command(flatten)]
    pub build: BuildArgs,
}

/// Runs `zant build`.
pub fn run(args: Args) -> CliResult {
    let a = &args.build;
    let steps = Steps::new(a.quiet || a.json);
    let b = zant_pipeline::build(&a.request()?, &steps)?;
    zant_pipeline::check_limits(&b)?;
    steps.finish();
    render::report_build(&b, a.json, "")?;
    if !a.json {
        out::print(&format!(
            "project: {} (an ordinary Cargo project: `cargo build --release` there)",
            b.dir.display()
        ));
    }
    Ok(())
}
