//! `zant boards`, `zant boards show B`, `zant boards check FILE.toml`.

use std::path::PathBuf;

use zant_boards::Board;

use crate::out::{self, CliResult};

/// Arguments of `zant boards`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,
    #[command(flatten)]
    verbosity: crate::args::Verbosity,
    /// Print JSON.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Show one board: chip, core, Rust target, memory map, placement, runner.
    Show {
        /// Board name, alias, or path to a board TOML.
        board: String,
    },
    /// Validate a board file; every problem is reported with its line.
    Check {
        /// The board TOML file.
        file: PathBuf,
    },
}

fn kib(b: u64) -> String {
    if b >= 1024 * 1024 && b.is_multiple_of(1024 * 1024) {
        format!("{} MiB", b / (1024 * 1024))
    } else if b.is_multiple_of(1024) {
        format!("{} KiB", b / 1024)
    } else {
        format!("{} B", out::thousands(b))
    }
}

/// Runs `zant boards`.
pub fn run(args: Args) -> CliResult {
    match args.action {
        None => {
            let boards = zant_boards::builtin_boards();
            if args.json {
                // An object, not a bare array, so keys can be added later.
                return out::json(&serde_json::json!({ "boards": boards }));
            }
            let mut t = out::table(
                &["board", "core", "fpu", "flash", "ram", "runner", "aliases"],
                &[3, 4],
            );
            for b in &boards {
                t.add_row(vec![
                    b.name.clone(),
                    b.core.to_string(),
                    format!("{:?}", b.fpu).to_lowercase(),
                    kib(b.total_flash()),
                    kib(b.total_ram()),
                    b.runner.label(),
                    b.aliases.join(", "),
                ]);
            }
            out::print(&t.to_string());
            out::print("\nA path to your own board TOML works wherever a board name does; see `zant boards check`.");
            Ok(())
        }
        Some(Action::Show { board }) => {
            let b = zant_boards::resolve(&board)?;
            if args.json {
                return out::json(&b);
            }
            show(&b);
            Ok(())
        }
        Some(Action::Check { file }) => {
            let b = zant_boards::check_file(&file)?;
            let warnings = probe_rs_mismatches(&b);
            for w in &warnings {
                out::warning(w);
            }
            if args.json {
                return out::json(&b);
            }
            out::print(&format!(
                "{} {}: board `{}` is valid{}",
                out::green("ok"),
                file.display(),
                b.name,
                if warnings.is_empty() {
                    String::new()
                } else {
                    format!(" ({} warning(s) above)", warnings.len())
                }
            ));
            show(&b);
            Ok(())
        }
    }
}

/// Where a board flashed through probe-rs disagrees with probe-rs's own
/// description of its chip: regions that are not flash or RAM there, or a
/// chip probe-rs does not know (it could not flash it).
pub fn probe_rs_mismatches(b: &Board) -> Vec<String> {
    use zant_runner::probe::{chip_memory, covered, MemoryKind};
    let zant_boards::Runner::ProbeRs { chip } = &b.runner else {
        return Vec::new();
    };
    let Some(map) = chip_memory(chip) else {
        return vec![format!(
            "probe-rs does not know chip `{chip}` ([run.probe-rs] chip); `probe-rs chip list` names the ones it can flash"
        )];
    };
    let mut problems = Vec::new();
    for r in b.memory.iter().filter(|r| r.alias_of.is_none()) {
        let (kind, what) = match r.kind {
            zant_boards::RegionKind::Flash => (MemoryKind::Flash, "flash"),
            zant_boards::RegionKind::Ram => (MemoryKind::Ram, "RAM"),
        };
        // The region, or one of its other views, is known to probe-rs.
        let views = std::iter::once(r).chain(
            b.memory
                .iter()
                .filter(|a| a.alias_of.as_deref() == Some(r.name.as_str())),
        );
        if !views
            .into_iter()
            .any(|v| covered(&map, kind, v.start..v.start + v.size))
        {
            let known: Vec<String> = map
                .iter()
                .filter(|c| c.kind == kind)
                .map(|c| format!("{} 0x{:08x}..0x{:08x}", c.name, c.range.start, c.range.end))
                .collect();
            problems.push(format!(
                "region `{}` (0x{:08x}..0x{:08x}) is not {what} of {chip} as probe-rs describes it ({what}: {})",
                r.name,
                r.start,
                r.start + r.size,
                known.join(", ")
            ));
        }
    }
    problems
}

fn show(b: &Board) {
    out::print(&format!("{}  {}", out::bold(&b.name), b.description));
    let mut t = out::table(&["", ""], &[]);
    t.add_row(vec![
        "chip".into(),
        format!("{} {} ({})", b.chip.vendor, b.chip.part, b.chip.family),
    ]);
    let simd: Vec<String> = b
        .simd
        .iter()
        .map(|s| format!("{s:?}").to_lowercase())
        .collect();
    t.add_row(vec![
        "core".into(),
        format!(
            "{}, fpu {:?}, simd [{}], {} MHz",
            b.core,
            b.fpu,
            simd.join(", "),
            b.clock_hz as f64 / 1e6
        )
        .to_lowercase(),
    ]);
    t.add_row(vec![
        "rust target".into(),
        format!(
            "{} (cpu {}, features [{}])",
            b.target.triple,
            b.target.cpu.as_deref().unwrap_or("default"),
            b.target.features.join(", ")
        ),
    ]);
    t.add_row(vec!["runner".into(), b.runner.label()]);
    t.add_row(vec![
        "report".into(),
        format!("{:?}", b.report).to_lowercase(),
    ]);
    t.add_row(vec![
        "placement".into(),
        format!(
            "arena {}, stack {} ({} B), weights {}",
            b.placement.arena.join(" + "),
            b.placement.stack,
            b.placement.stack_size,
            b.placement.weights.join(" + ")
        ),
    ]);
    out::print(&t.to_string());
    let mut m = out::table(&["region", "kind", "start", "size", "attributes"], &[3]);
    for r in &b.memory {
        m.add_row(vec![
            r.name.clone(),
            format!("{:?}", r.kind).to_lowercase(),
            format!("0x{:08x}", r.start),
            kib(r.size),
            r.attributes
                .iter()
                .cloned()
                .chain(r.alias_of.as_ref().map(|a| format!("alias of {a}")))
                .collect::<Vec<_>>()
                .join(", "),
        ]);
    }
    out::print(&m.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_probe_rs_boards_agree_with_probe_rs_memory_maps() {
        let mut checked = 0;
        for b in zant_boards::builtin_boards() {
            if matches!(b.runner, zant_boards::Runner::ProbeRs { .. }) {
                assert_eq!(probe_rs_mismatches(&b), Vec::<String>::new(), "{}", b.name);
                checked += 1;
            }
        }
        assert!(checked >= 7, "{checked} boards checked");
    }

    #[test]
    fn a_region_probe_rs_does_not_know_is_named() {
        let mut b = zant_boards::resolve("stm32h7").unwrap();
        b.memory[0].size *= 2; // 4 MiB of flash on a 2 MiB part
        let w = probe_rs_mismatches(&b);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("region `FLASH`") && w[0].contains("BANK_2"),
            "{w:?}"
        );
        let zant_boards::Runner::ProbeRs { chip } = &mut b.runner else {
            unreachable!()
        };
        *chip = "STM32H999".into();
        assert!(probe_rs_mismatches(&b)[0].contains("does not know chip"));
    }
}
