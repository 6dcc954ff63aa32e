//! `zant budget check [FILE]` and `zant budget update [FILE]`: the CI gate
//! on flash, RAM, arena and instructions per inference, and its baselines.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use serde::Serialize;
use zant_budget::{BudgetFile, Measurement, Metric};
use zant_pipeline::{Check, Request, RunOptions, Silent};

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
    /// Cases built and run at a time (firmware builds and QEMU runs).
    #[arg(short = 'j', long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    jobs: u64,
    /// Only this machine's part of the entries: the K-th of N parts (from
    /// 1), split in file order, so N CI machines run every entry once.
    #[arg(long, value_name = "K/N")]
    shard: Option<zant_budget::Shard>,
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
        /// Also write a JUnit XML report (one test case per entry) to FILE.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
    },
    /// Measure every entry and rewrite the baselines file, showing what changed.
    Update {
        #[command(flatten)]
        common: Common,
    },
}

/// What measuring the entries gave: each entry's figures or its error, and
/// its wall-clock time.
struct Measured {
    ok: BTreeMap<String, Measurement>,
    failed: BTreeMap<String, CliError>,
    times: BTreeMap<String, Duration>,
}

impl Measured {
    /// Every failure's message, by entry.
    fn messages(&self) -> BTreeMap<String, String> {
        self.failed
            .iter()
            .map(|(n, e)| (n.clone(), out::error_text(e)))
            .collect()
    }

    /// The error a command ends with when entries failed: that entry's own
    /// (with its exit status) when one failed, else each one printed and
    /// their list (exit 1).
    fn error(&mut self) -> Option<CliError> {
        match self.failed.len() {
            0 => None,
            1 => self.failed.pop_first().map(|(_, e)| e),
            n => {
                for e in self.failed.values() {
                    out::error(e);
                }
                Some(CliError::failed(anyhow!(
                    "{n} entries failed: {}",
                    self.failed.keys().cloned().collect::<Vec<_>>().join(", ")
                )))
            }
        }
    }
}

/// Builds, runs (QEMU boards) and measures every entry, `--jobs` at a time;
/// an entry that fails is kept with its error and the others go on.
fn measure_all(b: &BudgetFile, c: &Common) -> Measured {
    let steps = std::sync::Mutex::new(Steps::new(c.quiet));
    let running = std::sync::atomic::AtomicUsize::new(0);
    let results = zant_budget::run_parallel(&b.entries, c.jobs as usize, |e| {
        let now = running.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        let msg = if c.jobs > 1 {
            format!("{}: building and measuring ({now} running)", e.name)
        } else {
            format!("{}: building and measuring", e.name)
        };
        steps.lock().unwrap_or_else(|p| p.into_inner()).step(&msg);
        let start = Instant::now();
        let r = measure(b, c, e).map_err(|err| err.context(format!("entry `{}`", e.name)));
        running.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        (r, start.elapsed())
    });
    steps
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .finish();
    let mut m = Measured {
        ok: BTreeMap::new(),
        failed: BTreeMap::new(),
        times: BTreeMap::new(),
    };
    for (e, (r, t)) in b.entries.iter().zip(results) {
        m.times.insert(e.name.clone(), t);
        match r {
            Ok(x) => {
                m.ok.insert(e.name.clone(), x);
            }
            Err(err) => {
                m.failed.insert(e.name.clone(), err);
            }
        }
    }
    m
}

/// Builds, runs (QEMU boards) and measures one entry.
fn measure(b: &BudgetFile, c: &Common, e: &zant_budget::Entry) -> Result<Measurement, CliError> {
    let dir = c.build_dir.join(e.name.replace(['/', '@'], "-"));
    let board = zant_boards::resolve(&board_arg(b, &e.board))?;
    let mut req = Request::new(b.model_path(e), board);
    req.out = Some(dir);
    req.input = e.input.as_ref().map(|p| b.resolve(p));
    if req.board.is_qemu() {
        let check = Check {
            expect: e.expect.as_ref().map(|p| b.resolve(p)),
            tolerance: e.tolerance.unwrap_or(Check::default().tolerance),
        };
        let opts = RunOptions {
            timeout: Duration::from_secs(300),
            ..Default::default()
        };
        req.then = Some(zant_pipeline::Then {
            check: check.clone(),
            run: opts.clone(),
        });
        let built = zant_pipeline::build(&req, &Silent)?;
        let j = zant_pipeline::run(&built, &check, &opts, &Silent)?;
        if !j.outputs_match {
            return Err(CliError::failed(anyhow!(
                "outputs differ from the reference ({}) by {:.3e}",
                j.reference,
                j.max_abs_error
            )));
        }
        let node_instructions = if e.node_limits.is_empty() {
            BTreeMap::new()
        } else {
            node_instructions(&req, &check, &opts, e)?
        };
        Ok(Measurement {
            flash_bytes: j.flash_bytes,
            ram_bytes: j.ram_bytes,
            arena_bytes: j.arena_bytes,
            instructions: j.instructions_per_inference,
            symbols: zant_budget::elf_symbols(built.elf()).map_err(CliError::failed)?,
            node_instructions,
        })
    } else {
        if e.limits.contains_key(&Metric::Instructions) || !e.node_limits.is_empty() {
            return Err(CliError::input(anyhow!(
                "an instructions limit needs a QEMU board (`{}` is hardware)",
                req.board.name
            )));
        }
        let built = zant_pipeline::build(&req, &Silent)?;
        let f = &built.footprint;
        Ok(Measurement {
            flash_bytes: f.flash_bytes,
            ram_bytes: f.ram_bytes,
            arena_bytes: f.arena_bytes,
            instructions: None,
            symbols: zant_budget::elf_symbols(&f.elf).map_err(CliError::failed)?,
            node_instructions: BTreeMap::new(),
        })
    }
}

