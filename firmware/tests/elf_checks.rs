//! `measure` with a board checks the ELF's machine and byte order against the
//! board's core and that every loadable section lies in one of its regions,
//! on small ELF files written here byte by byte.

use std::path::PathBuf;

use zant_firmware::{measure, FirmwareError};

const EM_ARM: u16 = 40;
const EM_RISCV: u16 = 243;
const SHT_PROGBITS: u32 = 1;
const SHT_STRTAB: u32 = 3;
const SHF_WRITE: u32 = 1;
const SHF_ALLOC: u32 = 2;
const SHF_EXECINSTR: u32 = 4;

/// One section: name, address, size, flags, load address (0: the address).
struct Sec(&'static str, u32, u32, u32, u32);

/// A 32-bit executable ELF with one loadable segment per section.
fn elf32(machine: u16, big_endian: bool, secs: &[Sec]) -> Vec<u8> {
    let mut out = Vec::new();
    let h16 = |o: &mut Vec<u8>, v: u16| {
        o.extend_from_slice(&if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        })
    };
    let h32 = |o: &mut Vec<u8>, v: u32| {
        o.extend_from_slice(&if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        })
    };
    let n = secs.len() as u32;
    let data_off = 52 + 32 * n;
    let mut offsets = Vec::new();
    let mut at = data_off;
    for s in secs {
        offsets.push(at);
        at += s.2;
    }
    let mut strtab = vec![0u8];
    let mut names = Vec::new();
    for s in secs.iter().map(|s| s.0).chain([".shstrtab"]) {
        names.push(strtab.len() as u32);
        strtab.extend_from_slice(s.as_bytes());
        strtab.push(0);
    }
    let strtab_off = at;
    let sh_off = (strtab_off + strtab.len() as u32).next_multiple_of(4);
    // ELF header.
    out.extend_from_slice(&[0x7f, b'E', b'L', b'F', 1, if big_endian { 2 } else { 1 }, 1]);
    out.resize(16, 0);
    h16(&mut out, 2); // executable
    h16(&mut out, machine);
    h32(&mut out, 1);
    h32(&mut out, secs.first().map_or(0, |s| s.1));
    h32(&mut out, 52);
    h32(&mut out, sh_off);
    h32(&mut out, 0x0500_0000);
    h16(&mut out, 52);
    h16(&mut out, 32);
    h16(&mut out, n as u16);
    h16(&mut out, 40);
    h16(&mut out, n as u16 + 2);
    h16(&mut out, n as u16 + 1);
    // Program headers.
    for (s, off) in secs.iter().zip(&offsets) {
        let lma = if s.4 == 0 { s.1 } else { s.4 };
        for v in [1, *off, s.1, lma, s.2, s.2, 5, 4] {
            h32(&mut out, v);
        }
    }
    for s in secs {
        out.extend(std::iter::repeat_n(0xa5u8, s.2 as usize));
    }
    out.extend_from_slice(&strtab);
    out.resize(sh_off as usize, 0);
    // Section headers: null, the sections, .shstrtab.
    out.extend(std::iter::repeat_n(0u8, 40));
    for ((s, off), name) in secs.iter().zip(&offsets).zip(&names) {
        for v in [*name, SHT_PROGBITS, s.3, s.1, *off, s.2, 0, 0, 4, 0] {
            h32(&mut out, v);
        }
    }
    for v in [
        names[secs.len()],
        SHT_STRTAB,
        0,
        0,
        strtab_off,
        strtab.len() as u32,
        0,
        0,
        1,
        0,
    ] {
        h32(&mut out, v);
    }
    out
}

fn write(name: &str, bytes: &[u8]) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("elf-checks");
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

const TEXT: u32 = SHF_ALLOC | SHF_EXECINSTR;
const DATA: u32 = SHF_ALLOC | SHF_WRITE;

#[test]
fn an_elf_of_the_boards_machine_in_its_regions_measures() {
    let b = zant_boards::resolve("stm32h7").unwrap();
    let p = write(
        "ok.elf",
        &elf32(
            EM_ARM,
            false,
            &[
                Sec(".text", 0x0800_0000, 256, TEXT, 0),
                Sec(".data", 0x2000_0000, 64, DATA, 0x0800_0100),
            ],
        ),
    );
    let f = measure(&p, Some(&b)).unwrap();
    assert_eq!(f.flash_bytes, 256 + 64);
    assert_eq!(f.ram_bytes, 64 + b.placement.stack_size);
    assert_eq!(f.weights_bytes, 0);
    // Without a board nothing is checked.
    measure(&p, None).unwrap();
}

#[test]
fn another_architecture_is_refused_naming_both() {
    let b = zant_boards::resolve("stm32h7").unwrap();
    let p = write(
        "riscv.elf",
        &elf32(EM_RISCV, false, &[Sec(".text", 0x0800_0000, 16, TEXT, 0)]),
    );
    let e = measure(&p, Some(&b)).unwrap_err();
    assert!(matches!(e, FirmwareError::WrongMachine { .. }), "{e}");
    let s = e.to_string();
    assert!(
        s.contains("a RISC-V 32-bit little-endian ELF")
            && s.contains("cortex-m7")
            && s.contains("expected a 32-bit ARM little-endian ELF"),
        "{s}"
    );
    // And the other way round.
    let c3 = zant_boards::resolve("esp32-c3-devkit").unwrap();
    let p = write(
        "arm.elf",
        &elf32(EM_ARM, false, &[Sec(".text", 0x4200_0000, 16, TEXT, 0)]),
    );
    let s = measure(&p, Some(&c3)).unwrap_err().to_string();
    assert!(
        s.contains("expected a RISC-V 32-bit little-endian ELF"),
        "{s}"
    );
}

#[test]
fn big_endian_arm_is_refused() {
    let b = zant_boards::resolve("stm32h7").unwrap();
    let p = write(
        "be.elf",
        &elf32(EM_ARM, true, &[Sec(".text", 0x0800_0000, 16, TEXT, 0)]),
    );
    let s = measure(&p, Some(&b)).unwrap_err().to_string();
    assert!(s.contains("32-bit ARM big-endian ELF"), "{s}");
}

#[test]
fn sections_outside_every_region_are_named_with_the_regions() {
    let b = zant_boards::resolve("stm32h7").unwrap();
    let p = write(
        "elsewhere.elf",
        &elf32(
            EM_ARM,
            false,
            &[
                Sec(".text", 0x0800_0000, 32, TEXT, 0),
                Sec(".rodata.far", 0x6000_0000, 128, SHF_ALLOC, 0),
                Sec(".bss.far", 0x7000_0000, 0x40, DATA, 0),
            ],
        ),
    );
    let e = measure(&p, Some(&b)).unwrap_err();
    assert!(matches!(e, FirmwareError::OutsideRegions { .. }), "{e}");
    let s = e.to_string();
    for want in [
        "2 sections lie outside every memory region of board `nucleo-h743zi`",
        ".rodata.far at 0x60000000..0x60000080 (128 B, stored in flash)",
        ".bss.far at 0x70000000",
        "FLASH 0x08000000..0x08200000 (flash)",
    ] {
        assert!(s.contains(want), "missing {want:?} in {s}");
    }
}
