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
use super::super::reference::quant::QuantInt;

/// One `SMLAxy` (16×16-bit multiply-accumulate of the halves named by
/// the instruction) as a register-only `asm!`.
macro_rules! smla {
    ($ins:literal, $acc:expr, $a:expr, $b:expr) => {{
        let r: i32;
        // SAFETY: one register-only instruction, no memory, no flags read;
        // it sets only the sticky Q flag, which nothing here reads.
        unsafe {
            core::arch::asm!(
                concat!($ins, " {r}, {a}, {b}, {c}"),
                r = lateout(reg) r,
                a = in(reg) $a,
                b = in(reg) $b,
                c = in(reg) $acc,
                options(pure, nomem, nostack),
            );
        }
        r
    }};
}

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

    #[inline(always)]
    fn mac_bb(acc: i32, a: u32, b: u32) -> i32 {
        smla!("smlabb", acc, a, b)
    }

    #[inline(always)]
    fn mac_tb(acc: i32, a: u32, b: u32) -> i32 {
        smla!("smlatb", acc, a, b)
    }

    #[inline(always)]
    fn mac_bt(acc: i32, a: u32, b: u32) -> i32 {
        smla!("smlabt", acc, a, b)
    }

    #[inline(always)]
    fn mac_tt(acc: i32, a: u32, b: u32) -> i32 {
        smla!("smlatt", acc, a, b)
    }

    #[inline(always)]
    fn saturate<Y: QuantInt>(v: i32) -> Y {
        let r: i32;
        if Y::QMIN == -128 && Y::QMAX == 127 {
            // SAFETY: one register-only instruction; SSAT sets only the
            // sticky Q flag.
            unsafe {
                core::arch::asm!("ssat {r}, #8, {v}", r = lateout(reg) r, v = in(reg) v,
                    options(pure, nomem, nostack));
            }
        } else if Y::QMIN == 0 && Y::QMAX == 255 {
            // SAFETY: as above (USAT).
            unsafe {
                core::arch::asm!("usat {r}, #8, {v}", r = lateout(reg) r, v = in(reg) v,
                    options(pure, nomem, nostack));
            }
        } else {
            r = v.clamp(Y::QMIN, Y::QMAX);
        }
        Y::from_i32(r)
    }

    #[inline(always)]
    fn widen<X: QuantInt>(dst: &mut [i16], src: &[X]) {
        let n = dst.len().min(src.len());
        let quads = n / 4;
        let signed = X::QMIN == -128 && X::QMAX == 127;
        let unsigned = X::QMIN == 0 && X::QMAX == 255;
        if core::mem::size_of::<X>() != 1 || !(signed || unsigned) || quads == 0 {
            for (d, s) in dst.iter_mut().zip(src) {
                *d = s.to_i32() as i16;
            }
            return;
        }
        let (d, s) = (&mut dst[..4 * quads], &src[..4 * quads]);
        // Bytes b0..b3 of a word: e = (b0, b2), o = (b1, b3) sign- or
        // zero-extended to halves; (b0, b1) = PKHBT(e, o << 16) and
        // (b2, b3) = PKHTB(o, e >> 16).
        macro_rules! quads {
            ($ext:literal) => {
                // The loop reads the `4·quads` bytes of `s` and writes the
                // `4·quads` halves of `d` (sliced above; `LDR`/`STR` need
                // no alignment on Armv7-M and later); pointers and count
                // are scratch copies; the flags are not preserved (`SUBS`).
                // SAFETY: as the comment above says.
                unsafe {
                    core::arch::asm!(
                        "2:",
                        "ldr {w}, [{sp}], #4",
                        concat!($ext, " {e}, {w}"),
                        concat!($ext, " {o}, {w}, ror #8"),
                        "pkhbt {w}, {e}, {o}, lsl #16",
                        "pkhtb {o}, {o}, {e}, asr #16",
                        "str {w}, [{dp}], #4",
                        "str {o}, [{dp}], #4",
                        "subs {n}, {n}, #1",
                        "bne 2b",
                        sp = inout(reg) s.as_ptr() => _,
                        dp = inout(reg) d.as_mut_ptr() => _,
                        n = inout(reg) quads => _,
                        w = out(reg) _,
                        e = out(reg) _,
                        o = out(reg) _,
                        options(nostack),
                    );
                }
            };
        }
        if signed {
            quads!("sxtb16");
        } else {
            quads!("uxtb16");
        }
        for (d, s) in dst[4 * quads..n].iter_mut().zip(&src[4 * quads..n]) {
            *d = s.to_i32() as i16;
        }
    }

    #[inline(always)]
    fn store_fused<Y: QuantInt>(acc: &[i32], r: &Rescale, y: &mut [Y]) {
        let n = acc.len().min(y.len());
        let pairs = n / 2;
        let signed = Y::QMIN == -128 && Y::QMAX == 127;
        let unsigned = Y::QMIN == 0 && Y::QMAX == 255;
        if core::mem::size_of::<Y>() == 1 && (signed || unsigned) && pairs > 0 {
            let (a, o) = (&acc[..2 * pairs], &mut y[..2 * pairs]);
            // One output: the constant into `lo:hi`, `SMLAL`, the shift of
            // the high word, the saturation, the store.
            macro_rules! pairs {
                ($sat:literal) => {
                    // The loop: `LDRD` reads the `2·pairs` words of `a`
                    // (word-aligned), `STRB` writes the `2·pairs` bytes of
                    // `o`; pointers and count are scratch copies; the flags
                    // are not preserved (`SUBS`).
                    // SAFETY: as the comment above says.
                    unsafe {
                        core::arch::asm!(
                            "2:",
                            "ldrd {a0}, {a1}, [{ap}], #8",
                            "mov {lo}, {rl}",
                            "mov {hi}, {rh}",
                            "smlal {lo}, {hi}, {a0}, {m}",
                            "asr {hi}, {hi}, {s}",
                            concat!($sat, " {hi}, #8, {hi}"),
                            "strb {hi}, [{op}], #1",
                            "mov {lo}, {rl}",
                            "mov {hi}, {rh}",
                            "smlal {lo}, {hi}, {a1}, {m}",
                            "asr {hi}, {hi}, {s}",
                            concat!($sat, " {hi}, #8, {hi}"),
                            "strb {hi}, [{op}], #1",
                            "subs {n}, {n}, #1",
                            "bne 2b",
                            ap = inout(reg) a.as_ptr() => _,
                            op = inout(reg) o.as_mut_ptr() => _,
                            n = inout(reg) pairs => _,
                            rl = in(reg) r.round_lo,
                            rh = in(reg) r.round_hi,
                            m = in(reg) r.mult,
                            s = in(reg) r.shift_hi as i32,
                            a0 = out(reg) _,
                            a1 = out(reg) _,
                            lo = out(reg) _,
                            hi = out(reg) _,
                            options(nostack),
                        );
                    }
                };
            }
            if signed {
                pairs!("ssat");
            } else {
                pairs!("usat");
            }
        }
        let done = if core::mem::size_of::<Y>() == 1 && (signed || unsigned) {
            2 * pairs
        } else {
            0
        };
        for (o, &a) in y[done..n].iter_mut().zip(&acc[done..n]) {
            *o = Self::saturate(Self::rescale_fused(a, r));
        }
    }

    #[inline(always)]
    fn store_fused_rows<Y: QuantInt, const SKIP: usize>(
        acc: &[i32],
        ow: usize,
        r: &Rescale,
        y: &mut [Y],
    ) {
        let rows = y.len().checked_div(ow).unwrap_or(0);
        let signed = Y::QMIN == -128 && Y::QMAX == 127;
        let unsigned = Y::QMIN == 0 && Y::QMAX == 255;
        if rows == 0
            || ow >= 1 << 16
            || rows > 1 << 16
            || core::mem::size_of::<Y>() != 1
            || !(signed || unsigned)
        {
            for (j, yr) in y.chunks_exact_mut(ow.max(1)).enumerate() {
                Self::store_fused(&acc[j * (ow + SKIP)..][..ow], r, yr);
            }
            return;
        }
        // The loop reads exactly these and writes `rows·ow` bytes of `y`.
        let a = &acc[..(rows - 1) * (ow + SKIP) + ow];
        let o = &mut y[..rows * ow];
        // Rows still to go after this one in the high half, `ow` in the
        // low half: `SUBS` of 2^16 borrows after the last row.
        let c = ((rows - 1) << 16) | ow;
        macro_rules! rows {
            ($sat:literal) => {
                // SAFETY: `LDR` reads the words of `a` (word-aligned) row
                // by row, `STRB` writes the bytes of `o`; pointers and
                // counts are scratch copies; the flags are not preserved.
                unsafe {
                    core::arch::asm!(
                        "1:",
                        "uxth {ci}, {c}",
                        "2:",
                        "ldr {a}, [{ap}], #4",
                        "mov {lo}, {rl}",
                        "mov {hi}, {rh}",
                        "smlal {lo}, {hi}, {a}, {m}",
                        "asr {hi}, {hi}, {s}",
                        concat!($sat, " {hi}, #8, {hi}"),
                        "strb {hi}, [{op}], #1",
                        "subs {ci}, {ci}, #1",
                        "bne 2b",
                        "add {ap}, {ap}, #{skip}",
                        "subs {c}, {c}, #0x10000",
                        "bcs 1b",
                        ap = inout(reg) a.as_ptr() => _,
                        op = inout(reg) o.as_mut_ptr() => _,
                        c = inout(reg) c => _,
                        rl = in(reg) r.round_lo,
                        rh = in(reg) r.round_hi,
                        m = in(reg) r.mult,
                        s = in(reg) r.shift_hi as i32,
                        ci = out(reg) _,
                        a = out(reg) _,
                        lo = out(reg) _,
                        hi = out(reg) _,
                        skip = const 4 * SKIP,
                        options(nostack),
                    );
                }
            };
        }
        if signed {
            rows!("ssat");
        } else {
            rows!("usat");
        }
    }

    #[inline(always)]
    fn widen_rows<X: QuantInt>(
        dst: &mut [i16],
        dst_pitch: usize,
        src: &[X],
        src_pitch: usize,
        w: usize,
    ) {
        let rows = |len: usize, pitch: usize| {
            if len < w {
                0
            } else {
                (len - w) / pitch.max(1) + 1
            }
        };
        let n = rows(dst.len(), dst_pitch).min(rows(src.len(), src_pitch));
        let signed = X::QMIN == -128 && X::QMAX == 127;
        let unsigned = X::QMIN == 0 && X::QMAX == 255;
        // Wide rows: four values a pass, a row at a time.
        if w == 0
            || w >= 16
            || n == 0
            || n > 1 << 16
            || dst_pitch < w
            || src_pitch < w
            || core::mem::size_of::<X>() != 1
            || !(signed || unsigned)
        {
            for j in 0..n {
                Self::widen(&mut dst[j * dst_pitch..][..w], &src[j * src_pitch..][..w]);
            }
            return;
        }
        // The loop reads exactly these and writes exactly those.
        let s = &src[..(n - 1) * src_pitch + w];
        let d = &mut dst[..(n - 1) * dst_pitch + w];
        // Rows still to go after this one in the high half, `w` in the low.
        let c = ((n - 1) << 16) | w;
        let (ss, ds) = (src_pitch - w, 2 * (dst_pitch - w));
        macro_rules! rows {
            ($ld:literal) => {
                // The loop reads the bytes of `s` row by row and writes the
                // halves of `d` (sliced above); pointers and counts are
                // scratch copies; the flags are not preserved (`SUBS`).
                // SAFETY: as the comment above says.
                unsafe {
                    core::arch::asm!(
                        "1:",
                        "uxth {ci}, {c}",
                        "2:",
                        concat!($ld, " {t}, [{sp}], #1"),
                        "strh {t}, [{dp}], #2",
                        "subs {ci}, {ci}, #1",
                        "bne 2b",
                        "add {sp}, {sp}, {ss}",
                        "add {dp}, {dp}, {ds}",
                        "subs {c}, {c}, #0x10000",
                        "bcs 1b",
                        sp = inout(reg) s.as_ptr() => _,
                        dp = inout(reg) d.as_mut_ptr() => _,
                        c = inout(reg) c => _,
                        ss = in(reg) ss,
                        ds = in(reg) ds,
                        ci = out(reg) _,
                        t = out(reg) _,
                        options(nostack),
                    );
                }
            };
        }
        if signed {
            rows!("ldrsb");
        } else {
            rows!("ldrb");
        }
    }

    #[inline(always)]
    fn dw3_pairs<const S: usize>(rows: [&[i16]; 3], w: &[u32; 6], acc: &mut [i32]) {
        let n = acc.len() / 2;
        if n == 0 {
            return;
        }
        // The loop reads exactly these: per row, values `2·S·j ..
        // 2·S·j + 2·S + 2` of pair `j` (the slicing checks the lengths once).
        let [r0, r1, r2] = rows.map(|r| &r[..2 * S * n + 2]);
        let acc = &mut acc[..2 * n];
        // Per row: the weight words, then the three loads of the pair's
        // windows each followed by its multiply-accumulates, the last with
        // the row pointer's step (4 bytes at stride 1, 8 at stride 2).
        macro_rules! pairs {
            ($($row:literal),*) => {
                // The loop: `LDRD` reads the six words of `w` (word-aligned);
                // the `LDR`s (no alignment needed on Armv7-M and later) read
                // inside the rows sliced above, `STRD` writes the `2n`
                // words of `acc` (word-aligned); pointers and count are
                // scratch copies (`inout … => _`); the flags are not
                // preserved (`SUBS`), as `asm!` assumes by default.
                // SAFETY: as the comment above says.
                unsafe {
                    core::arch::asm!(
                        "2:",
                        $($row,)*
                        "strd {a0}, {a1}, [{q}], #8",
                        "subs {n}, {n}, #1",
                        "bne 2b",
                        p0 = inout(reg) r0.as_ptr() => _,
                        p1 = inout(reg) r1.as_ptr() => _,
                        p2 = inout(reg) r2.as_ptr() => _,
                        q = inout(reg) acc.as_mut_ptr() => _,
                        n = inout(reg) n => _,
                        wp = in(reg) w.as_ptr(),
                        a0 = out(reg) _,
                        a1 = out(reg) _,
                        t = out(reg) _,
                        wa = out(reg) _,
                        wb = out(reg) _,
                        options(nostack),
                    );
                }
            };
        }
        if S == 1 {
            // a0 += A·w01 + lo(C)·w2, a1 += B·w01 + hi(C)·w2.
            pairs!(
                "ldrd {wa}, {wb}, [{wp}]",
                "ldr {t}, [{p0}, #2]",
                "smuad {a1}, {t}, {wa}",
                "ldr {t}, [{p0}, #4]",
                "smulbb {a0}, {t}, {wb}",
                "smlatb {a1}, {t}, {wb}, {a1}",
                "ldr {t}, [{p0}], #4",
                "smlad {a0}, {t}, {wa}, {a0}",
                "ldrd {wa}, {wb}, [{wp}, #8]",
                "ldr {t}, [{p1}, #2]",
                "smlad {a1}, {t}, {wa}, {a1}",
                "ldr {t}, [{p1}, #4]",
                "smlabb {a0}, {t}, {wb}, {a0}",
                "smlatb {a1}, {t}, {wb}, {a1}",
                "ldr {t}, [{p1}], #4",
                "smlad {a0}, {t}, {wa}, {a0}",
                "ldrd {wa}, {wb}, [{wp}, #16]",
                "ldr {t}, [{p2}, #2]",
                "smlad {a1}, {t}, {wa}, {a1}",
                "ldr {t}, [{p2}, #4]",
                "smlabb {a0}, {t}, {wb}, {a0}",
                "smlatb {a1}, {t}, {wb}, {a1}",
                "ldr {t}, [{p2}], #4",
                "smlad {a0}, {t}, {wa}, {a0}"
            );
        } else {
            // a0 += A·w01 + lo(C)·w2, a1 += C·w01 + lo(E)·w2.
            pairs!(
                "ldrd {wa}, {wb}, [{wp}]",
                "ldr {t}, [{p0}, #4]",
                "smuad {a1}, {t}, {wa}",
                "smulbb {a0}, {t}, {wb}",
                "ldr {t}, [{p0}, #8]",
                "smlabb {a1}, {t}, {wb}, {a1}",
                "ldr {t}, [{p0}], #8",
                "smlad {a0}, {t}, {wa}, {a0}",
                "ldrd {wa}, {wb}, [{wp}, #8]",
                "ldr {t}, [{p1}, #4]",
                "smlad {a1}, {t}, {wa}, {a1}",
                "smlabb {a0}, {t}, {wb}, {a0}",
                "ldr {t}, [{p1}, #8]",
                "smlabb {a1}, {t}, {wb}, {a1}",
                "ldr {t}, [{p1}], #8",
                "smlad {a0}, {t}, {wa}, {a0}",
                "ldrd {wa}, {wb}, [{wp}, #16]",
                "ldr {t}, [{p2}, #4]",
                "smlad {a1}, {t}, {wa}, {a1}",
                "smlabb {a0}, {t}, {wb}, {a0}",
                "ldr {t}, [{p2}, #8]",
                "smlabb {a1}, {t}, {wb}, {a1}",
                "ldr {t}, [{p2}], #8",
                "smlad {a0}, {t}, {wa}, {a0}"
            );
        }
    }
}
