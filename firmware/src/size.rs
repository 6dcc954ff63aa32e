//! Footprint of a firmware ELF, read with the `object` crate: flash and RAM
//! from the loadable segments, broken down into code, weights, arena and
//! stack, and per memory region of the board.

use std::path::{Path, PathBuf};

use object::{Object, ObjectSection, ObjectSegment, SectionKind};
use serde::Serialize;
use zant_boards::{Board, RegionKind};

use crate::FirmwareError;

/// Use of one memory region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegionUse {
    /// Region name.
    pub name: String,
    /// `flash` or `ram`.
    pub kind: String,
    /// Bytes used.
    pub used: u64,
    /// Region size.
    pub size: u64,
    /// Bytes of the model's weights in the region (flash regions; a board
    /// may spread them over several).
    pub weights_bytes: u64,
}

/// The footprint of a firmware.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Footprint {
    /// The ELF file.
    pub elf: PathBuf,
    /// Bytes stored in flash: code, constants, initial values of data.
    pub flash_bytes: u64,
    /// Bytes of RAM: data, bss (arena included) and the reserved stack.
    pub ram_bytes: u64,
    /// Bytes of the model's activation arena.
    pub arena_bytes: u64,
    /// Bytes of the model's weights (in flash).
    pub weights_bytes: u64,
    /// Bytes of executable code.
    pub code_bytes: u64,
    /// Bytes reserved for the stack.
    pub stack_bytes: u64,
    /// Flash bytes that are neither code nor weights (vector table, other constants, data images).
    pub other_flash_bytes: u64,
    /// RAM bytes that are neither arena nor stack.
    pub other_ram_bytes: u64,
    /// Code of the model crate (its kernels and `predict`).
    pub model_code_bytes: u64,
    /// Code outside the model: start-up, runtime, report formatting.
    pub runtime_code_bytes: u64,
    /// Use of each memory region of the board.
    pub regions: Vec<RegionUse>,
    /// The largest symbols (functions and data), largest first.
    pub largest_symbols: Vec<SymbolSize>,
}

/// One symbol's size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SymbolSize {
    /// Demangled name (without hash).
    pub name: String,
    /// Bytes.
    pub bytes: u64,
    /// `weights`, `arena`, `model code`, `runtime code` or `data`.
    pub kind: String,
}

/// The index (in `regions`) of the board region of `kind` holding `addr`,
/// through aliases: a view of a region is counted in the region itself.
fn in_region(board: Option<&Board>, addr: u64, kind: RegionKind) -> Option<usize> {
    let b = board?;
    let (r, _) = b.locate(addr, kind)?;
    b.memory.iter().position(|m| m.name == r.name)
}

/// What an ELF is, in words: `a 32-bit ARM little-endian`.
fn describe(arch: object::Architecture, little: bool) -> String {
    use object::Architecture as A;
    let name = match arch {
        A::Arm => "a 32-bit ARM".to_string(),
        A::Aarch64 => "an AArch64".to_string(),
        A::X86_64 | A::X86_64_X32 => "an x86-64".to_string(),
        A::I386 => "an x86".to_string(),
        A::Riscv32 => "a RISC-V 32-bit".to_string(),
        A::Riscv64 => "a RISC-V 64-bit".to_string(),
        A::Xtensa => "an Xtensa".to_string(),
        A::Unknown => "an unknown machine's".to_string(),
        other => format!("a {other:?}"),
    };
    let endian = if little {
        "little-endian"
    } else {
        "big-endian"
    };
    format!("{name} {endian}")
}

/// The ELF's machine and byte order must be the board core's: an ELF linked
/// for another architecture has no meaningful footprint on this board.
fn check_machine(elf: &Path, file: &object::File<'_>, board: &Board) -> Result<(), FirmwareError> {
    let want = if board.core.is_arm() {
        object::Architecture::Arm
    } else {
        object::Architecture::Riscv32
    };
    let (arch, little) = (file.architecture(), file.is_little_endian());
    if arch == want && little && file.format() == object::BinaryFormat::Elf {
        return Ok(());
    }
    let found = if file.format() == object::BinaryFormat::Elf {
        describe(arch, little)
    } else {
        format!("{} (not ELF)", describe(arch, little))
    };
    Err(FirmwareError::WrongMachine {
        path: elf.to_path_buf(),
        found,
        board: board.name.clone(),
        core: board.core.to_string(),
        expected: describe(want, true),
    })
}

