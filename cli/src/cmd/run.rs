//! `zant run` (one checked inference on the target) and `zant bench`
//! (build + run + check + figures).

use crate::args::{ProfileArgs, RunArgs};
use crate::out::{self, CliResult};
use crate::progress::Steps;
use crate::render;

/// Arguments of `zant run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub run: RunArgs,
}

/// Runs `zant run`.
pub fn run(args: Args) -> CliResult {
    let r = &args.run;
    let steps = Steps::new(r.build.quiet || r.build.json);
    let b = zant_pipeline::build(&r.request()?, &steps)?;
    let j = zant_pipeline::run(&b, &r.check(), &r.run_options(), &steps)?;
    steps.finish();
    if r.build.json {
        out::json(&j)?;
    } else {
        out::print(&format!(
            "{} {} on {} (reference: {})",
            out::bold("ran"),
            j.model,
            j.board,
            j.reference
        ));
        render::print_figures(&j);
    }
    render::verdict(&j, r.tolerance)
}

/// Arguments of `zant bench`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "On QEMU boards the figures are guest instructions of one inference, counted exactly by zant's TCG plugin \
between the firmware's bench markers: the same ELF gives the same number every run."
)]
pub struct BenchArgs {
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Write pictures of where time and memory go into DIR (implies
    /// --profile): per-layer instructions or cycles, the arena over time and
    /// the flash/RAM breakdown, each as SVG and PNG, with figures.json and a
    /// summary.md linking them.
    #[arg(long, value_name = "DIR")]
    pub report: Option<std::path::PathBuf>,
}

/// Runs `zant bench`.
pub fn bench(args: BenchArgs) -> CliResult {
    let r = &args.run;
    let steps = Steps::new(r.build.quiet || r.build.json);
    let req = r.request()?;
    let b = zant_pipeline::build(&req, &steps)?;
    let j = zant_pipeline::run(&b, &r.check(), &r.run_options(), &steps)?;
    let prof = if args.profile.profile || args.report.is_some() {
        let pb = zant_pipeline::build_profiling(&req, &steps)?;
        Some(zant_pipeline::run_profiled(
            &pb,
            &r.check(),
            &r.run_options(),
            &steps,
        )?)
    } else {
        None
    };
    let report = match (&args.report, &prof) {
        (Some(dir), Some((_, p))) => {
            steps.step("drawing the figures");
            let f = zant_figures::Figures {
                model: j.model.clone(),
                board: j.board.clone(),
                command: command_line(),
                layers: zant_figures::LayerBars::from_profile(p),
                arena: zant_figures::ArenaTimeline::from_plan(
                    &j.model,
                    &j.board,
                    &b.compiled,
                    &b.plan,
                ),
                memory: zant_figures::MemoryBreakdown::from_footprint(
                    &j.model,
                    &j.board,
                    &b.footprint,
                ),
            };
            Some(zant_figures::write(dir, &f)?)
        }
        _ => None,
    };
    steps.finish();
    if r.build.json {
        match &prof {
            Some((pf, p)) => out::json(&render::ProfiledJson {
                figures: &j,
                profile: render::ProfileJson {
                    figures: pf,
                    profile: p,
                },
            })?,
            None => out::json(&j)?,
        }
    } else {
        out::print(&format!(
            "{} {} on {} ({}, {})",
            out::bold("bench"),
            j.model,
            j.board,
            b.board.core,
            b.board.target.triple
        ));
        render::print_figures(&j);
        out::print("");
        render::print_footprint(&b.footprint);
        if let Some((pf, p)) = &prof {
            if args.profile.profile {
                out::print("");
                render::print_profiled(pf, p, args.profile.sort.into());
            }
        }
        if let Some(w) = &report {
            out::print("");
            out::print(&format!(
                "{} {} ({} files: layers, arena and memory as SVG and PNG, figures.json)",
                out::bold("report"),
                w.summary.display(),
                w.files.len()
            ));
        }
    }
    render::verdict(&j, r.tolerance)?;
    match &prof {
        Some((pf, _)) => render::verdict(pf, r.tolerance),
        None => Ok(()),
    }
}

/// The command line as typed, with the program called `zant` (for the
/// report's summary).
fn command_line() -> String {
    let mut v: Vec<String> = std::env::args().skip(1).collect();
    v.insert(0, "zant".into());
    v.join(" ")
}
