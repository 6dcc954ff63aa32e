//! The Cortex-M DSP extension (M4, M7, M33, M55) for the integer kernels:
//! `SMLAD`, two 16×16-bit multiply-accumulates in one instruction.
//!
//! Stable Rust has no DSP intrinsics; `asm!` on core registers is stable.
//! Each use is one instruction the compiler schedules and allocates
//! registers around like any other (`pure`, `nomem`), so the drivers in
//! [`qfast`](super::super::qfast) stay plain Rust, generic over
//! [`QMac`](super::super::qfast::QMac), and the property tests compare this
//! variant with [`qfast::Portable`](super::super::qfast::Portable) on QEMU.

use super::super::qfast::QMac;

/// [`QMac`] on `SMLAD`. Only for cores with the DSP extension (the kernel
/// set chooses it from the board's `simd` list).
#[derive(Clone, Copy, Debug, Default)]
pub struct Dsp;

impl QMac for Dsp {
    const DUAL: bool = true;

    #[inline(always)]
    fn mac2(acc: i32, a: u32, b: u32) -> i32 {
        let r: i32;
        // SAFETY: one register-only instruction, no memory, no flags read;
        // SMLAD sets only the sticky Q flag, which nothing here reads.
        unsafe {
            core::arch::asm!(
                "smlad {r}, {a}, {b}, {c}",
                r = lateout(reg) r,
                a = in(reg) a,
                b = in(reg) b,
                c = in(reg) acc,
                options(pure, nomem, nostack),
            );
        }
        r
    }
}
