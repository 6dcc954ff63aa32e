//! Fast integer (int8/uint8) kernels: the same results as
//! [`reference::qint`](super::reference::qint), bit for bit, with the work
//! arranged for small cores.
//!
//! - [`conv::conv`]: 1×1 and general single-group convolutions as an integer
//!   matrix product. Weights are re-laid at compile time ([`pack_weights`]):
//!   zero point subtracted, widened to `i16` and paired along the reduction
//!   axis, one row per output channel, so one 32-bit load feeds a dual
//!   16-bit multiply-accumulate ([`QMac::mac2`]: `SMLAD` on the Cortex-M DSP
//!   extension, [`arm::dsp::Dsp`](super::arm)) for each of several output
//!   positions. The input-offset term is folded into the bias at compile
//!   time ([`fold_bias`]), so the input is only widened, never offset, on
//!   the way into the column buffer, once per position for every output
//!   channel.
//! - [`conv8::conv`]: the same matrix product on cores with an 8-bit dot
//!   product (Helium's `VMLADAVA.S8`, [`conv8::Dot8`]): weights as rows of
//!   `i8`, activations offset to `i8`, 16 multiply-accumulates an
//!   instruction.
//! - [`depthwise::depthwise`]: depthwise convolutions (and one-input-channel
//!   convolutions) on a ring of padded input rows widened to `i16`, the
//!   zero-point term folded into the bias, pairs of taps through
//!   [`QMac::mac2`] on cores where it is one instruction; 3×3 kernels of
//!   stride 1 and 2 on [`QMac::dw3_pairs`] (two outputs, 27 instructions
//!   on the DSP extension) and the fused requantization
//!   ([`QMac::store_fused`]).
//!
//! Every kernel ends with the fixed-point requantization of
//! [`Requant::apply`] (round half to even, exact) in 32-bit steps where the
//! shift allows: [`requant`], or [`Rescale`] with its rounding constants
//! computed at compile time ([`QMac::rescale`]: six instructions on
//! Thumb-2).

pub mod add;
pub mod conv;
pub mod conv8;
pub mod depthwise;

use super::reference::qint::Requant;
use super::reference::quant::QuantInt;

/// A dual 16-bit multiply-accumulate: the micro-operation the integer
/// matrix product is written in.
pub trait QMac: Copy {
    /// Whether [`mac2`](Self::mac2) is one instruction (`SMLAD`), so that
    /// kernels gain by pairing values they could multiply one by one.
    const DUAL: bool = false;

    /// `acc + lo(a)·lo(b) + hi(a)·hi(b)`, the halves read as `i16`, wrapping.
    fn mac2(acc: i32, a: u32, b: u32) -> i32;

    /// `acc[s] + Σ_t mac2(col[4t + s], w[t])` for the four output positions
    /// `s` of a block of [`conv::conv`]: its columns interleaved, word `t`
    /// of position `s` at `col[4t + s]`. `w` has an even number of words and
    /// `col` at least four times as many. On the DSP extension one pass of
    /// an `asm!` loop takes two weight words: 15 instructions for 16
    /// multiply-accumulates.
    #[inline(always)]
    fn dot4(acc: [i32; 4], col: &[u32], w: &[u32]) -> [i32; 4] {
        let mut acc = acc;
        for (cs, &wv) in col.chunks_exact(4).zip(w) {
            for (a, &c) in acc.iter_mut().zip(cs) {
                *a = Self::mac2(*a, c, wv);
            }
        }
        acc
    }

    /// `acc + Σ_t mac2(col[t], w[t])`: one output position of [`conv::conv`]
    /// (a fully connected layer). `w` has an even number of words and `col`
    /// at least as many. On the DSP extension an `asm!` loop of two
    /// `LDRD`s and two `SMLAD`s per four multiply-accumulates.
    #[inline(always)]
    fn dot1(acc: i32, col: &[u32], w: &[u32]) -> i32 {
        col.iter()
            .zip(w)
            .fold(acc, |a, (&c, &wv)| Self::mac2(a, c, wv))
    }

