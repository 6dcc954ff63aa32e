//! `zant run` (one checked inference on the target) and `zant bench`
//! (build + run + check + figures).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::anyhow;
use serde::Serialize;
use zant_boards::Runner;
use zant_codegen::hostrun::{build_harness, run_cases, CaseResult, HostCase};
use zant_codegen::ir::{DType, TensorData};
use zant_firmware::{Footprint, RegionUse};
use zant_runner::qemu::{self, QemuConfig, QemuError};

use super::build::{build_firmware, print_footprint, BuildArgs, Built};
use crate::out::{self, CliError, CliResult};
use crate::progress::Steps;

/// Options of run/bench/deploy beyond building.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub build: BuildArgs,
    /// Expected outputs: raw little-endian file in the model's output type and
    /// layout (default: zant's host build of the same model on the same input).
    #[arg(long, value_name = "FILE")]
    pub expect: Option<PathBuf>,
    /// Largest absolute difference accepted between target and expected outputs.
    #[arg(long, default_value_t = 1e-4, value_name = "ABS", value_parser = super::common::parse_tolerance)]
    pub tolerance: f64,
    /// Time limit of one run on the target, in seconds (at least 1).
    #[arg(long, default_value_t = 120, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// Debug probe to use when several are attached: VID:PID[:SERIAL] (hex).
    #[arg(long, value_name = "VID:PID[:SERIAL]")]
    pub probe: Option<String>,
    /// Serial port of an ESP32 board (default: the only ESP32 USB adapter attached).
    #[arg(long, value_name = "PORT")]
    pub port: Option<String>,
}

/// Arguments of `zant run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub run: RunArgs,
}

/// Result figures of a run, with the keys of CLI.md.
#[derive(Debug, Clone, Serialize)]
pub struct RunJson {
    /// Board.
    pub board: String,
    /// Model.
    pub model: String,
    /// Firmware ELF.
    pub elf: String,
    /// Flash bytes.
    pub flash_bytes: u64,
    /// Static RAM bytes (with the reserved stack).
    pub ram_bytes: u64,
    /// Arena bytes.
    pub arena_bytes: u64,
    /// Weight bytes.
    pub weights_bytes: u64,
    /// Code bytes.
    pub code_bytes: u64,
    /// Reserved stack bytes.
    pub stack_bytes: u64,
    /// Regions.
    pub regions: Vec<RegionUse>,
    /// Multiply-accumulates per inference.
    pub macs: u64,
    /// Guest instructions per inference (QEMU).
    pub instructions_per_inference: Option<u64>,
    /// Instructions per MAC.
    pub instructions_per_mac: Option<f64>,
    /// Cycles per inference (hardware).
    pub cycles_per_inference: Option<u64>,
    /// Latency at the board's clock (hardware).
    pub latency_us: Option<f64>,
    /// Deepest stack use measured at run time.
    pub stack_peak_bytes: Option<u64>,
    /// RAM the program used: static RAM without the reservation + stack peak.
    pub ram_used_bytes: Option<u64>,
    /// Largest absolute error against the expected outputs.
    pub max_abs_error: f64,
    /// Largest relative error.
    pub max_rel_error: f64,
    /// Whether the outputs match within the tolerance.
    pub outputs_match: bool,
    /// Where the expected outputs came from.
    pub reference: String,
}