/// The instructions of every node of an entry with per-node limits: the
/// profiling build (a marker between nodes), in its own directory beside the
/// entry's, run and checked like the normal one. A limit on a node the
/// model does not have is an input error that names the nodes it has.
fn node_instructions(
    req: &Request,
    check: &Check,
    opts: &RunOptions,
    e: &zant_budget::Entry,
) -> Result<BTreeMap<String, u64>, CliError> {
    let mut req = req.clone();
    req.out = req.out.as_ref().map(|d| {
        let mut s = d.clone().into_os_string();
        s.push("-profile");
        PathBuf::from(s)
    });
    let built = zant_pipeline::build_profiling(&req, &Silent)?;
    let (j, p) = zant_pipeline::run_profiled(&built, check, opts, &Silent)?;
    if !j.outputs_match {
        return Err(CliError::failed(anyhow!(
            "the profiling build's outputs differ from the reference ({}) by {:.3e}",
            j.reference,
            j.max_abs_error
        )));
    }
    let names: Vec<&str> = p.nodes.iter().map(|n| n.name.as_str()).collect();
    let unknown: Vec<String> = e
        .node_limits
        .keys()
        .filter(|k| !names.contains(&k.as_str()))
        .map(|k| {
            let close = zant_common::suggest::close_matches(k, &names);
            match close.first() {
                Some(c) => format!("`{k}` (did you mean `{c}`?)"),
                None => format!("`{k}`"),
            }
        })
        .collect();
    if !unknown.is_empty() {
        return Err(CliError::input(anyhow!(
            "node-instructions names {} that the compiled model does not run; its nodes are {}",
            unknown.join(", "),
            names.join(", ")
        )));
    }
    Ok(p.nodes.iter().map(|n| (n.name.clone(), n.count)).collect())
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
    /// Entries that could not be built or run, with why.
    failed: BTreeMap<String, String>,
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
            junit,
        } => {
            let b = BudgetFile::load(&common.file)?;
            let b = match common.shard {
                Some(s) => b.shard(s),
                None => b,
            };
            let baselines = zant_budget::Baselines::load(&b.baseline_path())?;
            b.require_baselines(&baselines)?;
            let mut measured = measure_all(&b, &common);
            let report = zant_budget::check(&b, &baselines, &measured.ok);
            if let Some(path) = &junit {
                let xml = zant_budget::junit(&b, &report, &measured.messages(), &measured.times);
                std::fs::write(path, xml).map_err(|e| {
                    CliError::input(anyhow!("cannot write {}: {e}", path.display()))
                })?;
            }
            let format = if json { "json".to_string() } else { format };
            match format.as_str() {
                "json" => out::json(&CheckJson {
                    file: common.file.display().to_string(),
                    over: report.over(),
                    failed: measured.messages(),
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
            if let Some(e) = measured.error() {
                return Err(e);
            }
            if report.over() {
                let over: Vec<String> = report
                    .rows
                    .iter()
                    .filter(|r| r.verdict == zant_budget::Verdict::Over)
                    .map(|r| format!("{} {}", r.entry, r.what()))
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
            let b = match common.shard {
                Some(s) => b.shard(s),
                None => b,
            };
            let path = b.baseline_path();
            let old = zant_budget::Baselines::load(&path)?;
            let mut measured = measure_all(&b, &common);
            let mut t = out::table(&["entry", "metric", "old", "new", "change"], &[2, 3, 4]);
            for (name, m) in &measured.ok {
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
            for (name, m) in &measured.ok {
                for (node, &n) in &m.node_instructions {
                    let o = old
                        .entries
                        .get(name)
                        .and_then(|o| o.node_instructions.get(node).copied());
                    let change = match o {
                        Some(o) if o == n => "unchanged".to_string(),
                        Some(o) => format!(
                            "{:+} ({:+.2}%)",
                            n as i64 - o as i64,
                            100.0 * (n as f64 - o as f64) / o.max(1) as f64
                        ),
                        None => "new".to_string(),
                    };
                    t.add_row(vec![
                        name.clone(),
                        format!("node-instructions {node}"),
                        o.map(out::thousands).unwrap_or_else(|| "—".into()),
                        out::thousands(n),
                        change,
                    ]);
                }
            }
            for name in measured.failed.keys() {
                t.add_row(vec![
                    name.clone(),
                    "—".into(),
                    "—".into(),
                    "—".into(),
                    "failed: baseline kept".into(),
                ]);
            }
            // Entries of the file not measured here (another shard's, or
            // failed) keep their recorded baselines; entries no longer in
            // the file are dropped when the whole file was measured.
            let mut entries = measured.ok.clone();
            for (name, m) in &old.entries {
                let in_file = b.entries.iter().any(|e| &e.name == name);
                let keep =
                    measured.failed.contains_key(name) || (common.shard.is_some() && !in_file);
                if keep {
                    entries.entry(name.clone()).or_insert_with(|| m.clone());
                }
            }
            let new = zant_budget::Baselines {
                version: 1,
                entries,
            };
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| CliError::failed(anyhow!("{}: {e}", parent.display())))?;
            }
            new.save(&path).map_err(CliError::failed)?;
            out::print(&t.to_string());
            out::print(&format!("wrote {}", path.display()));
            match measured.error() {
                Some(e) => Err(e),
                None => Ok(()),
            }
        }
    }
}