    /// [`Rescale::apply`] for a [`Rescale::is_short`] multiplier: the
    /// 32-bit form of [`Requant::apply`] (six instructions on Thumb-2,
    /// [`arm::dsp::Dsp`](super::arm)).
    #[inline(always)]
    fn rescale(acc: i32, r: &Rescale) -> i32 {
        r.apply_short(acc)
    }

    /// [`Rescale::apply_fused`]: `Requant::apply(acc) + zero_point` for a
    /// [`Rescale::fused`] `r` (two instructions and two moves on Thumb-2).
    #[inline(always)]
    fn rescale_fused(acc: i32, r: &Rescale) -> i32 {
        r.apply_fused(acc)
    }

    /// [`Rescale::round_short`] of `a · r.mult + b · b_mult`, for a
    /// [`Rescale::is_short`] `r` and a sum below `2^62` in magnitude
    /// (seven instructions on Thumb-2).
    #[inline(always)]
    fn rescale2(a: i32, b: i32, b_mult: i32, r: &Rescale) -> i32 {
        r.round_short(a as i64 * r.mult as i64 + b as i64 * b_mult as i64)
    }

    /// `acc + lo(a)·lo(b)`, the halves read as `i16`, wrapping (`SMLABB`
    /// on the DSP extension): the odd tap of a pair of outputs.
    #[inline(always)]
    fn mac_bb(acc: i32, a: u32, b: u32) -> i32 {
        acc.wrapping_add((a as i16 as i32) * (b as i16 as i32))
    }

    /// `acc + hi(a)·lo(b)` (`SMLATB`).
    #[inline(always)]
    fn mac_tb(acc: i32, a: u32, b: u32) -> i32 {
        acc.wrapping_add(((a >> 16) as i16 as i32) * (b as i16 as i32))
    }

    /// `acc + lo(a)·hi(b)` (`SMLABT`).
    #[inline(always)]
    fn mac_bt(acc: i32, a: u32, b: u32) -> i32 {
        acc.wrapping_add((a as i16 as i32) * ((b >> 16) as i16 as i32))
    }

    /// `acc + hi(a)·hi(b)` (`SMLATT`).
    #[inline(always)]
    fn mac_tt(acc: i32, a: u32, b: u32) -> i32 {
        acc.wrapping_add(((a >> 16) as i16 as i32) * ((b >> 16) as i16 as i32))
    }

    /// `v` saturated to the range of `Y` (`SSAT`/`USAT` on the DSP
    /// extension for 8-bit `Y`).
    #[inline(always)]
    fn saturate<Y: QuantInt>(v: i32) -> Y {
        Y::from_i32(v.clamp(Y::QMIN, Y::QMAX))
    }

