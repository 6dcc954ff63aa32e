//! Rendering of the pipeline's results, shared by build, size, run, bench
//! and deploy: the footprint tables, the built-firmware line, the figures
//! table and the verdict on the outputs.

use anyhow::anyhow;
use serde::Serialize;
use zant_firmware::Footprint;
use zant_pipeline::{Built, FlashImage, Profile, RunFigures, SortBy};

use crate::out::{self, CliError, CliResult};

/// JSON of `zant build`.
#[derive(Debug, Serialize)]
pub struct BuildJson<'a> {
    /// Board.
    pub board: &'a str,
    /// Model.
    pub model: &'a str,
    /// Project directory.
    pub project: String,
    /// Footprint keys.
    #[serde(flatten)]
    pub footprint: &'a Footprint,
    /// ESP32 boards: the flash image (path, application and partition bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flash_image: Option<&'a FlashImage>,
}

/// Prints the footprint table.
pub fn print_footprint(f: &Footprint) {
    let mut t = out::table(&["", "bytes"], &[1]);
    let row = |t: &mut comfy_table::Table, k: &str, v: u64| {
        t.add_row(vec![k.to_string(), out::thousands(v)]);
    };
    row(&mut t, "flash", f.flash_bytes);
    row(&mut t, "  code", f.code_bytes);
    row(&mut t, "    model (kernels, predict)", f.model_code_bytes);
    row(
        &mut t,
        "    runtime (start-up, report)",
        f.runtime_code_bytes,
    );
    row(&mut t, "  weights", f.weights_bytes);
    row(
        &mut t,
        "  other (vectors, constants, data images)",
        f.other_flash_bytes,
    );
    row(&mut t, "ram", f.ram_bytes);
    row(&mut t, "  arena", f.arena_bytes);
    row(&mut t, "  stack (reserved)", f.stack_bytes);
    row(&mut t, "  other (data, bss)", f.other_ram_bytes);
    out::print(&t.to_string());
    if !f.regions.is_empty() {
        let mut r = out::table(
            &["region", "kind", "used", "size", "use", "of it weights"],
            &[2, 3, 4, 5],
        );
        for g in f.regions.iter().filter(|g| g.used > 0) {
            r.add_row(vec![
                g.name.clone(),
                g.kind.clone(),
                out::thousands(g.used),
                out::thousands(g.size),
                format!("{:.1}%", 100.0 * g.used as f64 / g.size.max(1) as f64),
                if g.kind == "flash" {
                    out::thousands(g.weights_bytes)
                } else {
                    String::new()
                },
            ]);
        }
        out::print(&r.to_string());
    }
    if !f.largest_symbols.is_empty() {
        let mut s = out::table(&["largest symbols", "kind", "bytes"], &[2]);
        for sym in f.largest_symbols.iter().take(8) {
            s.add_row(vec![
                sym.name.clone(),
                sym.kind.clone(),
                out::thousands(sym.bytes),
            ]);
        }
        out::print(&s.to_string());
    }
}

/// Prints a built firmware: JSON, or a line and the footprint tables.
/// `note` follows the board name (`" (not flashed: --no-flash)"`).
pub fn report_build(b: &Built, json: bool, note: &str) -> CliResult {
    if json {
        return out::json(&BuildJson {
            board: &b.board.name,
            model: &b.graph.name,
            project: b.dir.display().to_string(),
            footprint: &b.footprint,
            flash_image: b.flash_image.as_ref(),
        });
    }
    print_built(b, note);
    Ok(())
}

/// Prints a built firmware for a person: the ELF, the footprint tables and
/// (ESP32) the flash image. `note` follows the board name.
pub fn print_built(b: &Built, note: &str) {
    out::print(&format!(
        "{} {} for {}{note} → {}",
        out::green("built"),
        b.graph.name,
        b.board.name,
        b.footprint.elf.display()
    ));
    print_footprint(&b.footprint);
    if let Some(i) = &b.flash_image {
        out::print(&format!(
            "flash image: {} (application {} B of a {} B partition; write it at offset 0)",
            i.path.display(),
            out::thousands(i.app_bytes),
            out::thousands(i.partition_bytes)
        ));
    }
}

