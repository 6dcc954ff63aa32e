//! zant-runner: runs firmware and reads back what it reports.
//!
//! - [`report`]: the `ZANT-REPORT v1` block every firmware prints, whatever
//!   the channel (semihosting, RTT, UART).
//! - [`qemu`]: runs an ELF under `qemu-system-arm` / `qemu-system-riscv32`
//!   with semihosting and a hard time limit, turns panics, faults and hangs
//!   into clear errors, and counts the instructions of one inference with
//!   zant's TCG plugin ([`plugin`]), built once and cached.
//! - [`probe`], [`esp`]: flash and run through a debug probe (probe-rs) or an
//!   ESP32's serial port (espflash).
//! - [`run`]: the one entry point that runs an ELF on whatever its board
//!   names, with one outcome type ([`TargetOutcome`]) and one error
//!   ([`RunError`]).

#![warn(missing_docs)]

pub mod esp;
pub mod plugin;
pub mod probe;
pub mod qemu;
pub mod report;
mod target;

pub use target::{run, Progress, RunError, RunOptions, Silent, TargetOutcome};

use std::path::Path;

use object::{Object, ObjectSymbol};

/// Address of a symbol in an ELF (Thumb bit cleared).
pub fn symbol_address(elf: &[u8], name: &str) -> Option<u64> {
    let file = object::File::parse(elf).ok()?;
    let thumb = matches!(file.architecture(), object::Architecture::Arm);
    file.symbols().find(|s| s.name() == Ok(name)).map(|s| {
        if thumb {
            s.address() & !1
        } else {
            s.address()
        }
    })
}

/// The function containing `addr`, demangled, with the offset into it.
pub fn symbolize(elf: &Path, addr: u64) -> Option<String> {
    let data = std::fs::read(elf).ok()?;
    let file = object::File::parse(&*data).ok()?;
    let thumb = matches!(file.architecture(), object::Architecture::Arm);
    file.symbols()
        .filter(|s| s.kind() == object::SymbolKind::Text && s.size() > 0)
        .find_map(|s| {
            let start = if thumb { s.address() & !1 } else { s.address() };
            (addr >= start && addr < start + s.size()).then(|| {
                let name = s.name().unwrap_or("?");
                format!("{:#}+0x{:x}", rustc_demangle::demangle(name), addr - start)
            })
        })
}