    /// `dst[i] = src[i]` widened, for `i` below both lengths (on the DSP
    /// extension four 8-bit values a pass: one load, `SXTB16`/`UXTB16`
    /// twice, two packs, two stores).
    #[inline(always)]
    fn widen<X: QuantInt>(dst: &mut [i16], src: &[X]) {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = s.to_i32() as i16;
        }
    }

    /// `y[i] = saturate(rescale_fused(acc[i], r))` for `i` below both
    /// lengths: a [`Rescale::fused`] requantization (output zero point in
    /// its constant) to the full range of `Y` (on the DSP extension an
    /// `asm!` loop, seven instructions an output).
    #[inline(always)]
    fn store_fused<Y: QuantInt>(acc: &[i32], r: &Rescale, y: &mut [Y]) {
        for (o, &a) in y.iter_mut().zip(acc) {
            *o = Self::saturate(Self::rescale_fused(a, r));
        }
    }

    /// [`store_fused`](Self::store_fused) of the rows of `ow` outputs of
    /// `y`, row `j` from `acc[j·(ow + SKIP)..]`: the accumulators of a band
    /// of rows that hold `SKIP` unused positions after each row. `acc` has
    /// at least `(rows - 1)·(ow + SKIP) + ow` values (on the DSP extension
    /// one `asm!` loop over the band, nine instructions an output and four
    /// a row).
    #[inline(always)]
    fn store_fused_rows<Y: QuantInt, const SKIP: usize>(
        acc: &[i32],
        ow: usize,
        r: &Rescale,
        y: &mut [Y],
    ) {
        if ow == 0 {
            return;
        }
        for (j, yr) in y.chunks_exact_mut(ow).enumerate() {
            Self::store_fused(&acc[j * (ow + SKIP)..][..ow], r, yr);
        }
    }

    /// [`widen`](Self::widen) of rows of `w` values: row `j` of `src` (from
    /// `j·src_pitch`) into row `j` of `dst` (from `j·dst_pitch`), as many
    /// rows as both hold (on the DSP extension narrow rows take one `asm!`
    /// loop over the rows, four instructions a value and four a row).
    #[inline(always)]
    fn widen_rows<X: QuantInt>(
        dst: &mut [i16],
        dst_pitch: usize,
        src: &[X],
        src_pitch: usize,
        w: usize,
    ) {
        let mut j = 0;
        while j * dst_pitch + w <= dst.len() && j * src_pitch + w <= src.len() {
            Self::widen(&mut dst[j * dst_pitch..][..w], &src[j * src_pitch..][..w]);
            j += 1;
        }
    }

    /// The accumulators (bias not included) of `acc.len() / 2` pairs of
    /// neighbouring outputs of one row of a 3×3 (dilation 1) depthwise
    /// convolution with horizontal stride `S` (1 or 2), for
    /// [`depthwise::depthwise`]: pair `j` is the outputs reading from
    /// columns `x = 2j·S` and `x + S` of the three (widened, padded) input
    /// rows `rows`, `acc[2j]` and `acc[2j + 1]`. `w` holds per kernel row
    /// `v` the words `w[2v]` = taps 0 and 1, `w[2v + 1]` = tap 2 (low half),
    /// [`depthwise::pack_depthwise`]'s layout. Every row has at least
    /// `2·S·(acc.len() / 2) + 2` values. On the DSP extension an `asm!`
    /// loop: 27 instructions a pair (seven for the six taps of a kernel row,
    /// one load of its two weight words).
    #[inline(always)]
    fn dw3_pairs<const S: usize>(rows: [&[i16]; 3], w: &[u32; 6], acc: &mut [i32]) {
        let n = acc.len() / 2;
        let rows = rows.map(|r| &r[..2 * S * n + 2]);
        for (j, a) in acc.chunks_exact_mut(2).enumerate() {
            let x = 2 * j * S;
            let (mut a0, mut a1) = (0i32, 0i32);
            for (v, r) in rows.iter().enumerate() {
                let ld = |i: usize| pair(r[x + i] as i32, r[x + i + 1] as i32);
                let (w01, w2) = (w[2 * v], w[2 * v + 1]);
                a0 = Self::mac2(a0, ld(0), w01);
                a0 = Self::mac_bb(a0, ld(2), w2);
                if S == 1 {
                    a1 = Self::mac2(a1, ld(1), w01);
                    a1 = Self::mac_tb(a1, ld(2), w2);
                } else {
                    a1 = Self::mac2(a1, ld(2), w01);
                    a1 = Self::mac_bb(a1, ld(4), w2);
                }
            }
            a[0] = a0;
            a[1] = a1;
        }
    }
}

/// Plain-Rust [`QMac`]: builds and runs everywhere (M0+, M3, RISC-V, host).
#[derive(Clone, Copy, Debug, Default)]
pub struct Portable;

impl QMac for Portable {
    #[inline(always)]
    fn mac2(acc: i32, a: u32, b: u32) -> i32 {
        let lo = (a as i16 as i32) * (b as i16 as i32);
        let hi = ((a >> 16) as i16 as i32) * ((b >> 16) as i16 as i32);
        acc.wrapping_add(lo).wrapping_add(hi)
    }
}

/// Two `i16` values in one word, `lo` in the low half.
#[inline(always)]
pub fn pair(lo: i32, hi: i32) -> u32 {
    (lo as u16 as u32) | ((hi as u16 as u32) << 16)
}

/// Words per packed row of `k` values: `k` rounded up to a multiple of 4,
/// two values a word.
pub const fn row_words(k: usize) -> usize {
    k.div_ceil(4) * 2
}

