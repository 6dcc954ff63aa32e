//! `zant budget check [FILE]` and `zant budget update [FILE]`: the CI gate
//! on flash, RAM, arena and instructions per inference, and its baselines.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::anyhow;
use serde::Serialize;
use zant_budget::{BudgetFile, Measurement, Metric};
use zant_pipeline::{Check, PipelineError, Request, RunOptions, Silent};

use crate::out::{self, CliError, CliResult};
use crate::progress::Steps;

/// Arguments of `zant budget`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Clone, clap::Args)]
struct Common {
    /// The budget file.
    #[arg(default_value = "zant-budget.toml")]
    file: PathBuf,
    /// Where the firmware projects are built.
    #[arg(long, default_value = "target/zant-budget", value_name = "DIR")]
    build_dir: PathBuf,
    /// Less output.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Build and measure every entry and compare with the limits; exit 1 when one is over.
    Check {
        #[command(flatten)]
        common: Common,
        /// Output format: table, markdown (for a pull-request comment) or json.
        #[arg(long, default_value = "table", value_parser = ["table", "markdown", "json"])]
        format: String,
        /// Same as --format json.
        #[arg(long)]
        json: bool,
    },
    /// Measure every entry and rewrite the baselines file, showing what changed.
    Update {
        #[command(flatten)]
        common: Common,
    },
}

/// Builds, runs (QEMU boards) and measures every entry.
fn measure_all(b: &BudgetFile, c: &Common) -> Result<BTreeMap<String, Measurement>, CliError> {
    let steps = Steps::new(c.quiet);
    let mut out = BTreeMap::new();
    for e in &b.entries {
        steps.step(&format!("{}: building and measuring", e.name));
        let dir = c.build_dir.join(e.name.replace(['/', '@'], "-"));
        let board = zant_boards::resolve(&board_arg(b, &e.board))?;
        let mut req = Request::new(b.model_path(e), board);
        req.out = Some(dir);
        req.input = e.input.as_ref().map(|p| b.resolve(p));
        let m = if req.board.is_qemu() {
            let check = Check {
                expect: e.expect.as_ref().map(|p| b.resolve(p)),
                tolerance: e.tolerance.unwrap_or(Check::default().tolerance),
            };
            let opts = RunOptions {
                timeout: Duration::from_secs(300),
                ..Default::default()
            };
            let in_entry =
                |err: PipelineError| CliError::from(err).context(format!("entry `{}`", e.name));
            let built = zant_pipeline::build(&req, &Silent).map_err(in_entry)?;
            let j = zant_pipeline::run(&built, &check, &opts, &Silent).map_err(in_entry)?;
            if !j.outputs_match {
                return Err(CliError::failed(anyhow!(
                    "entry `{}`: outputs differ from the reference ({}) by {:.3e}",
                    e.name,
                    j.reference,
                    j.max_abs_error
                )));
            }
            Measurement {
                flash_bytes: j.flash_bytes,
                ram_bytes: j.ram_bytes,
                arena_bytes: j.arena_bytes,
                instructions: j.instructions_per_inference,
                symbols: zant_budget::elf_symbols(built.elf()).map_err(CliError::failed)?,
            }
        } else {
            if e.limits.contains_key(&Metric::Instructions) {
                return Err(CliError::input(anyhow!(
                    "entry `{}`: an instructions limit needs a QEMU board (`{}` is hardware)",
                    e.name,
                    req.board.name
                )));
            }
            let built = zant_pipeline::build(&req, &Silent)?;
            let f = &built.footprint;
            Measurement {
                flash_bytes: f.flash_bytes,
                ram_bytes: f.ram_bytes,
                arena_bytes: f.arena_bytes,
                instructions: None,
                symbols: zant_budget::elf_symbols(&f.elf).map_err(CliError::failed)?,
            }
        };
        out.insert(e.name.clone(), m);
    }
    Ok(out)
}

/// A board given as a relative path in the budget file is relative to it.
fn board_arg(b: &BudgetFile, board: &str) -> String {
    if board.ends_with(".toml") {
        b.resolve(std::path::Path::new(board)).display().to_string()
    } else {
        board.to_string()
    }
}

