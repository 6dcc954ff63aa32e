//! `zant size ELF [--board B]`: flash/RAM footprint of any ELF, broken down.

use std::path::PathBuf;

use crate::out::{self, CliError, CliResult};
use crate::render;

/// Arguments of `zant size`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The firmware ELF.
    elf: PathBuf,
    #[command(flatten)]
    verbosity: crate::args::Verbosity,
    /// Board whose memory regions (and stack reservation) to account against.
    #[arg(long, short)]
    board: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Runs `zant size`.
pub fn run(args: Args) -> CliResult {
    let board = match &args.board {
        Some(b) => Some(zant_boards::resolve(b)?),
        None => None,
    };
    // Any ELF the user names: whatever goes wrong reading it is an input error.
    let f = zant_firmware::measure(&args.elf, board.as_ref()).map_err(CliError::input)?;
    if args.json {
        return out::json(&f);
    }
    out::print(&format!("{}", f.elf.display()));
    render::print_footprint(&f);
    Ok(())
}