/// Words [`pack_weights`] writes for `m` rows of `k` values.
pub const fn packed_len(m: usize, k: usize) -> usize {
    m * row_words(k)
}

/// Re-lays `m` rows of `k` weights (`w[r·k + i]`, zero point already
/// subtracted, each in `i16` range) for [`conv::conv`]: row `r` takes the
/// [`row_words`] words from `r · row_words(k)`, word `t` holding values `2t`
/// and `2t+1`. Missing values are 0. `out` has [`packed_len`] words.
pub fn pack_weights(w: &[i32], m: usize, k: usize, out: &mut [u32]) {
    let rw = row_words(k);
    let at = |r: usize, i: usize| if i < k { w[r * k + i] } else { 0 };
    for (r, row) in out[..m * rw].chunks_exact_mut(rw).enumerate() {
        for (t, word) in row.iter_mut().enumerate() {
            *word = pair(at(r, 2 * t), at(r, 2 * t + 1));
        }
    }
}

/// The bias with the input-offset term folded in:
/// `bias[r] - x_zero_point · Σ_i w[r·k + i]` (wrapping, as the accumulator).
pub fn fold_bias(w: &[i32], k: usize, bias: &[i32], x_zero_point: i32, out: &mut [i32]) {
    for (r, (o, b)) in out.iter_mut().zip(bias).enumerate() {
        let s = w[r * k..][..k].iter().fold(0i32, |s, v| s.wrapping_add(*v));
        *o = b.wrapping_sub(x_zero_point.wrapping_mul(s));
    }
}

/// [`Requant::apply`], the same value: when the shift is 32 or more (every
/// multiplier below 1 with a 31-bit mantissa), round half to even as
/// `(v + 2^(s-1) - 1 + q_0) >> s`, with `q_0` the lowest bit of `v >> s`,
/// in 32-bit halves ([`Rescale::apply_short`]); the result needs no
/// saturation.
#[inline(always)]
pub fn requant(acc: i32, r: Requant) -> i32 {
    if r.shift >= 32 {
        Rescale::new(r).apply_short(acc)
    } else {
        r.apply(acc)
    }
}

/// A [`Requant`] with the constants of its rounding precomputed (by
/// [`Rescale::new`], at compile time), for the kernels' requantization in
/// 32-bit halves: `v = acc · mult` (one `SMULL`), `q_0` = bit `shift` of `v`,
/// `t = v + 2^(shift-1) - 1 + q_0` (one 64-bit add of a constant with
/// `q_0` as carry in), result `hi(t) >> (shift - 32)`. Exact, round half to
/// even, for shifts of 32 or more ([`Rescale::is_short`]); a larger
/// multiplier (0.5 and up) takes [`Requant::apply`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rescale {
    /// Multiplier, as [`Requant::mult`].
    pub mult: i32,
    /// `shift - 32`: `0..=30` for the 32-bit form, negative otherwise.
    pub shift_hi: i8,
    /// Low word of `2^(shift-1) - 1`.
    pub round_lo: u32,
    /// High word of `2^(shift-1) - 1`, or, with
    /// [`Rescale::with_zero_point`], of `2^(shift-1) + zero_point · 2^shift`.
    pub round_hi: i32,
    /// Whether this is the half-up form [`Rescale::fused`] made: rounding
    /// constant and output zero point in one 64-bit constant, no tie
    /// possible for the channel's accumulators
    /// ([`QMac::rescale_fused`]).
    pub with_zero_point: bool,
}

impl Rescale {
    /// The precomputed form of `r`. A zero multiplier takes the 32-bit
    /// form too (every product is 0).
    pub const fn new(r: Requant) -> Rescale {
        if r.mult == 0 {
            Rescale::new_raw(0, 32)
        } else {
            Rescale::new_raw(r.mult, r.shift)
        }
    }

    /// `mult · 2^-shift` for any `mult` and a `shift` in `0..=62`.
    pub const fn new_raw(mult: i32, shift: u32) -> Rescale {
        let (round_lo, round_hi) = if shift >= 32 {
            let round = (1u64 << (shift - 1)) - 1;
            (round as u32, (round >> 32) as i32)
        } else {
            (0, 0)
        };
        Rescale {
            mult,
            shift_hi: (shift as i32 - 32) as i8,
            round_lo,
            round_hi,
            with_zero_point: false,
        }
    }