/// Expected outputs: `--expect` or the host build of the model on the same input.
fn expected(b: &Built, r: &RunArgs, steps: &Steps) -> Result<(Vec<TensorData>, String), CliError> {
    let g = &b.compiled;
    if let Some(p) = &r.expect {
        let bytes = std::fs::read(p)
            .map_err(|e| CliError::input(anyhow!("cannot read {}: {e}", p.display())))?;
        let want: usize = g.outputs.iter().map(|&o| g.tensor(o).bytes()).sum();
        if bytes.len() != want {
            return Err(CliError::input(anyhow!(
                "{} has {} bytes; the model's outputs take {want}",
                p.display(),
                bytes.len()
            )));
        }
        let mut at = 0;
        let outs = g
            .outputs
            .iter()
            .map(|&o| {
                let t = g.tensor(o);
                at += t.bytes();
                TensorData {
                    dtype: t.dtype,
                    shape: t.shape.clone(),
                    bytes: bytes[at - t.bytes()..at].to_vec(),
                }
            })
            .collect();
        return Ok((outs, p.display().to_string()));
    }
    steps.step("computing the reference outputs with zant's host build");
    // Outside the firmware project: its .cargo/config.toml selects the target.
    let name = b
        .dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    let work = b.dir.with_file_name(format!("{name}.host"));
    let h = build_harness(
        &[HostCase {
            name: g.name.clone(),
            graph: g,
            plan: &b.plan,
        }],
        &work,
        None,
    )
    .map_err(|e| CliError::failed(anyhow!("host reference build failed: {e}")))?;
    let res = run_cases(&h, &[g], std::slice::from_ref(&b.inputs), &work.join("io"))
        .map_err(|e| CliError::failed(anyhow!("host reference run failed: {e}")))?;
    match res.into_iter().next() {
        Some(CaseResult::Ok(o)) => Ok((o, "zant host build (same model, same input)".into())),
        Some(CaseResult::Failed(e)) => {
            Err(CliError::failed(anyhow!("host reference run failed: {e}")))
        }
        None => Err(CliError::failed(anyhow!("host reference produced nothing"))),
    }
}

fn compare(got: &[Vec<u8>], want: &[TensorData]) -> (f64, f64) {
    let (mut abs, mut rel) = (0f64, 0f64);
    for (g, w) in got.iter().zip(want) {
        let gt = TensorData {
            dtype: w.dtype,
            shape: w.shape.clone(),
            bytes: g.clone(),
        };
        for (a, b) in gt.to_f64().iter().zip(w.to_f64()) {
            let d = if a.is_nan() && b.is_nan() {
                0.0
            } else {
                (a - b).abs()
            };
            let d = if d.is_nan() { f64::INFINITY } else { d };
            abs = abs.max(d);
            rel = rel.max(d / b.abs().max(1e-12));
        }
    }
    (abs, rel)
}

/// Builds, runs on the target, checks; shared by run/bench/deploy.
pub fn run_and_check(r: &RunArgs, steps: &Steps) -> Result<(Built, RunJson), CliError> {
    let b = build_firmware(&r.build, steps)?;
    let j = run_built(&b, r, steps)?;
    Ok((b, j))
}

/// Runs a built firmware on its target (QEMU, probe-rs or espflash) and
/// checks its outputs against the reference.
pub fn run_built(b: &Built, r: &RunArgs, steps: &Steps) -> Result<RunJson, CliError> {
    let (want, reference) = expected(b, r, steps)?;
    let (report, instructions, cycles) = match &b.board.runner {
        Runner::Qemu {
            binary,
            machine,
            cpu,
            extra_args,
        } => {
            steps.step(&format!(
                "running on QEMU {machine} and counting instructions"
            ));
            let cfg = QemuConfig {
                binary: binary.clone(),
                machine: machine.clone(),
                cpu: cpu.clone(),
                extra_args: extra_args.clone(),
                elf: b.footprint.elf.clone(),
                timeout: Duration::from_secs(r.timeout),
                count_instructions: true,
            };
            let o = qemu::run(&cfg).map_err(|e| match e {
                QemuError::NotInstalled { .. } => CliError::input(e),
                e => CliError::failed(e),
            })?;
            (o.report, o.instructions, None)
        }
        Runner::ProbeRs { chip } => {
            let rep = super::deploy::probe_run(b, chip, r, steps)?;
            let cycles = rep.int("cycles");
            (rep, None, cycles)
        }
        Runner::Espflash { chip } => {
            let rep = super::deploy::esp_run(b, chip, r, steps)?;
            let cycles = rep.int("cycles");
            (rep, None, cycles)
        }
    };
    let n_out = b.compiled.outputs.len();
    if report.outputs.len() != n_out {
        return Err(CliError::failed(anyhow!(
            "the firmware reported {} output tensors, the model has {n_out}",
            report.outputs.len()
        )));
    }
    let (abs, rel) = compare(&report.outputs, &want);
    let float = want
        .iter()
        .all(|t| t.dtype == DType::F32 || t.dtype == DType::F64);
    let ok = if float {
        abs <= r.tolerance
    } else {
        abs == 0.0
    };
    let f: &Footprint = &b.footprint;
    let stack_peak = report.int("stack_peak");
    let json = RunJson {
        board: b.board.name.clone(),
        model: b.graph.name.clone(),
        elf: f.elf.display().to_string(),
        flash_bytes: f.flash_bytes,
        ram_bytes: f.ram_bytes,
        arena_bytes: f.arena_bytes,
        weights_bytes: f.weights_bytes,
        code_bytes: f.code_bytes,
        stack_bytes: f.stack_bytes,
        regions: f.regions.clone(),
        macs: b.macs,
        instructions_per_inference: instructions,
        instructions_per_mac: instructions.map(|i| i as f64 / b.macs.max(1) as f64),
        cycles_per_inference: cycles,
        latency_us: cycles.map(|c: u64| c as f64 / b.board.clock_hz as f64 * 1e6),
        stack_peak_bytes: stack_peak,
        ram_used_bytes: stack_peak.map(|p| f.ram_bytes - f.stack_bytes + p),
        max_abs_error: abs,
        max_rel_error: rel,
        outputs_match: ok,
        reference,
    };
    Ok(json)
}

