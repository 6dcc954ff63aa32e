//! `zant compile MODEL.onnx -o DIR`: the model as a `no_std` Rust library crate.

use std::path::PathBuf;

use serde::Serialize;
use zant_codegen::krate::{self, CrateManifest};

use crate::args::{kernel_set, ModelArgs};
use crate::out::{self, CliResult};

/// Arguments of `zant compile`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "The crate is `#![no_std]`, has no dependencies and no heap; weights are `static` data in flash. \
Use it from your firmware with `predict(&input, &mut output)` or `predict_in(&mut arena, …)`."
)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    verbosity: crate::args::Verbosity,
    /// Directory to write the crate into.
    #[arg(short, long, value_name = "DIR")]
    out: PathBuf,
    /// Cargo package name of the crate (default: from the model's file name,
    /// `mnist-8.onnx` → `mnist-8-model`, made valid whatever the file is called).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Overwrite a directory zant did not create.
    #[arg(long)]
    force: bool,
    /// Print one JSON object describing the crate.
    #[arg(long)]
    json: bool,
    /// Compile for this board's kernel set (a built-in name, an alias or a
    /// board TOML); without it, the portable kernels.
    #[arg(long, short)]
    board: Option<String>,
}

#[derive(Serialize)]
struct Report<'a> {
    dir: String,
    #[serde(flatten)]
    manifest: &'a CrateManifest,
}

/// Runs `zant compile`.
pub fn run(args: Args) -> CliResult {
    let planner = args.model.planner()?;
    let set = kernel_set(args.board.as_deref())?;
    if let Some(n) = &args.name {
        krate::check_package_name(n)?;
    }
    krate::check_dir(&args.out, args.force)?;
    let graph = args.model.load()?;
    let (compiled, plan) = zant_codegen::compile_for(&graph, planner.as_ref(), &set);
    let package = args
        .name
        .clone()
        .unwrap_or_else(|| krate::package_name(&compiled.name));
    let files = krate::crate_files_named(&compiled, &plan, &set, &package)?;
    krate::write_crate(&files, &args.out, args.force)?;
    if let Some(ws) = krate::enclosing_workspace(&args.out) {
        out::note(&format!(
            "{} is inside the cargo workspace of {}: list it there in `members` (to build it with the workspace) or `exclude` (to build it on its own), or cargo refuses to build it",
            args.out.display(),
            ws.display()
        ));
    }
    let m = &files.manifest;
    if args.json {
        return out::json(&Report {
            dir: args.out.display().to_string(),
            manifest: m,
        });
    }
    if args.verbosity.quiet {
        return Ok(());
    }
    out::print(&format!(
        "{} {} → {}",
        out::green("compiled"),
        graph.name,
        args.out.display()
    ));
    let mut t = out::table(&["", ""], &[]);
    t.add_row(vec!["package".to_string(), m.package.clone()]);
    for (kind, list) in [("input", &m.surface.inputs), ("output", &m.surface.outputs)] {
        for io in list {
            t.add_row(vec![
                kind.to_string(),
                format!(
                    "{}: [{}; {}]  (`{}` {})",
                    io.ident,
                    io.elem,
                    io.len,
                    io.name,
                    out::shape(&io.shape)
                ),
            ]);
        }
    }
    t.add_row(vec![
        "weights".to_string(),
        format!(
            "{} B (static, flash)",
            out::thousands(m.surface.weight_bytes as u64)
        ),
    ]);
    t.add_row(vec![
        "arena".to_string(),
        format!(
            "{} B ({}; lower bound {} B)",
            out::thousands(m.surface.arena_bytes as u64),
            m.planner,
            out::thousands(m.arena_lower_bound_bytes as u64)
        ),
    ]);
    t.add_row(vec!["kernel set".to_string(), m.kernel_set.clone()]);
    out::print(&t.to_string());
    out::print("");
    let mut k = out::table(&["node", "kernel"], &[]);
    for nk in &m.kernels {
        k.add_row(vec![nk.node.clone(), nk.kernel.clone()]);
    }
    out::print(&k.to_string());
    Ok(())
}