    /// The half-up form of `r` with the output zero point folded in, for a
    /// channel whose accumulators all lie in `acc_min..=acc_max`, when it
    /// gives [`Requant::apply`]`(acc) + zero_point` exactly: the shift is
    /// 32 or more, no accumulator in the range makes a tie (a tie needs
    /// `acc · mult` to be an odd multiple of `2^(shift-1)`, so a multiple of
    /// `2^(shift-1-tz)` with `tz` the trailing zeros of `mult`; below that
    /// in magnitude round half up is round half to even), and
    /// `acc · mult + 2^(shift-1) + zero_point · 2^shift` fits in `i64`.
    /// Then [`QMac::rescale_fused`] is one `SMLAL` onto the constant and one
    /// shift of its high word.
    pub fn fused(r: Requant, zero_point: i32, acc_min: i64, acc_max: i64) -> Option<Rescale> {
        // A zero multiplier: any shift.
        let r = if r.mult == 0 {
            Requant { mult: 0, shift: 32 }
        } else {
            r
        };
        if r.shift < 32 || r.shift > 62 || r.mult < 0 || acc_min > acc_max {
            return None;
        }
        let big = acc_min.unsigned_abs().max(acc_max.unsigned_abs()) as u128;
        if r.mult != 0 {
            let t = r.shift - 1 - r.mult.trailing_zeros();
            if big >= 1u128 << t {
                return None;
            }
        }
        let pre = (1i128 << (r.shift - 1)) + ((zero_point as i128) << r.shift);
        let m = r.mult as i128;
        let fits = |v: i128| (i64::MIN as i128..=i64::MAX as i128).contains(&v);
        if !fits(pre) || !fits(acc_min as i128 * m + pre) || !fits(acc_max as i128 * m + pre) {
            return None;
        }
        let pre = pre as i64;
        Some(Rescale {
            mult: r.mult,
            shift_hi: (r.shift as i32 - 32) as i8,
            round_lo: pre as u32,
            round_hi: (pre >> 32) as i32,
            with_zero_point: true,
        })
    }

    /// [`Rescale::fused`]'s value, `hi(acc · mult + constant) >> (shift -
    /// 32)`, in plain Rust.
    #[inline(always)]
    pub fn apply_fused(&self, acc: i32) -> i32 {
        let pre = ((self.round_hi as i64) << 32) | self.round_lo as i64;
        let t = (acc as i64 * self.mult as i64).wrapping_add(pre);
        ((t >> 32) as i32) >> (self.shift_hi as u32 & 31)
    }

    /// Whether the shift is 32 or more: [`Rescale::apply_short`] holds.
    #[inline(always)]
    pub const fn is_short(&self) -> bool {
        self.shift_hi >= 0
    }

    /// The [`Requant`] this was made from.
    #[inline(always)]
    pub const fn requant(&self) -> Requant {
        Requant {
            mult: self.mult,
            shift: (self.shift_hi as i32 + 32) as u32,
        }
    }

    /// `round_half_even(acc · mult · 2^-shift)`, [`Requant::apply`]'s value,
    /// for any shift (not for the [`Rescale::fused`] form, whose constant
    /// holds the zero point: [`QMac::rescale_fused`]).
    #[inline(always)]
    pub fn apply(&self, acc: i32) -> i32 {
        debug_assert!(!self.with_zero_point);
        if self.is_short() {
            self.apply_short(acc)
        } else {
            self.requant().apply(acc)
        }
    }

    /// [`Rescale::apply`] when [`Rescale::is_short`] (plain Rust: `v` is
    /// below `2^62` in magnitude and `t` does not overflow).
    #[inline(always)]
    pub fn apply_short(&self, acc: i32) -> i32 {
        self.round_short(acc as i64 * self.mult as i64)
    }

