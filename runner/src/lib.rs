//! zant-runner: runs firmware and reads back what it reports.
//!
//! - [`report`]: the `ZANT-REPORT v1` block every firmware prints, whatever
//!   the channel (semihosting, RTT, UART).
//! - [`qemu`]: runs an ELF under `qemu-system-arm` / `qemu-system-riscv32`
//!   with semihosting and a hard time limit, turns panics, faults and hangs
//!   into clear errors, and counts the instructions of one inference with
//!   zant's TCG plugin ([`plugin`]), built once and cached.
//! - [`frame`]: the host side of the data-set protocol for hardware boards
//!   (framing and a decoder; the firmware side is `templates/common/frame.rs`).
//! - [`link`]: drives a data set through a framed data-set firmware over a
//!   byte link (RTT, a serial port).
//! - [`probe`], [`esp`]: flash and run through a debug probe (probe-rs) or an
//!   ESP32's serial port (espflash).
//! - [`run`]: the one entry point that runs an ELF on whatever its board
//!   names, with one outcome type ([`TargetOutcome`]) and one error
//!   ([`RunError`]).

#![warn(missing_docs)]

pub mod esp;
pub mod frame;
pub mod link;
pub mod plugin;
pub mod probe;
pub mod qemu;
pub mod report;
mod target;

pub use target::{
    find_target, preflight, preflight_dataset, run, run_dataset, DataSetTargetOutcome, Progress,
    RunError, RunOptions, Silent, TargetOutcome, SAMPLES_FILE,
};

use std::path::Path;

use zant_common::elf::Elf;

/// Address of a symbol in an ELF (Thumb bit cleared).
pub fn symbol_address(elf: &[u8], name: &str) -> Option<u64> {
    Elf::parse(elf).ok()?.address_of(name)
}

/// The function containing `addr`, demangled, with the offset into it.
pub fn symbolize(elf: &Path, addr: u64) -> Option<String> {
    let data = std::fs::read(elf).ok()?;
    Elf::parse(&data).ok()?.function_at(addr)
}
