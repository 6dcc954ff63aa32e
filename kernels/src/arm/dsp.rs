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
    fn dot4(acc: [i32; 4], col: &[u32], w: &[u32]) -> [i32; 4] {
        let n = w.len() / 2;
        if n == 0 {
            return acc;
        }
        // The loop reads exactly these: `2n` weight words and `8n` column
        // words (the slicing checks both lengths once).
        let (w, col) = (&w[..2 * n], &col[..8 * n]);
        let [mut a0, mut a1, mut a2, mut a3] = acc;
        // The pointers and the count are scratch copies (`inout … => _`);
        // `SMLAD` writes only the accumulators and the sticky Q flag, `SUBS`
        // the flags (not preserved, as `asm!` assumes by default).
        // SAFETY: `LDRD` reads the `2n` words of `w` and the `8n` of `col`
        // (word-aligned slices, as `LDRD` needs) and nothing else.
        unsafe {
            core::arch::asm!(
                "2:",
                "ldrd {w0}, {w1}, [{wp}], #8",
                "ldrd {c0}, {c1}, [{cp}], #8",
                "smlad {a0}, {c0}, {w0}, {a0}",
                "smlad {a1}, {c1}, {w0}, {a1}",
                "ldrd {c0}, {c1}, [{cp}], #8",
                "smlad {a2}, {c0}, {w0}, {a2}",
                "smlad {a3}, {c1}, {w0}, {a3}",
                "ldrd {c0}, {c1}, [{cp}], #8",
                "smlad {a0}, {c0}, {w1}, {a0}",
                "smlad {a1}, {c1}, {w1}, {a1}",
                "ldrd {c0}, {c1}, [{cp}], #8",
                "smlad {a2}, {c0}, {w1}, {a2}",
                "smlad {a3}, {c1}, {w1}, {a3}",
                "subs {n}, {n}, #1",
                "bne 2b",
                wp = inout(reg) w.as_ptr() => _,
                cp = inout(reg) col.as_ptr() => _,
                n = inout(reg) n => _,
                a0 = inout(reg) a0,
                a1 = inout(reg) a1,
                a2 = inout(reg) a2,
                a3 = inout(reg) a3,
                w0 = out(reg) _,
                w1 = out(reg) _,
                c0 = out(reg) _,
                c1 = out(reg) _,
                options(pure, readonly, nostack),
            );
        }
        [a0, a1, a2, a3]
    }

    #[inline(always)]
    fn dot1(acc: i32, col: &[u32], w: &[u32]) -> i32 {
        let n = w.len() / 2;
        if n == 0 {
            return acc;
        }
        let (w, col) = (&w[..2 * n], &col[..2 * n]);
        let mut a = acc;
        // As in `dot4`: scratch pointers and count, flags clobbered.
        // SAFETY: `LDRD` reads the `2n` words of `w` and of `col`
        // (word-aligned slices, as `LDRD` needs) and nothing else.
        unsafe {
            core::arch::asm!(
                "2:",
                "ldrd {w0}, {w1}, [{wp}], #8",
                "ldrd {c0}, {c1}, [{cp}], #8",
                "smlad {a}, {c0}, {w0}, {a}",
                "smlad {a}, {c1}, {w1}, {a}",
                "subs {n}, {n}, #1",
                "bne 2b",
                wp = inout(reg) w.as_ptr() => _,
                cp = inout(reg) col.as_ptr() => _,
                n = inout(reg) n => _,
                a = inout(reg) a,
                w0 = out(reg) _,
                w1 = out(reg) _,
                c0 = out(reg) _,
                c1 = out(reg) _,
                options(pure, readonly, nostack),
            );
        }
        a
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
