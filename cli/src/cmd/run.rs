//! `zant run` (one checked inference on the target) and `zant bench`
//! (build + run + check + figures).

use std::path::PathBuf;

use zant_pipeline::dataset::{self, ValidateCheck};

use crate::args::{ProfileArgs, RunArgs};
use crate::out::{self, CliResult};
use crate::progress::Steps;
use crate::render;

/// Arguments of `zant run`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "With --inputs, zant validates over a data set: one data-set build of the firmware runs every sample (QEMU \
boards read the samples through semihosting; probe-rs boards get them as CRC-checked frames over RTT, ESP32 boards over \
their serial port), and each sample's outputs are checked against --expects or, without it, \
zant's host build of the same model. It prints per output the max and mean absolute error, RMSE, cosine similarity, top-1 \
agreement and, with --labels, accuracy; the worst samples by name; exit 1 when a sample is over --tolerance. \
Samples: a .npy file (first axis = samples), a .bin file of raw samples back to back, or a directory of one .npy/.bin per \
sample (sorted by name). Models with several inputs: a directory with one <input name>.npy per input (first axis = samples)."
)]
pub struct Args {
    #[command(flatten)]
    pub run: RunArgs,
    /// Data set to validate over: a .npy file (first axis = samples), a .bin
    /// file of raw samples back to back, or a directory of one .npy/.bin per sample;
    /// several inputs: a directory of one <input name>.npy each.
    #[arg(long, value_name = "DIR|FILE", conflicts_with_all = ["input", "expect"])]
    pub inputs: Option<PathBuf>,
    /// Expected outputs of every sample, in the forms --inputs takes (a sample's
    /// outputs one after the other); default: zant's host build of the same model.
    #[arg(long, value_name = "DIR|FILE", requires = "inputs")]
    pub expects: Option<PathBuf>,
    /// One integer class a sample (.npy, or text with one a line): accuracy of
    /// the top-1 class of each output.
    #[arg(long, value_name = "FILE", requires = "inputs")]
    pub labels: Option<PathBuf>,
}

/// Runs `zant run`.
pub fn run(args: Args) -> CliResult {
    if args.inputs.is_some() {
        return validate(&args);
    }
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
    /// Also count the normal build's instructions by function (QEMU boards):
    /// the N functions with the most (default 15) and their share of the
    /// inference; `--json` lists them all (key `functions`).
    #[arg(long, value_name = "N", num_args = 0..=1, default_missing_value = "15")]
    pub functions: Option<usize>,
}

/// Runs `zant bench`.
pub fn bench(args: BenchArgs) -> CliResult {
    let r = &args.run;
    let steps = Steps::new(r.build.quiet || r.build.json);
    let req = r.request()?;
    if args.functions.is_some() && !matches!(req.board.runner, zant_boards::Runner::Qemu { .. }) {
        return Err(out::CliError::input(anyhow::anyhow!(
            "--functions counts instructions under QEMU; `{}` runs on hardware \
             (use --profile for its per-layer cycles)",
            req.board.name
        )));
    }
    let b = zant_pipeline::build(&req, &steps)?;
    let opts = zant_pipeline::RunOptions {
        functions: args.functions.is_some(),
        ..r.run_options()
    };
    let j = zant_pipeline::run(&b, &r.check(), &opts, &steps)?;
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
        if let (Some(n), Some(fs)) = (args.functions, &j.functions) {
            out::print("");
            render::print_functions(fs, n);
        }
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

/// `zant run --inputs`: validation over a data set in one data-set build.
fn validate(args: &Args) -> CliResult {
    let r = &args.run;
    let inputs = args.inputs.as_deref().expect("called with --inputs");
    let steps = Steps::new(r.build.quiet || r.build.json);
    let req = r.request()?;
    // The data files are read against the model before the cross-compile,
    // so a mistake in them costs seconds.
    zant_pipeline::preflight_dataset(&req.board)?;
    zant_pipeline::find_target(&req.board, &r.run_options())?;
    steps.step("reading the data set");
    let c = zant_pipeline::compile(&req)?;
    let samples = dataset::read_samples(inputs, &dataset::input_slots(&c.compiled)?)?;
    if let Some(e) = &args.expects {
        let want = dataset::read_samples(e, &dataset::output_slots(&c.compiled))?;
        if want.len() != samples.len() {
            return Err(zant_pipeline::PipelineError::DataSet {
                path: e.clone(),
                detail: format!(
                    "{} samples of expected outputs for {} inputs",
                    want.len(),
                    samples.len()
                ),
            }
            .into());
        }
    }
    if let Some(l) = &args.labels {
        dataset::read_labels(l)?;
    }
    let b = zant_pipeline::build_dataset(&req, &steps)?;
    let check = ValidateCheck {
        expects: args.expects.clone(),
        labels: args.labels.clone(),
        tolerance: r.tolerance,
    };
    let v = dataset::validate(&b, &samples, &check, &r.run_options(), &steps)?;
    steps.finish();
    if r.build.json {
        out::json(&v)?;
    } else {
        render::print_validation(&v);
    }
    render::validation_verdict(&v)
}

/// The command line as typed, with the program called `zant` (for the
/// report's summary).
fn command_line() -> String {
    let mut v: Vec<String> = std::env::args().skip(1).collect();
    v.insert(0, "zant".into());
    v.join(" ")
}