/// The `n` functions with the most instructions (`zant bench --functions`),
/// with their share, and the rest summed.
pub fn print_functions(fs: &[zant_pipeline::FunctionInstructions], n: usize) {
    out::print(&format!(
        "{} (normal build, QEMU: {} functions ran)",
        out::bold("instructions by function"),
        fs.len()
    ));
    let mut t = out::table(&["function", "instructions", "share"], &[1, 2]);
    for f in fs.iter().take(n) {
        t.add_row(vec![
            f.function.clone(),
            out::thousands(f.instructions),
            format!("{:.1}%", 100.0 * f.share),
        ]);
    }
    if fs.len() > n {
        let rest = &fs[n..];
        t.add_row(vec![
            format!("({} more)", rest.len()),
            out::thousands(rest.iter().map(|f| f.instructions).sum()),
            format!("{:.1}%", 100.0 * rest.iter().map(|f| f.share).sum::<f64>()),
        ]);
    }
    out::print(&t.to_string());
}

/// Prints the figures table of run/bench/deploy.
pub fn print_figures(j: &RunFigures) {
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
pub fn verdict(j: &RunFigures, tolerance: f64) -> CliResult {
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

/// JSON of `zant bench`/`zant deploy` with `--profile`: the normal build's
/// figures, and the profiling build's figures and per-layer profile apart.
#[derive(Debug, Serialize)]
pub struct ProfiledJson<'a> {
    /// The normal (marker-free) build's figures.
    #[serde(flatten)]
    pub figures: &'a RunFigures,
    /// The profiling build: its own figures and the per-node profile.
    pub profile: ProfileJson<'a>,
}

/// The profiling build in [`ProfiledJson`].
#[derive(Debug, Serialize)]
pub struct ProfileJson<'a> {
    /// The profiling build's figures (its markers add instructions and code).
    pub figures: &'a RunFigures,
    /// Per node, in execution order; `outside_nodes` and the nodes sum to `total`.
    #[serde(flatten)]
    pub profile: &'a Profile,
}

/// Prints the per-layer profile table (nodes in the order asked for, then
/// the work outside nodes and the total they add up to).
pub fn print_profile(p: &Profile, by: SortBy) {
    let unit = p.unit;
    let per = if unit == "cycles" {
        "cycles/MAC"
    } else {
        "instr/MAC"
    };
    let mut t = out::table(
        &["#", "node", "op", "kernel", "MACs", unit, per, "share"],
        &[0, 4, 5, 6, 7],
    );
    let pct = |c: u64| format!("{:.1}%", 100.0 * c as f64 / p.total.max(1) as f64);
    for n in p.sorted(by) {
        t.add_row(vec![
            n.index.to_string(),
            n.name.clone(),
            n.op.clone(),
            n.kernel.clone(),
            out::thousands(n.macs),
            out::thousands(n.count),
            n.per_mac
                .map(|v| format!("{v:.2}"))
                .unwrap_or_else(|| "-".into()),
            pct(n.count),
        ]);
    }
    t.add_row(vec![
        String::new(),
        "(outside nodes)".into(),
        String::new(),
        String::new(),
        String::new(),
        out::thousands(p.outside_nodes),
        String::new(),
        pct(p.outside_nodes),
    ]);
    t.add_row(vec![
        String::new(),
        "total".into(),
        String::new(),
        String::new(),
        out::thousands(p.macs),
        out::thousands(p.total),
        p.per_mac
            .map(|v| format!("{v:.2}"))
            .unwrap_or_else(|| "-".into()),
        "100.0%".into(),
    ]);
    out::print(&t.to_string());
}

