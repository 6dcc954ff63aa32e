//! The kernel set: which kernel variants the generated code calls, chosen
//! once per build from the board's core, FPU and SIMD extensions.
//!
//! The choice is made at compile time: passes read the set to decide which
//! fast paths (and which weight layouts) a node takes, and the emitter asks it
//! for the path of the micro-kernel the generated code names directly. There
//! is no run-time dispatch. Without a board, [`KernelSet::portable`] is used:
//! the fast drivers with the plain-Rust micro-kernel, which builds and runs
//! everywhere (the host included).

use serde::Serialize;
use zant_boards::{Board, Core, Fpu, Simd};

/// Instruction-set class of the target, as far as kernels care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Isa {
    /// Generic scalar code (no board given, or a core zant knows nothing of).
    Portable,
    /// Cortex-M with a single-precision FPU (M4F, M33F): `vfma.f32`, `vldmia`.
    CortexMFpu,
    /// Cortex-M7: FPU and a dual-issue pipeline.
    CortexM7,
    /// Cortex-M55 with Helium (MVE-F): four f32 lanes.
    Helium,
    /// Cores without an FPU (M0+, M3, RV32): floats in software, so the
    /// kernels only avoid redundant work.
    NoFpu,
}

impl Isa {
    /// Short name, as shown by `zant inspect`.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Portable => "portable",
            Isa::CortexMFpu => "cortex-m-fpu",
            Isa::CortexM7 => "cortex-m7",
            Isa::Helium => "helium",
            Isa::NoFpu => "no-fpu",
        }
    }
}

/// The kernel variants one build uses, and their tuning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KernelSet {
    /// Instruction-set class.
    pub isa: Isa,
    /// Output positions per pass of the stride-1 direct convolution
    /// (`fused::conv2d`): 3 on scalar FPUs, 2 where the compiler vectorizes
    /// the four-channel accumulation (Helium).
    pub conv_positions: usize,
    /// The core has the Cortex-M DSP extension (`SMLAD`, packed 16-bit
    /// multiply-accumulate) and the build is a hard-float Arm one, where the
    /// kernels' `arm::dsp` module exists: the integer kernels use it.
    pub dsp: bool,
}

impl Default for KernelSet {
    fn default() -> Self {
        Self::portable()
    }
}

impl KernelSet {
    /// The set used without a board: portable drivers, plain-Rust micro-kernel.
    pub const fn portable() -> Self {
        KernelSet {
            isa: Isa::Portable,
            conv_positions: 3,
            dsp: false,
        }
    }

    /// The set for an instruction-set class.
    pub const fn for_isa(isa: Isa) -> Self {
        KernelSet {
            isa,
            conv_positions: match isa {
                Isa::Helium => 2,
                _ => 3,
            },
            // Every hard-float Cortex-M class zant knows has a DSP extension
            // (M4F, M7, M33F, M55); `for_board` narrows it to the board's.
            dsp: matches!(isa, Isa::CortexMFpu | Isa::CortexM7 | Isa::Helium),
        }
    }

    /// The class of a core with the given FPU and SIMD extensions.
    pub fn isa_of(core: Core, fpu: Fpu, simd: &[Simd]) -> Isa {
        if simd.contains(&Simd::Mve) && fpu != Fpu::None {
            return Isa::Helium;
        }
        match (core, fpu) {
            (_, Fpu::None) => Isa::NoFpu,
            (Core::CortexM7, _) => Isa::CortexM7,
            (Core::CortexM4 | Core::CortexM33 | Core::CortexM55, _) => Isa::CortexMFpu,
            _ => Isa::Portable,
        }
    }

    /// The set for a board.
    pub fn for_board(board: &Board) -> Self {
        let set = Self::for_isa(Self::isa_of(board.core, board.fpu, &board.simd));
        KernelSet {
            dsp: set.dsp && board.simd.contains(&Simd::Dsp),
            ..set
        }
    }