/// Measures an ELF. With a board, the ELF's machine must be the board's
/// core and every loadable section must lie in one of its regions
/// ([`FirmwareError::WrongMachine`], [`FirmwareError::OutsideRegions`]); RAM
/// includes the reserved stack and the regions are filled in; without one,
/// flash is everything stored in the file's loadable segments and RAM what they occupy in writable memory.
pub fn measure(elf: &Path, board: Option<&Board>) -> Result<Footprint, FirmwareError> {
    let data = std::fs::read(elf).map_err(|source| FirmwareError::ReadElf {
        path: elf.to_path_buf(),
        source,
    })?;
    let parsed = zant_common::elf::Elf::parse(&data).map_err(|source| FirmwareError::Elf {
        path: elf.to_path_buf(),
        source,
    })?;
    let file = parsed.object();
    if let Some(b) = board {
        check_machine(elf, file, b)?;
    }
    let mut outside = Vec::new();
    let mut regions: Vec<RegionUse> = board
        .map(|b| {
            b.memory
                .iter()
                .map(|r| RegionUse {
                    name: r.name.clone(),
                    kind: format!("{:?}", r.kind).to_lowercase(),
                    used: 0,
                    size: r.size,
                    weights_bytes: 0,
                })
                .collect()
        })
        .unwrap_or_default();
    let (mut flash, mut ram) = (0u64, 0u64);
    // Loadable sections: stored bytes go to flash (at their load address),
    // writable ones occupy RAM (at their run address).
    for s in file.sections() {
        let size = s.size();
        if size == 0
            || s.address() == 0
                && !matches!(
                    s.kind(),
                    SectionKind::Text
                        | SectionKind::ReadOnlyData
                        | SectionKind::Data
                        | SectionKind::UninitializedData
                )
        {
            continue;
        }
        let name = s.name().unwrap_or("");
        let stored = matches!(
            s.kind(),
            SectionKind::Text
                | SectionKind::ReadOnlyData
                | SectionKind::ReadOnlyString
                | SectionKind::Data
                | SectionKind::ReadOnlyDataWithRel
        );
        let writable = matches!(
            s.kind(),
            SectionKind::Data
                | SectionKind::UninitializedData
                | SectionKind::UninitializedTls
                | SectionKind::Tls
        );
        // A read-only section without contents reserves address space:
        // esp-hal's `.rotext_dummy` keeps code off the flash pages its data
        // view uses (not memory at all), `.rwdata_dummy` keeps data off the
        // RAM its code view uses (RAM, counted where it lies).
        let reservation = s.kind() == SectionKind::UninitializedData
            && matches!(s.flags(), object::SectionFlags::Elf { sh_flags, .. } if !sh_flags.contains(object::elf::SHF_WRITE));
        let writable = if reservation {
            in_region(board, s.address(), RegionKind::Ram).is_some()
        } else {
            writable
        };
        // riscv-rt reserves the rest of RAM as `.stack`/`.heap` sections; the
        // stack is counted as the board's reservation instead.
        if !stored && !writable
            || name.starts_with(".debug")
            || name == ".comment"
            || name == ".stack"
            || name == ".heap"
        {
            continue;
        }
        if stored {
            // Load address: the segment containing the section maps VMA → LMA.
            let lma = file
                .segments()
                .find(|g| {
                    s.address() >= g.address() && s.address() + size <= g.address() + g.size()
                })
                .and_then(|g| match &file {
                    object::File::Elf32(f) => {
                        use object::read::elf::ProgramHeader;
                        let e = f.endian();
                        f.elf_program_headers()
                            .iter()
                            .find(|ph| u64::from(ph.p_vaddr(e)) == g.address())
                            .map(|ph| u64::from(ph.p_paddr(e)) + (s.address() - g.address()))
                    }
                    _ => None,
                })
                .unwrap_or(s.address());
            flash += size;
            // Stored outside any flash region but loaded into RAM by an
            // ESP32 boot loader (espflash images carry that code and data):
            // in the flash the image is written to, the board's first flash
            // region that is not a view of another. Elsewhere such bytes
            // have no flash to live in: the ELF was linked for another map.
            let at = in_region(board, lma, RegionKind::Flash).or_else(|| {
                let b = board?;
                if !matches!(b.runner, zant_boards::Runner::Espflash { .. }) {
                    return None;
                }
                in_region(board, s.address(), RegionKind::Ram)?;
                b.memory
                    .iter()
                    .position(|m| m.kind == RegionKind::Flash && m.alias_of.is_none())
            });
            match at {
                Some(i) => regions[i].used += size,
                // The RP2040's second-stage boot loader: the runtime places it
                // in the 256 bytes of flash before the board's FLASH region.
                None if board
                    .and_then(crate::boot_block)
                    .is_some_and(|(start, len)| lma >= start && lma + size <= start + len) => {}
                None if board.is_some() => outside.push(format!(
                    "{name} at {:#010x}..{:#010x} ({size} B, stored in flash)",
                    lma,
                    lma + size
                )),
                None => {}
            }
        }
        if writable {
            ram += size;
            match in_region(board, s.address(), RegionKind::Ram) {
                Some(i) => regions[i].used += size,
                None if board.is_some() && !stored => outside.push(format!(
                    "{name} at {:#010x}..{:#010x} ({size} B, RAM)",
                    s.address(),
                    s.address() + size
                )),
                None => {}
            }
        }
    }
    if let (Some(b), false) = (board, outside.is_empty()) {
        return Err(FirmwareError::OutsideRegions {
            path: elf.to_path_buf(),
            board: b.name.clone(),
            sections: outside,
            regions: b
                .memory
                .iter()
                .map(|r| {
                    format!(
                        "{} {:#010x}..{:#010x} ({})",
                        r.name,
                        r.start,
                        r.start + r.size,
                        format!("{:?}", r.kind).to_lowercase()
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let (mut weights, mut arena, mut code, mut model_code) = (0u64, 0u64, 0u64, 0u64);
    let mut symbols: Vec<SymbolSize> = Vec::new();
    for sym in parsed.symbols() {
        let name = sym.name;
        if sym.size == 0 {
            continue;
        }
        let pretty = sym.demangled();
        let kind = if name.contains("ZANT_W_") {
            weights += sym.size;
            if let Some(i) = in_region(board, sym.address, RegionKind::Flash) {
                regions[i].weights_bytes += sym.size;
            }
            "weights"
        } else if name.contains("ZANT_ARENA_R") || name.contains("ZANT_FW_ARENA") {
            arena += sym.size;
            "arena"
        } else if sym.kind == zant_common::elf::SymbolKind::Text {
            // The model crate is `<model>_model`; its code is the kernels and `run`.
            if pretty
                .split("::")
                .next()
                .is_some_and(|c| c.ends_with("_model"))
            {
                model_code += sym.size;
                "model code"
            } else {
                "runtime code"
            }
        } else {
            "data"
        };
        symbols.push(SymbolSize {
            name: pretty,
            bytes: sym.size,
            kind: kind.to_string(),
        });
    }
    symbols.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.name.cmp(&b.name)));
    symbols.truncate(12);
    for s in file.sections() {
        if s.kind() == SectionKind::Text {
            code += s.size();
        }
    }
    let stack = board.map(|b| b.placement.stack_size).unwrap_or(0);
    if let Some(b) = board {
        if let Some(r) = regions.iter_mut().find(|r| r.name == b.placement.stack) {
            r.used += stack;
        }
    }
    ram += stack;
    Ok(Footprint {
        elf: elf.to_path_buf(),
        flash_bytes: flash,
        ram_bytes: ram,
        arena_bytes: arena,
        weights_bytes: weights,
        code_bytes: code,
        stack_bytes: stack,
        other_flash_bytes: flash.saturating_sub(code + weights),
        other_ram_bytes: ram.saturating_sub(arena + stack),
        model_code_bytes: model_code,
        runtime_code_bytes: code.saturating_sub(model_code),
        regions,
        largest_symbols: symbols,
    })
}
