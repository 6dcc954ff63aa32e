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
}

/// Runs `zant bench`.
pub fn bench(args: BenchArgs) -> CliResult {
    let r = &args.run;
    let steps = Steps::new(r.build.quiet || r.build.json);
    let req = r.request()?;
    let b = zant_pipeline::build(&req, &steps)?;
    let j = zant_pipeline::run(&b, &r.check(), &r.run_options(), &steps)?;
    let prof = if args.profile.profile {
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
            out::print("");
            render::print_profiled(pf, p, args.profile.sort.into());
        }
    }
    render::verdict(&j, r.tolerance)?;
    match &prof {
        Some((pf, _)) => render::verdict(pf, r.tolerance),
        None => Ok(()),
    }
}
