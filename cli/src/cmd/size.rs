//! `zant size ELF [--board B]`: flash/RAM footprint of any ELF, broken down.

use std::path::PathBuf;

use super::boards::board_error;
use super::build::{firmware_error, print_footprint};
use crate::out::{self, CliResult};

/// Arguments of `zant size`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The firmware ELF.
    elf: PathBuf,
    #[command(flatten)]
    verbosity: super::common::Verbosity,
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
        Some(b) => Some(zant_boards::resolve(b).map_err(board_error)?),
        None => None,
    };
    let f = zant_firmware::measure(&args.elf, board.as_ref()).map_err(|e| {
        let mut c = firmware_error(e);
        c.code = 2;
        c
    })?;
    if args.json {
        return out::json(&f);
    }
    out::print(&format!("{}", f.elf.display()));
    print_footprint(&f);
    Ok(())
}
