//! The Cortex-M DSP extension (M4, M7, M33, M55) for the integer kernels:
//! `SMLAD`, two 16×16-bit multiply-accumulates in one instruction.
//!
//! Stable Rust has no DSP intrinsics; `asm!` on core registers is stable.
//! Each use is one instruction the compiler schedules and allocates
//! registers around like any other (`pure`, `nomem`), so the drivers in
//! [`qfast`](super::super::qfast) stay plain Rust, generic over
//! [`QMac`](super::super::qfast::QMac), and the property tests compare this
//! variant with [`qfast::Portable`](super::super::qfast::Portable) on QEMU.

use super::super::qfast::{QMac, Rescale};

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

    #[inline(always)]
    fn rescale(acc: i32, r: &Rescale) -> i32 {
        let y: i32;
        // Every output is an early-clobber `out`: none shares a register
        // with an input read after it is written.
        // SAFETY: register-only instructions, no memory; they write the
        // flags (not preserved, as `asm!` assumes by default).
        unsafe {
            core::arch::asm!(
                // v = acc · mult
                "smull {lo}, {hi}, {acc}, {m}",
                // carry = q0, bit `shift` of v
                "asr {q}, {hi}, {s}",
                "lsrs {q}, {q}, #1",
                // t = v + 2^(shift-1) - 1 + q0
                "adcs {lo}, {lo}, {rl}",
                "adc {hi}, {hi}, {rh}",
                "asr {hi}, {hi}, {s}",
                acc = in(reg) acc,
                m = in(reg) r.mult,
                s = in(reg) r.shift_hi as i32,
                rl = in(reg) r.round_lo,
                rh = in(reg) r.round_hi,
                lo = out(reg) _,
                hi = out(reg) y,
                q = out(reg) _,
                options(pure, nomem, nostack),
            );
        }
        y
    }

    #[inline(always)]
    fn rescale_fused(acc: i32, r: &Rescale) -> i32 {
        let y: i32;
        // SAFETY: register-only instructions, no memory, no flags.
        unsafe {
            core::arch::asm!(
                // hi:lo = constant + acc · mult
                "smlal {lo}, {hi}, {acc}, {m}",
                "asr {hi}, {hi}, {s}",
                acc = in(reg) acc,
                m = in(reg) r.mult,
                s = in(reg) r.shift_hi as i32,
                lo = inout(reg) r.round_lo => _,
                hi = inout(reg) r.round_hi => y,
                options(pure, nomem, nostack, preserves_flags),
            );
        }
        y
    }

    #[inline(always)]
    fn rescale2(a: i32, b: i32, b_mult: i32, r: &Rescale) -> i32 {
        let y: i32;
        // SAFETY: as in `rescale`.
        unsafe {
            core::arch::asm!(
                // v = a · mult + b · b_mult
                "smull {lo}, {hi}, {a}, {m}",
                "smlal {lo}, {hi}, {b}, {mb}",
                "asr {q}, {hi}, {s}",
                "lsrs {q}, {q}, #1",
                "adcs {lo}, {lo}, {rl}",
                "adc {hi}, {hi}, {rh}",
                "asr {hi}, {hi}, {s}",
                a = in(reg) a,
                m = in(reg) r.mult,
                b = in(reg) b,
                mb = in(reg) b_mult,
                s = in(reg) r.shift_hi as i32,
                rl = in(reg) r.round_lo,
                rh = in(reg) r.round_hi,
                lo = out(reg) _,
                hi = out(reg) y,
                q = out(reg) _,
                options(pure, nomem, nostack),
            );
        }
        y
    }
}
