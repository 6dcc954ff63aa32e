//! Fast integer (int8/uint8) kernels: the same results as
//! [`reference::qint`](super::reference::qint), bit for bit, with the work
//! arranged for small cores.
//!
//! - [`conv::conv`]: 1×1 and general single-group convolutions as an integer
//!   matrix product. Weights are re-laid at compile time ([`pack_weights`]):
//!   zero point subtracted, widened to `i16` and paired along the reduction
//!   axis, two output channels interleaved, so one 32-bit load feeds a dual
//!   16-bit multiply-accumulate ([`QMac::mac2`]: `SMLAD` on the Cortex-M DSP
//!   extension, [`arm::dsp::Dsp`](super::arm)). The input-offset term is
//!   folded into the bias at compile time ([`fold_bias`]), so the input is
//!   only widened, never offset, on the way into the column buffer.
//! - [`depthwise::depthwise`]: depthwise convolutions (and one-input-channel
//!   convolutions) on a ring of padded input rows widened to `i16`, the
//!   zero-point term folded into the bias, 3×3 taps in registers and
//!   pairs of taps through [`QMac::mac2`] on cores where it is one
//!   instruction.
//!
//! Every kernel ends with [`requant`], the fixed-point requantization of
//! [`Requant::apply`] (round half to even, exact) in 32-bit steps where the
//! shift allows.

pub mod conv;
pub mod depthwise;

use super::reference::qint::Requant;

/// A dual 16-bit multiply-accumulate: the micro-operation the integer
/// matrix product is written in.
pub trait QMac: Copy {
    /// Whether [`mac2`](Self::mac2) is one instruction (`SMLAD`), so that
    /// kernels gain by pairing values they could multiply one by one.
    const DUAL: bool = false;

    /// `acc + lo(a)·lo(b) + hi(a)·hi(b)`, the halves read as `i16`, wrapping.
    fn mac2(acc: i32, a: u32, b: u32) -> i32;
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
    m.div_ceil(2) * 2 * row_words(k)
}

/// Re-lays `m` rows of `k` weights (`w[r·k + i]`, zero point already
/// subtracted, each in `i16` range) for [`conv::conv`]: for each pair of rows
/// `(2j, 2j+1)` and each word `t` of [`row_words`], the word of row `2j`
/// then the word of row `2j+1`, each holding values `2t` and `2t+1`. Missing
/// rows and values are 0. `out` has [`packed_len`] words.
pub fn pack_weights(w: &[i32], m: usize, k: usize, out: &mut [u32]) {
    let rw = row_words(k);
    let at = |r: usize, i: usize| if r < m && i < k { w[r * k + i] } else { 0 };
    for j in 0..m.div_ceil(2) {
        let dst = &mut out[j * 2 * rw..][..2 * rw];
        for t in 0..rw {
            for s in 0..2 {
                let r = 2 * j + s;
                dst[2 * t + s] = pair(at(r, 2 * t), at(r, 2 * t + 1));
            }
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
/// in 32-bit halves; the result needs no saturation.
#[inline(always)]
pub fn requant(acc: i32, r: Requant) -> i32 {
    if r.shift >= 32 {
        let v = acc as i64 * r.mult as i64;
        let s2 = r.shift - 32;
        let bit = (((v >> 32) as i32) >> s2) & 1;
        let t = v + ((1i64 << (r.shift - 1)) - 1) + bit as i64;
        ((t >> 32) as i32) >> s2
    } else {
        r.apply(acc)
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
    fn mac2_multiplies_halves() {
        let a = pair(-3, 200);
        let b = pair(255, -255);
        assert_eq!(Portable::mac2(10, a, b), 10 - 3 * 255 - 200 * 255);
    }
}