/// Prints the figures table of run/bench/deploy.
pub fn print_figures(j: &RunJson) {
    let mut t = out::table(&["", "value"], &[1]);
    let mut row = |k: &str, v: String| {
        t.add_row(vec![k.to_string(), v]);
    };
    if let Some(i) = j.instructions_per_inference {
        row("instructions per inference", out::thousands(i));
        row(
            "instructions per MAC",
            format!(
                "{:.2} ({} MACs)",
                j.instructions_per_mac.unwrap_or(0.0),
                out::thousands(j.macs)
            ),
        );
    }
    if let Some(c) = j.cycles_per_inference {
        row("cycles per inference", out::thousands(c));
        row("latency", format!("{:.1} µs", j.latency_us.unwrap_or(0.0)));
    }
    row("flash", format!("{} B", out::thousands(j.flash_bytes)));
    row(
        "static RAM (with stack reserve)",
        format!("{} B", out::thousands(j.ram_bytes)),
    );
    row("arena", format!("{} B", out::thousands(j.arena_bytes)));
    if let Some(p) = j.stack_peak_bytes {
        row(
            "stack peak (measured)",
            format!(
                "{} B of {} reserved",
                out::thousands(p),
                out::thousands(j.stack_bytes)
            ),
        );
    }
    if let Some(u) = j.ram_used_bytes {
        row(
            "RAM used (static + stack peak)",
            format!("{} B", out::thousands(u)),
        );
    }
    row(
        "max abs error",
        format!("{:.3e} (rel {:.3e})", j.max_abs_error, j.max_rel_error),
    );
    row(
        "outputs",
        if j.outputs_match {
            out::green("match")
        } else {
            out::red("DIFFER")
        },
    );
    out::print(&t.to_string());
}

/// Ends a command: non-zero when the outputs differ.
pub fn verdict(j: &RunJson, tolerance: f64) -> CliResult {
    if j.outputs_match {
        Ok(())
    } else {
        Err(CliError::failed(anyhow!(
            "outputs on {} differ from the reference ({}): max abs error {:.3e} > tolerance {tolerance:.1e}",
            j.board,
            j.reference,
            j.max_abs_error
        )))
    }
}

/// Runs `zant run`.
pub fn run(args: Args) -> CliResult {
    let r = &args.run;
    let steps = Steps::new(r.build.quiet || r.build.json);
    let (_, j) = run_and_check(r, &steps)?;
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
        print_figures(&j);
    }
    verdict(&j, r.tolerance)
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
}

/// Runs `zant bench`.
pub fn bench(args: BenchArgs) -> CliResult {
    let r = &args.run;
    let steps = Steps::new(r.build.quiet || r.build.json);
    let (b, j) = run_and_check(r, &steps)?;
    steps.finish();
    if r.build.json {
        out::json(&j)?;
    } else {
        out::print(&format!(
            "{} {} on {} ({}, {})",
            out::bold("bench"),
            j.model,
            j.board,
            b.board.core,
            b.board.target.triple
        ));
        print_figures(&j);
        out::print("");
        print_footprint(&b.footprint);
    }
    verdict(&j, r.tolerance)
}