    /// Path (under the vendored kernels `zk`) of the micro-kernel type the
    /// matrix-product drivers are instantiated with.
    /// The Arm variants exist only in builds for hard-float Arm targets.
    pub fn micro(&self) -> &'static str {
        match self.isa {
            Isa::CortexMFpu | Isa::CortexM7 => "arm::fpu::CortexMFpu",
            Isa::Helium => "arm::mve::Helium",
            Isa::Portable | Isa::NoFpu => "micro::Portable",
        }
    }

    /// Whether stride-1 direct convolutions run on the indirect FPU
    /// micro-kernel (`fast::conv::conv_max_pool`, fused `vfma`) rather than
    /// `fused::conv2d`, whose plain-Rust loops compile to a separate
    /// multiply and add: true on the Arm cores with an FPU micro-kernel.
    pub fn indirect_conv(&self) -> bool {
        matches!(self.isa, Isa::CortexMFpu | Isa::CortexM7 | Isa::Helium)
    }

    /// Path (under the vendored kernels `zk`) of the dual 16-bit
    /// multiply-accumulate the integer matrix products are instantiated
    /// with: `SMLAD` where the core has the DSP extension.
    pub fn qmac(&self) -> &'static str {
        if self.dsp {
            "arm::dsp::Dsp"
        } else {
            "qfast::Portable"
        }
    }

    /// Path (under the vendored kernels `zk`) of the 8-bit dot product the
    /// `i8` matrix product (`qfast::conv8`) is instantiated with, on cores
    /// that have one: Helium's `VMLADAVA.S8`. Elsewhere `None`: the integer
    /// matrix products stay on the 16-bit layout and [`qmac`](Self::qmac).
    pub fn dot8(&self) -> Option<&'static str> {
        match self.isa {
            Isa::Helium => Some("arm::mve_int::HeliumDot"),
            _ => None,
        }
    }

    /// A label of the set: `helium`, `cortex-m-fpu`, …
    pub fn name(&self) -> &'static str {
        self.isa.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_boards_map_to_their_class() {
        let isa = |n: &str| KernelSet::for_board(&zant_boards::resolve(n).unwrap()).isa;
        assert_eq!(isa("qemu-mps2-an386"), Isa::CortexMFpu);
        assert_eq!(isa("qemu-mps2-an500"), Isa::CortexM7);
        assert_eq!(isa("qemu-mps3-an547"), Isa::Helium);
        assert_eq!(isa("qemu-mps2-an385"), Isa::NoFpu);
        assert_eq!(isa("qemu-riscv32-virt"), Isa::NoFpu);
        assert_eq!(
            KernelSet::for_board(&zant_boards::resolve("qemu-mps3-an547").unwrap()).micro(),
            "arm::mve::Helium"
        );
        assert_eq!(KernelSet::portable().micro(), "micro::Portable");
        let qmac = |n: &str| KernelSet::for_board(&zant_boards::resolve(n).unwrap()).qmac();
        assert_eq!(qmac("qemu-mps2-an386"), "arm::dsp::Dsp");
        assert_eq!(qmac("qemu-mps2-an500"), "arm::dsp::Dsp");
        assert_eq!(qmac("qemu-mps3-an547"), "arm::dsp::Dsp");
        assert_eq!(qmac("qemu-mps2-an385"), "qfast::Portable");
        assert_eq!(qmac("qemu-riscv32-virt"), "qfast::Portable");
        // The 8-bit dot product (the i8 layout) on Helium only.
        let dot8 = |n: &str| KernelSet::for_board(&zant_boards::resolve(n).unwrap()).dot8();
        assert_eq!(dot8("qemu-mps3-an547"), Some("arm::mve_int::HeliumDot"));
        for n in [
            "qemu-mps2-an386",
            "qemu-mps2-an500",
            "qemu-mps2-an385",
            "qemu-riscv32-virt",
        ] {
            assert_eq!(dot8(n), None, "{n}");
        }
        assert_eq!(KernelSet::portable().dot8(), None);
        assert_eq!(
            KernelSet::for_board(&zant_boards::resolve("qemu-mps3-an547").unwrap()).conv_positions,
            2
        );
    }
}