#[derive(Serialize)]
struct CheckJson<'a> {
    file: String,
    over: bool,
    #[serde(flatten)]
    report: &'a zant_budget::Report,
}

/// Runs `zant budget`.
pub fn run(args: Args) -> CliResult {
    match args.action {
        Action::Check {
            common,
            format,
            json,
        } => {
            let b = BudgetFile::load(&common.file)?;
            let baselines = zant_budget::Baselines::load(&b.baseline_path())?;
            b.require_baselines(&baselines)?;
            let measured = measure_all(&b, &common)?;
            let report = zant_budget::check(&b, &baselines, &measured);
            let format = if json { "json".to_string() } else { format };
            match format.as_str() {
                "json" => out::json(&CheckJson {
                    file: common.file.display().to_string(),
                    over: report.over(),
                    report: &report,
                })?,
                "markdown" => out::print(&zant_budget::markdown(&report)),
                _ => {
                    let (header, rows) = zant_budget::table_cells(&report);
                    let mut t = out::table(&header, &[2, 3, 4, 5]);
                    for r in rows {
                        let color = match r[6].as_str() {
                            "OVER" => Some(comfy_table::Color::Red),
                            "ok" => Some(comfy_table::Color::Green),
                            _ => None,
                        };
                        let last = r.len() - 1;
                        let cells: Vec<comfy_table::Cell> = r
                            .iter()
                            .enumerate()
                            .map(|(i, c)| out::cell(c, if i == last { color } else { None }))
                            .collect();
                        t.add_row(cells);
                    }
                    out::print(&t.to_string());
                    for (entry, d) in &report.symbol_diffs {
                        if d.is_empty() {
                            continue;
                        }
                        out::print(&format!(
                            "\n{entry}: flash grew; symbols that changed, largest growth first:"
                        ));
                        for l in zant_budget::symbol_lines(d, 15) {
                            out::print(&format!("  {l}"));
                        }
                    }
                }
            }
            if report.over() {
                let over: Vec<String> = report
                    .rows
                    .iter()
                    .filter(|r| r.verdict == zant_budget::Verdict::Over)
                    .map(|r| format!("{} {}", r.entry, r.metric.key()))
                    .collect();
                return Err(CliError::failed(anyhow!(
                    "over budget: {}",
                    over.join(", ")
                )));
            }
            Ok(())
        }
        Action::Update { common } => {
            let b = BudgetFile::load(&common.file)?;
            let path = b.baseline_path();
            let old = zant_budget::Baselines::load(&path)?;
            let measured = measure_all(&b, &common)?;
            let mut t = out::table(&["entry", "metric", "old", "new", "change"], &[2, 3, 4]);
            for (name, m) in &measured {
                for metric in Metric::ALL {
                    let o = old.entries.get(name).and_then(|o| o.get(metric));
                    let n = m.get(metric);
                    if n.is_none() {
                        continue;
                    }
                    let change = match (o, n) {
                        (Some(o), Some(n)) if o == n => "unchanged".to_string(),
                        (Some(o), Some(n)) => format!(
                            "{:+} ({:+.2}%)",
                            n as i64 - o as i64,
                            100.0 * (n as f64 - o as f64) / o.max(1) as f64
                        ),
                        _ => "new".to_string(),
                    };
                    let fmt = |v: Option<u64>| v.map(out::thousands).unwrap_or_else(|| "—".into());
                    t.add_row(vec![
                        name.clone(),
                        metric.key().to_string(),
                        fmt(o),
                        fmt(n),
                        change,
                    ]);
                }
            }
            let new = zant_budget::Baselines {
                version: 1,
                entries: measured,
            };
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| CliError::failed(anyhow!("{}: {e}", parent.display())))?;
            }
            new.save(&path).map_err(CliError::failed)?;
            out::print(&t.to_string());
            out::print(&format!("wrote {}", path.display()));
            Ok(())
        }
    }
}
