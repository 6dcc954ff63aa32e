//! `zant inspect MODEL.onnx`: per-node table and totals.

use std::path::PathBuf;

use anyhow::anyhow;
use zant_codegen::emit;
use zant_codegen::load::{self, LoadError};
use zant_codegen::passes::{self, PassOptions};
use zant_codegen::plan;
use zant_codegen::report::{self, ModelReport};

use crate::args::{kernel_set, ModelArgs};
use crate::out::{self, CliError, CliResult};

/// Arguments of `zant inspect`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "The arena is printed next to its lower bound for the compiled (fused) graph (JSON `arena_lower_bound_bytes`): the largest sum, over the nodes in execution order, of the arena buffers live at that node. Views share their source's buffer; a node that runs in place (element-wise ops, a residual Add, a 1x1 or depthwise convolution no larger than its input) shares its input's buffer and adds its scratch at its own step; caller inputs, outputs and weights are not counted. No placement of those buffers uses less; the arena table lists every buffer, scratches included, at its offset.\n\nExit status: 0 when the model can be compiled, 1 when it uses operators zant does not support (all are listed), 2 when the file is not a valid model."
)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    verbosity: crate::args::Verbosity,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Show the kernels this board's kernel set picks (a built-in name, an
    /// alias or a board TOML); without it, the portable kernels.
    #[arg(long, short)]
    board: Option<String>,
}

/// Runs `zant inspect`.
pub fn run(args: Args) -> CliResult {
    let opts = args.model.load_options()?;
    let planner = args.model.planner()?;
    let set = kernel_set(args.board.as_deref())?;
    let path: PathBuf = args.model.model.clone();
    let bytes = std::fs::read(&path)
        .map_err(|e| CliError::input(anyhow!("cannot read {}: {e}", path.display())))?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match load::load_bytes(&bytes, &name, &opts) {
        Ok(graph) => {
            let opts = PassOptions {
                kernels: set,
                ..Default::default()
            };
            let compiled = passes::run(&graph, &opts);
            let p = plan::plan(&compiled, planner.as_ref());
            let mut r = report::model_report(&graph, &compiled, &p);
            let kernels = emit::node_kernels(&compiled, &p, &set)
                .map_err(|e| CliError::failed(anyhow!("{e}")))?;
            report::set_kernels(&mut r, set.name(), &kernels);
            if args.json {
                out::json(&r)
            } else {
                print_report(&r);
                Ok(())
            }
        }
        Err(LoadError::Unsupported(list)) => {
            let survey = load::survey_bytes(&bytes).map_err(|e| load_error(&path, e))?;
            let r = report::survey_report(&name, &load::sha256_hex(&bytes), &survey);
            if args.json {
                out::json(&r)?;
            } else {
                print_survey(&r);
            }
            Err(load_error(&path, LoadError::Unsupported(list)))
        }
        Err(e) => Err(load_error(&path, e)),
    }
}

fn print_report(r: &ModelReport) {
    out::print(&format!(
        "{}  opset {}  sha256 {}",
        out::bold(&r.model),
        r.opset,
        &r.sha256[..16]
    ));
    let mut t = out::table(
        &[
            "#",
            "node",
            "op",
            "inputs",
            "outputs",
            "params",
            "MACs",
            "out bytes",
            "kernel",
        ],
        &[0, 5, 6, 7],
    );
    for (i, n) in r.nodes.iter().enumerate() {
        let ins: Vec<String> = n.input_shapes.iter().map(|s| out::shape(s)).collect();
        let outs: Vec<String> = n.output_shapes.iter().map(|s| out::shape(s)).collect();
        t.add_row(vec![
            i.to_string(),
            n.name.clone(),
            n.op.clone(),
            ins.join(" "),
            outs.join(" "),
            out::thousands(n.params as u64),
            out::thousands(n.macs),
            out::thousands(n.output_bytes as u64),
            n.kernel.clone().unwrap_or_default(),
        ]);
    }
    out::print(&t.to_string());
    out::print("");
    let mut s = out::table(&["total", "value"], &[1]);
    s.add_row(vec!["kernel set".to_string(), r.kernel_set.clone()]);
    s.add_row(vec![
        "multiply-accumulates".to_string(),
        out::thousands(r.macs),
    ]);
    s.add_row(vec![
        "parameters".to_string(),
        out::thousands(r.params as u64),
    ]);
    for (ty, b) in &r.weight_bytes_by_type {
        s.add_row(vec![
            format!("  {ty}"),
            format!(
                "{} ({} B)",
                out::thousands(b.params as u64),
                out::thousands(b.bytes as u64)
            ),
        ]);
    }
    s.add_row(vec![
        "weight bytes".to_string(),
        out::thousands(r.weight_bytes as u64),
    ]);
    s.add_row(vec![
        "activation lower bound (graph order, fresh outputs)".to_string(),
        format!(
            "{} B",
            out::thousands(r.activation_lower_bound_bytes as u64)
        ),
    ]);
    s.add_row(vec![
        "arena lower bound (compiled graph, in place)".to_string(),
        format!("{} B", out::thousands(r.arena_lower_bound_bytes as u64)),
    ]);
    s.add_row(vec![
        format!("arena ({})", r.planner),
        format!("{} B", out::thousands(r.arena_bytes as u64)),
    ]);
    out::print(&s.to_string());
    out::print("");
    let mut a = out::table(&["arena region", "offset", "bytes", "tensors"], &[1, 2]);
    for b in &r.arena_buffers {
        a.add_row(vec![
            b.region.clone(),
            out::thousands(b.offset as u64),
            out::thousands(b.bytes as u64),
            b.tensors.join(", "),
        ]);
    }
    out::print(&a.to_string());
}

fn print_survey(r: &ModelReport) {
    out::print(&format!(
        "{}  opset {}  sha256 {}",
        out::bold(&r.model),
        r.opset,
        &r.sha256[..16]
    ));
    let mut t = out::table(&["#", "node", "op", "status"], &[0]);
    for (i, n) in r.nodes.iter().enumerate() {
        let bad = r.unsupported.iter().find(|u| u.node == n.name);
        let status = match bad {
            Some(u) => out::red(&format!("unsupported: {}", u.reason)),
            None => out::green("supported"),
        };
        t.add_row(vec![i.to_string(), n.name.clone(), n.op.clone(), status]);
    }
    out::print(&t.to_string());
    out::print("");
    let mut s = out::table(&["total", "value"], &[1]);
    s.add_row(vec!["nodes".to_string(), r.nodes.len().to_string()]);
    s.add_row(vec![
        "unsupported nodes".to_string(),
        r.unsupported.len().to_string(),
    ]);
    s.add_row(vec![
        "parameters (initializers)".to_string(),
        out::thousands(r.params as u64),
    ]);
    for (ty, b) in &r.weight_bytes_by_type {
        s.add_row(vec![
            format!("  {ty}"),
            format!(
                "{} ({} B)",
                out::thousands(b.params as u64),
                out::thousands(b.bytes as u64)
            ),
        ]);
    }
    out::print(&s.to_string());
    out::print("");
}

/// A load error with the model's path in front; its exit status is the
/// error's own (1 unsupported operators, 2 a bad file).
fn load_error(path: &std::path::Path, e: LoadError) -> CliError {
    CliError::from(e).context(format!("cannot load model {}", path.display()))
}
