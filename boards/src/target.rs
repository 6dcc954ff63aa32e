//! Rust target derivation: from core, FPU and SIMD follow the triple,
//! `target-cpu` and target features.

use crate::types::{Core, Fpu, RustTarget, Simd};

/// The Rust target of a core, FPU and SIMD set; `None` when Rust has none.
pub fn rust_target(core: Core, fpu: Fpu, simd: &[Simd]) -> Option<RustTarget> {
    let hf = fpu != Fpu::None;
    let (triple, cpu, mut features): (&str, Option<&str>, Vec<String>) = match core {
        Core::CortexM0Plus => ("thumbv6m-none-eabi", Some("cortex-m0plus"), vec![]),
        Core::CortexM3 => ("thumbv7m-none-eabi", Some("cortex-m3"), vec![]),
        Core::CortexM4 if hf => ("thumbv7em-none-eabihf", Some("cortex-m4"), vec![]),
        Core::CortexM4 => (
            "thumbv7em-none-eabi",
            Some("cortex-m4"),
            vec!["-fpregs".into()],
        ),
        Core::CortexM7 if fpu == Fpu::Double => {
            ("thumbv7em-none-eabihf", Some("cortex-m7"), vec![])
        }
        Core::CortexM7 if hf => (
            "thumbv7em-none-eabihf",
            Some("cortex-m7"),
            vec!["-fp64".into()],
        ),
        Core::CortexM7 => (
            "thumbv7em-none-eabi",
            Some("cortex-m7"),
            vec!["-fpregs".into()],
        ),
        Core::CortexM33 if hf => ("thumbv8m.main-none-eabihf", Some("cortex-m33"), vec![]),
        Core::CortexM33 => (
            "thumbv8m.main-none-eabi",
            Some("cortex-m33"),
            vec!["-fpregs".into()],
        ),
        Core::CortexM55 if hf => ("thumbv8m.main-none-eabihf", Some("cortex-m55"), vec![]),
        Core::CortexM55 => ("thumbv8m.main-none-eabi", Some("cortex-m55"), vec![]),
        Core::Rv32imc => ("riscv32imc-unknown-none-elf", None, vec![]),
        Core::Rv32imac => ("riscv32imac-unknown-none-elf", None, vec![]),
    };
    if core == Core::CortexM55 && !simd.contains(&Simd::Mve) {
        features.push("-mve".into());
    }
    Some(RustTarget {
        triple: triple.into(),
        cpu: cpu.map(str::to_string),
        features,
    })
}
