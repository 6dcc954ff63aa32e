//! Board validation as named checks. Each check reports every problem it
//! finds into `diags` (so a file's problems come all at once, in the order
//! of the checks); [`validate`] runs them and assembles the [`Board`].

use std::path::Path;

use zant_common::suggest::close_matches;

use crate::diagnostics::{Diagnostic, Source};
use crate::raw::{RawBoard, RawChip, RawChipRef};
use crate::resolve::region;
use crate::target::rust_target;
use crate::types::{
    listed, lookup, names, Board, Chip, Core, Fpu, Limits, MemoryRegion, Placement, RegionKind,
    ReportChannel, Runner, Simd, CORES, FPUS, REPORT_CHANNELS, SIMDS,
};

/// Validates a parsed board with its chip; `None` when a problem leaves no
/// board to build (the problems are in `diags`).
pub(crate) fn validate(
    raw: &RawBoard,
    chip: &RawChip,
    src: &Source<'_>,
    path: Option<&Path>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Board> {
    let core = core(chip, src, diags);
    let fpu = fpu(chip, src, diags);
    let simd = simd(chip, src, diags);
    if let Some(c) = core {
        check_core_fpu(c, fpu, src, diags);
    }
    check_clock(raw, chip, src, diags);
    let memory = memory(raw, chip, src, diags);
    check_overlaps(&memory, src, diags);
    check_aliases(&memory, src, diags);
    check_placement(raw, &memory, src, diags);
    let report = report(raw, src, diags);
    let runner = runner(raw, report, src, diags)?;
    let core = core?;
    let target = rust_target(core, fpu, &simd)?;
    Some(Board {
        name: raw.name.clone(),
        aliases: raw.aliases.clone(),
        description: raw.description.clone().unwrap_or_default(),
        chip: Chip {
            name: chip
                .name
                .clone()
                .unwrap_or_else(|| chip.part.to_lowercase()),
            vendor: chip.vendor.clone(),
            family: chip.family.clone(),
            part: chip.part.clone(),
        },
        core,
        fpu,
        simd,
        clock_hz: raw.clock_hz.unwrap_or(chip.clock_hz),
        target,
        memory,
        placement: Placement {
            arena: raw.placement.arena.clone(),
            stack: raw.placement.stack.clone(),
            stack_size: raw.placement.stack_size,
            weights: raw.placement.weights.clone(),
        },
        limits: raw
            .limits
            .as_ref()
            .map(|l| Limits {
                flash_bytes: l.flash_bytes,
                ram_bytes: l.ram_bytes,
            })
            .unwrap_or_default(),
        runner,
        report,
        source: path.map(Path::to_path_buf),
    })
}

/// The core: a name zant has a Rust target for.
fn core(chip: &RawChip, src: &Source<'_>, diags: &mut Vec<Diagnostic>) -> Option<Core> {
    match CORES.iter().find(|(n, _)| *n == chip.core) {
        Some((_, c)) => Some(*c),
        None => {
            let known: Vec<String> = CORES.iter().map(|(n, _)| n.to_string()).collect();
            let m = close_matches(&chip.core, &known);
            diags.push(
                src.diag(
                    "chip",
                    format!("core `{}` has no Rust target zant knows", chip.core),
                    Some(
                        m.first()
                            .map(|m| format!("did you mean `{m}`?"))
                            .unwrap_or_else(|| format!("supported cores: {}", known.join(", "))),
                    ),
                ),
            );
            None
        }
    }
}

/// The FPU: none, single or double.
fn fpu(chip: &RawChip, src: &Source<'_>, diags: &mut Vec<Diagnostic>) -> Fpu {
    lookup(FPUS, &chip.fpu).unwrap_or_else(|| {
        diags.push(src.diag(
            "chip",
            format!("unknown fpu `{}`", chip.fpu),
            Some(format!("use {}", listed(&names(FPUS)))),
        ));
        Fpu::None
    })
}

/// The SIMD extensions.
fn simd(chip: &RawChip, src: &Source<'_>, diags: &mut Vec<Diagnostic>) -> Vec<Simd> {
    let mut simd = Vec::new();
    for s in &chip.simd {
        match lookup(SIMDS, s) {
            Some(v) => simd.push(v),
            None => diags.push(src.diag(
                "chip",
                format!("unknown SIMD extension `{s}`"),
                Some(format!("use {}", listed(&names(SIMDS)))),
            )),
        }
    }
    simd
}

/// A core and FPU zant has a Rust target for together.
fn check_core_fpu(c: Core, fpu: Fpu, src: &Source<'_>, diags: &mut Vec<Diagnostic>) {
    if !c.is_arm() && fpu != Fpu::None {
        diags.push(src.diag(
            "chip",
            format!("{c} with an FPU: zant has no Rust target for RISC-V with F/D yet"),
            None,
        ));
    }
    if matches!(c, Core::CortexM0Plus | Core::CortexM3) && fpu != Fpu::None {
        diags.push(src.diag(
            "chip",
            format!("{c} has no FPU"),
            Some("set fpu = \"none\"".into()),
        ));
    }
}

/// The clock converts cycles to time (latency, the board's report): 0 Hz
/// would divide by zero.
fn check_clock(raw: &RawBoard, chip: &RawChip, src: &Source<'_>, diags: &mut Vec<Diagnostic>) {
    if raw.clock_hz.unwrap_or(chip.clock_hz) != 0 {
        return;
    }
    let key = if raw.clock_hz.is_some() {
        "clock-hz"
    } else if matches!(raw.chip, RawChipRef::Inline(_)) {
        "chip.clock-hz"
    } else {
        "chip"
    };
    diags.push(src.diag(
        key,
        "clock-hz is 0",
        Some("give the core clock in Hz, e.g. clock-hz = 480_000_000".into()),
    ));
}

/// The memory regions: the chip's, then the board's.
fn memory(
    raw: &RawBoard,
    chip: &RawChip,
    src: &Source<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<MemoryRegion> {
    let mut memory = Vec::new();
    for (i, r) in chip.memory.iter().enumerate() {
        let key = if matches!(raw.chip, RawChipRef::Inline(_)) {
            format!("chip.memory.{i}")
        } else {
            "chip".to_string()
        };
        memory.extend(region(r, &key, src, diags));
    }
    for (i, r) in raw.memory.iter().enumerate() {
        memory.extend(region(r, &format!("memory.{i}"), src, diags));
    }
    memory
}

/// Region names are unique and regions do not overlap.
fn check_overlaps(memory: &[MemoryRegion], src: &Source<'_>, diags: &mut Vec<Diagnostic>) {
    for i in 0..memory.len() {
        for j in i + 1..memory.len() {
            let (a, b) = (&memory[i], &memory[j]);
            if a.name == b.name {
                diags.push(src.diag(
                    "memory",
                    format!("two regions are named `{}`", a.name),
                    None,
                ));
            }
            if a.start < b.start + b.size && b.start < a.start + a.size {
                diags.push(src.diag(
                    "memory",
                    format!(
                        "regions `{}` (0x{:08x}..0x{:08x}) and `{}` (0x{:08x}..0x{:08x}) overlap",
                        a.name,
                        a.start,
                        a.start + a.size,
                        b.name,
                        b.start,
                        b.start + b.size
                    ),
                    None,
                ));
            }
        }
    }
}

/// An alias names an existing region of its kind, no larger than it.
fn check_aliases(memory: &[MemoryRegion], src: &Source<'_>, diags: &mut Vec<Diagnostic>) {
    let names: Vec<String> = memory.iter().map(|r| r.name.clone()).collect();
    for r in memory {
        let Some(t) = &r.alias_of else { continue };
        let problem = match memory.iter().find(|m| &m.name == t) {
            None => Some(format!("region `{}` is an alias of `{t}`, which does not exist", r.name)),
            Some(m) if m.alias_of.is_some() => Some(format!(
                "region `{}` is an alias of `{t}`, which is itself an alias; name the region the memory belongs to",
                r.name
            )),
            Some(m) if m.kind != r.kind => Some(format!(
                "region `{}` ({}) is an alias of `{t}` ({}): an alias has its region's kind",
                r.name,
                r.kind.name(),
                m.kind.name()
            )),
            Some(m) if r.size > m.size => Some(format!(
                "region `{}` ({} bytes) is larger than `{t}` ({} bytes), of which it is an alias",
                r.name, r.size, m.size
            )),
            Some(_) => None,
        };
        if let Some(p) = problem {
            let m = close_matches(t, &names);
            diags.push(
                src.diag(
                    "memory",
                    p,
                    m.first()
                        .filter(|m| *m != t)
                        .map(|m| format!("did you mean `{m}`?")),
                ),
            );
        }
    }
}

/// The arena, stack and weights go to existing regions of the right kind,
/// and the stack fits its region.
fn check_placement(
    raw: &RawBoard,
    memory: &[MemoryRegion],
    src: &Source<'_>,
    diags: &mut Vec<Diagnostic>,
) {
    let names: Vec<String> = memory.iter().map(|r| r.name.clone()).collect();
    let check_region =
        |key: &str, name: &str, kind: RegionKind, diags: &mut Vec<Diagnostic>| match memory
            .iter()
            .find(|r| r.name == name)
        {
            None => {
                let m = close_matches(name, &names);
                diags.push(
                    src.diag(
                        key,
                        format!("no memory region named `{name}`"),
                        Some(
                            m.first()
                                .map(|m| format!("did you mean `{m}`?"))
                                .unwrap_or_else(|| format!("regions: {}", names.join(", "))),
                        ),
                    ),
                );
            }
            Some(MemoryRegion {
                alias_of: Some(a), ..
            }) => {
                diags.push(src.diag(
                    key,
                    format!(
                        "region `{name}` is an alias of `{a}`; place memory in the region itself"
                    ),
                    Some(format!("use `{a}`")),
                ));
            }
            Some(r) if r.kind != kind => {
                let (is, must) = match kind {
                    RegionKind::Ram => ("flash", "RAM"),
                    RegionKind::Flash => ("RAM", "flash"),
                };
                diags.push(src.diag(
                    key,
                    format!("region `{name}` is {is} but must be {must}"),
                    None,
                ));
            }
            Some(_) => {}
        };
    if raw.placement.arena.is_empty() {
        diags.push(src.diag(
            "placement.arena",
            "the arena needs at least one RAM region",
            None,
        ));
    }
    for a in &raw.placement.arena {
        check_region("placement.arena", a, RegionKind::Ram, diags);
    }
    check_region(
        "placement.stack",
        &raw.placement.stack,
        RegionKind::Ram,
        diags,
    );
    if raw.placement.weights.is_empty() {
        diags.push(src.diag(
            "placement.weights",
            "the weights need at least one flash region",
            Some("name the flash region of the code, e.g. weights = \"FLASH\"".into()),
        ));
    }
    for (i, w) in raw.placement.weights.iter().enumerate() {
        check_region("placement.weights", w, RegionKind::Flash, diags);
        if raw.placement.weights[..i].contains(w) {
            diags.push(src.diag(
                "placement.weights",
                format!("region `{w}` is listed twice"),
                None,
            ));
        }
    }
    if let Some(r) = memory.iter().find(|r| r.name == raw.placement.stack) {
        if raw.placement.stack_size == 0 || raw.placement.stack_size > r.size {
            diags.push(src.diag(
                "placement.stack-size",
                format!(
                    "stack of {} bytes does not fit region `{}` ({} bytes)",
                    raw.placement.stack_size, r.name, r.size
                ),
                None,
            ));
        }
    }
}

/// The report channel.
fn report(raw: &RawBoard, src: &Source<'_>, diags: &mut Vec<Diagnostic>) -> ReportChannel {
    lookup(REPORT_CHANNELS, &raw.report).unwrap_or_else(|| {
        diags.push(src.diag(
            "report",
            format!("unknown report channel `{}`", raw.report),
            Some(format!("use {}", listed(&names(REPORT_CHANNELS)))),
        ));
        ReportChannel::Semihosting
    })
}

/// Exactly one runner, one zant can drive.
fn runner(
    raw: &RawBoard,
    report: ReportChannel,
    src: &Source<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Runner> {
    let runners = [
        raw.run.qemu.is_some(),
        raw.run.probe_rs.is_some(),
        raw.run.espflash.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if runners != 1 {
        diags.push(src.diag(
            "run",
            format!(
                "exactly one of run.qemu, run.probe-rs, run.espflash is needed ({runners} given)"
            ),
            None,
        ));
    }
    if let Some(q) = &raw.run.qemu {
        if !["qemu-system-arm", "qemu-system-riscv32"].contains(&q.binary.as_str()) {
            diags.push(src.diag(
                "run.qemu.binary",
                format!("`{}` is not a QEMU zant can drive", q.binary),
                Some("use qemu-system-arm or qemu-system-riscv32".into()),
            ));
        }
        let known = qemu_machines(&q.binary);
        if !known.is_empty() && !known.contains(&q.machine.as_str()) {
            let names: Vec<String> = known.iter().map(|m| m.to_string()).collect();
            let m = close_matches(&q.machine, &names);
            diags.push(src.diag(
                "run.qemu.machine",
                format!(
                    "`{}` is not a microcontroller machine of {}",
                    q.machine, q.binary
                ),
                Some(match m.first() {
                    Some(m) => format!("did you mean `{m}`?"),
                    None => format!("machines zant knows: {}", names.join(", ")),
                }),
            ));
        }
        if report != ReportChannel::Semihosting {
            diags.push(src.diag(
                "report",
                "QEMU boards report over semihosting",
                Some("set report = \"semihosting\"".into()),
            ));
        }
        Some(Runner::Qemu {
            binary: q.binary.clone(),
            machine: q.machine.clone(),
            cpu: q.cpu.clone(),
            extra_args: q.extra_args.clone(),
        })
    } else if let Some(p) = &raw.run.probe_rs {
        Some(Runner::ProbeRs {
            chip: p.chip.clone(),
        })
    } else {
        raw.run.espflash.as_ref().map(|e| Runner::Espflash {
            chip: e.chip.clone(),
        })
    }
}

/// The microcontroller machines of a QEMU binary (QEMU 7.2 to 9.x; `-machine
/// help` lists them): the Cortex-M machines of `qemu-system-arm` and the
/// RV32 machines of `qemu-system-riscv32`. Empty for a binary zant does not
/// drive (reported on its own).
pub(crate) fn qemu_machines(binary: &str) -> &'static [&'static str] {
    match binary {
        "qemu-system-arm" => &[
            "ast1030-evb",
            "b-l475e-iot01a",
            "emcraft-sf2",
            "lm3s6965evb",
            "lm3s811evb",
            "microbit",
            "mps2-an385",
            "mps2-an386",
            "mps2-an500",
            "mps2-an505",
            "mps2-an511",
            "mps2-an521",
            "mps3-an524",
            "mps3-an547",
            "musca-a",
            "musca-b1",
            "netduino2",
            "netduinoplus2",
            "olimex-stm32-h405",
            "stm32vldiscovery",
        ],
        "qemu-system-riscv32" => &["opentitan", "sifive_e", "sifive_u", "spike", "virt"],
        _ => &[],
    }
}
