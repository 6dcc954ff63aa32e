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

/// Measures an ELF. With a board, RAM includes the reserved stack and the
/// regions are filled in; without one, flash is everything stored in the
/// file's loadable segments and RAM what they occupy in writable memory.
pub fn measure(elf: &Path, board: Option<&Board>) -> Result<Footprint, FirmwareError> {
    let err = |message: String| FirmwareError::Elf {
        path: elf.to_path_buf(),
        message,
    };
    let data = std::fs::read(elf).map_err(|e| err(e.to_string()))?;
    let parsed = zant_common::elf::Elf::parse(&data).map_err(|e| err(e.to_string()))?;
    let file = parsed.object();
    let mut regions: Vec<RegionUse> = board
        .map(|b| {
            b.memory
                .iter()
                .map(|r| RegionUse {
                    name: r.name.clone(),
                    kind: format!("{:?}", r.kind).to_lowercase(),
                    used: 0,
                    size: r.size,
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
            // Stored outside any flash region (ESP32 images carry the code
            // and data that the boot loader copies to RAM): in the flash the
            // image is written to.
            let at = in_region(board, lma, RegionKind::Flash).or_else(|| {
                let b = board?;
                b.memory.iter().position(|m| m.name == b.placement.weights)
            });
            if let Some(i) = at {
                regions[i].used += size;
            }
        }
        if writable {
            ram += size;
            if let Some(i) = in_region(board, s.address(), RegionKind::Ram) {
                regions[i].used += size;
            }
        }
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