    /// `round_half_even(v · 2^-shift)` when [`Rescale::is_short`], for `v`
    /// below `2^62` in magnitude.
    #[inline(always)]
    pub fn round_short(&self, v: i64) -> i32 {
        let s = self.shift_hi as u32 & 31;
        let q0 = (((v >> 32) as i32) >> s) & 1;
        let round = ((self.round_hi as i64) << 32) | self.round_lo as i64;
        let t = v + round + q0 as i64;
        ((t >> 32) as i32) >> s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requant_matches_the_reference() {
        let mut seed = 0x1234_5678u32;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for m in [
            1e-9f32,
            1e-4,
            0.003_921_568_6,
            0.156_191_54,
            0.5,
            0.999,
            1.0,
            3.75,
        ] {
            let r = Requant::from_f32(m).unwrap();
            for acc in (-3000..3000).chain([i32::MIN, i32::MAX, i32::MIN + 1, -1, 0, 1]) {
                assert_eq!(requant(acc, r), r.apply(acc), "{m} {acc}");
            }
            for _ in 0..20_000 {
                let acc = next() as i32;
                assert_eq!(requant(acc, r), r.apply(acc), "{m} {acc}");
            }
        }
    }

    #[test]
    fn rescale_matches_the_reference_for_every_shift() {
        let mut seed = 0x9e37_79b9u32;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        let edges = [i32::MIN, i32::MIN + 1, -1, 0, 1, i32::MAX];
        for shift in 0..=62u32 {
            for mult in [1 << 30, i32::MAX, 0x5555_5555, 0x4000_0001, 0] {
                let r = Requant { mult, shift };
                let q = Rescale::new(r);
                let check = |acc: i32| {
                    assert_eq!(q.apply(acc), r.apply(acc), "{r:?} {acc}");
                    if q.is_short() {
                        assert_eq!(Portable::rescale(acc, &q), r.apply(acc), "{r:?} {acc}");
                    }
                };
                edges.into_iter().for_each(check);
                // Ties: acc · mult an odd or even multiple of 2^(shift-1).
                for acc in -40..40 {
                    check(acc);
                    check(acc << 20);
                }
                for _ in 0..2_000 {
                    check(next() as i32);
                    check(next() as i32 >> (next() % 31));
                }
            }
        }
        // Multipliers from f64 (all 31 bits set) on a dense sweep.
        for m in [0.25f64, 1.0 / 3.0, 0.007_812_5, 1e-7, 0.499_999] {
            let r = Requant::from_f64(m).unwrap();
            let q = Rescale::new(r);
            assert!(q.is_short());
            for acc in -100_000..100_000 {
                assert_eq!(q.apply(acc), r.apply(acc), "{m} {acc}");
            }
        }
    }

    #[test]
    fn fused_rescale_adds_the_zero_point_exactly() {
        for m in [
            0.003_921_568_6f32,
            0.156_191_54,
            1.0 / 3.0,
            0.25,
            2f32.powi(-20),
            0.0,
        ] {
            for r in [Requant::from_f32(m), Requant::from_f64(m as f64)] {
                let r = r.unwrap();
                for zp in [-128, 0, 5, 255] {
                    let Some(q) = Rescale::fused(r, zp, -70_000, 70_000) else {
                        // Only a multiplier with few significant bits (a tie
                        // within the range) or one of 0.25 and up.
                        assert!(m == 0.25 || m == 2f32.powi(-20), "{m}");
                        continue;
                    };
                    for acc in -70_000..=70_000 {
                        let want = r.apply(acc) + zp;
                        assert_eq!(q.apply_fused(acc), want, "{m} {zp} {acc}");
                        assert_eq!(Portable::rescale_fused(acc, &q), want);
                    }
                }
            }
        }
        // 2^-20: acc = 2^19 is a tie (0.5), refused unless the range excludes it.
        let r = Requant::from_f32(2f32.powi(-20)).unwrap();
        assert!(Rescale::fused(r, 0, -(1 << 19), 1 << 19).is_none());
        assert!(Rescale::fused(r, 0, 1 - (1 << 19), (1 << 19) - 1).is_some());
    }

    #[test]
    fn mac2_multiplies_halves() {
        let a = pair(-3, 200);
        let b = pair(255, -255);
        assert_eq!(Portable::mac2(10, a, b), 10 - 3 * 255 - 200 * 255);
    }
}
