//! `zant boards`, `zant boards show B`, `zant boards check FILE.toml`.

use std::path::PathBuf;

use zant_boards::{Board, BoardError};

use crate::out::{self, CliError, CliResult};

/// Arguments of `zant boards`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,
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

/// Maps a board error to a CLI error (all are input errors).
pub fn board_error(e: BoardError) -> CliError {
    CliError::input(e)
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
                return out::json(&boards);
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
            let b = zant_boards::resolve(&board).map_err(board_error)?;
            if args.json {
                return out::json(&b);
            }
            show(&b);
            Ok(())
        }
        Some(Action::Check { file }) => {
            let b = zant_boards::check_file(&file).map_err(board_error)?;
            if args.json {
                return out::json(&b);
            }
            out::print(&format!(
                "{} {}: board `{}` is valid",
                out::green("ok"),
                file.display(),
                b.name
            ));
            show(&b);
            Ok(())
        }
    }
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
            b.placement.weights
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
            r.attributes.join(", "),
        ]);
    }
    out::print(&m.to_string());
}