/// Prints the profiling build's heading line and its per-layer table.
pub fn print_profiled(pf: &RunFigures, p: &Profile, by: SortBy) {
    let whole = match p.unit {
        "cycles" => pf.cycles_per_inference,
        _ => pf.instructions_per_inference,
    };
    out::print(&format!(
        "{} of the profiling build (a marker between nodes; {} {} per inference, outputs {}):",
        out::bold("per-layer profile"),
        out::thousands(whole.unwrap_or(p.total)),
        p.unit,
        if pf.outputs_match { "match" } else { "DIFFER" }
    ));
    print_profile(p, by);
}

fn ratio(v: Option<f64>) -> String {
    v.map(|x| format!("{:.1}%", x * 100.0))
        .unwrap_or_else(|| "-".into())
}

/// The result of `zant run --inputs`: per output errors, agreement and
/// accuracy; instructions; the worst samples.
pub fn print_validation(v: &zant_pipeline::dataset::Validation) {
    out::print(&format!(
        "{} {} on {}: {} samples from {} (reference: {})",
        out::bold("validated"),
        v.model,
        v.board,
        v.samples,
        v.inputs,
        v.reference
    ));
    let labels = v.labels.is_some();
    let mut head = vec![
        "output",
        "max abs",
        "mean abs",
        "RMSE",
        "cosine",
        "top-1 agree",
    ];
    if labels {
        head.push("accuracy");
        head.push("reference acc.");
    }
    let right: Vec<usize> = (1..head.len()).collect();
    let mut t = out::table(&head, &right);
    for o in &v.outputs {
        let mut row = vec![
            format!("{} ({})", o.name, out::shape(&o.shape)),
            format!("{:.3e}", o.max_abs_error),
            format!("{:.3e}", o.mean_abs_error),
            format!("{:.3e}", o.rmse),
            format!("{:.6}", o.cosine),
            ratio(o.top1_agreement),
        ];
        if labels {
            row.push(ratio(o.accuracy));
            row.push(ratio(o.reference_accuracy));
        }
        t.add_row(row);
    }
    out::print(&t.to_string());
    if let Some(i) = &v.instructions {
        out::print(&format!(
            "instructions per inference: {} min, {} mean, {} max",
            out::thousands(i.min),
            out::thousands(i.mean.round() as u64),
            out::thousands(i.max)
        ));
    }
    if let Some(c) = &v.cycles {
        out::print(&format!(
            "cycles per inference (the core's counter): {} min, {} mean, {} max",
            out::thousands(c.min),
            out::thousands(c.mean.round() as u64),
            out::thousands(c.max)
        ));
    }
    if let Some(p) = v.stack_peak_bytes {
        out::print(&format!(
            "stack peak over all samples: {} B",
            out::thousands(p)
        ));
    }
    let worst: Vec<String> = v
        .worst
        .iter()
        .take(3)
        .map(|w| format!("{} ({:.3e})", w.name, w.max_abs_error))
        .collect();
    out::print(&format!("worst samples: {}", worst.join(", ")));
    out::print(&format!(
        "samples within tolerance {:.1e}: {}",
        v.tolerance,
        if v.passed {
            out::green(&format!("{} of {}", v.samples, v.samples))
        } else {
            out::red(&format!(
                "{} of {}",
                v.samples - v.failed_samples.min(v.samples),
                v.samples
            ))
        }
    ));
}

/// Exit 1 when a sample of a data-set run is over the tolerance, naming
/// the worst.
pub fn validation_verdict(v: &zant_pipeline::dataset::Validation) -> CliResult {
    if v.passed {
        return Ok(());
    }
    let w = v.worst.first();
    Err(CliError::failed(anyhow!(
        "{} of {} samples on {} differ from the reference ({}) by more than {:.1e}; worst: {} (max abs error {:.3e})",
        v.failed_samples.min(v.samples),
        v.samples,
        v.board,
        v.reference,
        v.tolerance,
        w.map(|w| w.name.as_str()).unwrap_or("?"),
        w.map(|w| w.max_abs_error).unwrap_or(0.0)
    )))
}
