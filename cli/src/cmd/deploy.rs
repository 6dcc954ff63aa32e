//! `zant deploy --board B MODEL.onnx`: the whole path, with one progress
//! display: check the model, compile, plan memory, render and build the
//! firmware, check the board's size budget, flash (probe-rs) or emulate
//! (QEMU), run, read back outputs and timing, and report.

use crate::args::{ProfileArgs, RunArgs};
use crate::out::{self, CliResult};
use crate::progress::Steps;
use crate::render;

/// Arguments of `zant deploy`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "What it does, in order: checks the model (every unsupported operator at once), compiles it, plans \
its memory, renders and cross-compiles the firmware project, prints its footprint and checks the board's size \
budget, then runs it: under QEMU on emulated boards (counting instructions), through a debug probe with probe-rs on \
Cortex-M boards, or over the USB serial port with espflash on ESP32 boards (programming with a progress bar, \
then reading the firmware's report); last it checks the outputs and prints the figures.

Examples:
  zant deploy --board qemu-mps2-an386 examples/mnist-8.onnx  # QEMU, instructions counted
  zant deploy --board stm32h7 model.onnx                    # NUCLEO-H743ZI by its ST-LINK
  zant deploy --board esp32-c3-devkit model.onnx            # ESP32-C3 by its USB port
  zant deploy --board my-board.toml model.onnx --no-flash   # your board; build, size

Your own board is one TOML file naming its chip, memory, placement and runner (boards/README.md);
`zant boards check my-board.toml` reports every problem in it, with its line.
Outputs are checked against zant's host build of the same model on the same input (or --expect FILE).
Exit status: 0 ok; 1 the job failed (does not fit, outputs differ, no probe or port, target fault); 2 usage or input error."
)]
pub struct Args {
    #[command(flatten)]
    pub run: RunArgs,
    /// Stop after building and sizing the firmware.
    #[arg(long, conflicts_with = "profile")]
    pub no_flash: bool,
    #[command(flatten)]
    pub profile: ProfileArgs,
}

/// Runs `zant deploy`.
pub fn run(args: Args) -> CliResult {
    let r = &args.run;
    let steps = Steps::new(r.build.quiet || r.build.json);
    let req = if args.no_flash {
        r.build.request()?
    } else {
        r.request()?
    };
    let b = zant_pipeline::build(&req, &steps)?;
    zant_pipeline::check_limits(&b)?;
    if args.no_flash {
        steps.finish();
        return render::report_build(&b, r.build.json, " (not flashed: --no-flash)");
    }
    // On hardware the footprint comes first: it is known before anything is
    // flashed, and stays on screen whatever the board does next.
    let hardware = !b.board.is_qemu();
    if hardware && !r.build.json && !r.build.quiet {
        steps.suspend(|| render::print_built(&b, ""));
    }
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
        let how = if hardware {
            "on hardware"
        } else {
            "emulated with QEMU"
        };
        out::print(&format!(
            "{} {} on {} ({how}; reference: {})",
            out::bold("deployed"),
            j.model,
            j.board,
            j.reference
        ));
        render::print_figures(&j);
        if !hardware {
            out::print("");
            render::print_footprint(&b.footprint);
        }
        if let Some((pf, p)) = &prof {
            out::print("");
            render::print_profiled(pf, p, args.profile.sort.into());
        }
        out::print(&format!("project: {}", b.dir.display()));
    }
    render::verdict(&j, r.tolerance)?;
    match &prof {
        Some((pf, _)) => render::verdict(pf, r.tolerance),
        None => Ok(()),
    }
}
