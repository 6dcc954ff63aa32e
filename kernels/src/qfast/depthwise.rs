//! 2-D integer depthwise convolution (one input channel per group, any
//! number of output channels per group: a one-input-channel convolution is
//! the case of one group), batch 1.
//!
//! For each output channel, the input rows its outputs read are widened to
//! `i16` into a ring of `(kh - 1)·dh + 1` rows of the padded width
//! ([`QDepthwiseParams::scratch_len`]), padding holding the input zero
//! point. Every output then takes the same loop without bounds, and the
//! zero-point term `x_zero_point · Σ w` is a constant folded into the bias
//! at compile time ([`fold_bias`](super::fold_bias)). Weights are re-laid at
//! compile time by [`pack_depthwise`]: per channel and kernel row, taps two
//! a word. Where [`QMac::mac2`] is one instruction ([`QMac::DUAL`], `SMLAD`)
//! a pair of taps is one (unaligned) 32-bit load of the scratch and one
//! `mac2`; elsewhere taps are multiplied one by one. 3×3 kernels
//! keep their taps in registers; kernel rows of up to 4 pairs (6 taps
//! one by one) have their inner loop unrolled.

use super::super::reference::qint::{QOut, Requant};
use super::super::reference::quant::QuantInt;
use super::{pair, requant, QMac};

/// Taps of the largest kernel [`depthwise`] takes.
pub const MAX_TAPS: usize = 64;

/// Shapes of [`depthwise`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QDepthwiseParams {
    /// Input channels (= groups).
    pub in_channels: usize,
    /// Output channels, a multiple of `in_channels`.
    pub out_channels: usize,
    /// Input height and width.
    pub in_hw: [usize; 2],
    /// Output height and width.
    pub out_hw: [usize; 2],
    /// Kernel height and width (at most [`MAX_TAPS`] taps).
    pub kernel: [usize; 2],
    /// Strides.
    pub strides: [usize; 2],
    /// Dilations.
    pub dilations: [usize; 2],
    /// Padding at the top and left.
    pub pads_begin: [usize; 2],
    /// Zero point of `x` (what padding stands for).
    pub x_zero_point: i32,
    /// Output zero point and range.
    pub out: QOut,
}

impl QDepthwiseParams {
    /// Rows of the scratch ring: the input rows one output row reads.
    pub const fn scratch_rows(&self) -> usize {
        (self.kernel[0] - 1) * self.dilations[0] + 1
    }

    /// Width of a scratch row: the padded columns the outputs read, plus
    /// one so that a pair load of an odd row's last tap stays inside.
    pub const fn scratch_width(&self) -> usize {
        self.out_hw[1].saturating_sub(1) * self.strides[1]
            + (self.kernel[1] - 1) * self.dilations[1]
            + 2
    }

    /// `i16` values of the scratch [`depthwise`] needs.
    pub const fn scratch_len(&self) -> usize {
        self.scratch_rows() * self.scratch_width()
    }

    /// Words of one kernel row in [`pack_depthwise`]'s layout.
    pub const fn row_words(&self) -> usize {
        self.kernel[1].div_ceil(2)
    }

    /// Words [`pack_depthwise`] writes.
    pub const fn packed_len(&self) -> usize {
        self.out_channels * self.kernel[0] * self.row_words()
    }
}

/// Re-lays the weights `w[(c·kh + v)·kw + u]` (zero point already
/// subtracted, each in `i16` range) for [`depthwise`]: for each channel `c`
/// and kernel row `v`, [`row_words`](QDepthwiseParams::row_words) words,
/// word `t` holding taps `2t` (low half) and `2t + 1` (0 past the row).
/// `out` has [`packed_len`](QDepthwiseParams::packed_len) words.
pub fn pack_depthwise(w: &[i32], p: &QDepthwiseParams, out: &mut [u32]) {
    let [kh, kw] = p.kernel;
    let rw = p.row_words();
    for (r, dst) in out[..p.packed_len()].chunks_exact_mut(rw).enumerate() {
        let row = &w[r * kw..][..kw];
        let at = |u: usize| row.get(u).copied().unwrap_or(0);
        for (t, d) in dst.iter_mut().enumerate() {
            *d = pair(at(2 * t), at(2 * t + 1));
        }
    }
    debug_assert_eq!(out[..p.packed_len()].len(), p.out_channels * kh * rw);
}

/// Values `2t` (low half) and `2t + 1` of `x` in one word: one 32-bit
/// load where the target allows unaligned loads (Armv7-M and later), the
/// bounds known from `x`'s length.
#[inline(always)]
fn pair_at(x: &[i16], t: usize) -> u32 {
    pair(x[2 * t] as i32, x[2 * t + 1] as i32)
}

/// One output row of one channel and what it is computed with.
struct Row<'a, Y> {
    /// Folded bias.
    bias: i32,
    /// Requantization.
    rq: Requant,
    /// Output zero point and range.
    out: QOut,
    /// Horizontal stride.
    stride: usize,
    /// The output row.
    y: &'a mut [Y],
}

/// Where one channel's rows come from: the input plane and the ring.
struct Plane<'a, X> {
    /// The input plane.
    xp: &'a [X],
    /// Input height and width, padding at the top.
    ih: usize,
    iw: usize,
    ph: usize,
    /// Ring rows and width.
    rows: usize,
    wc: usize,
    /// Ring columns holding input columns `0..c1 - c0`.
    c0: usize,
    c1: usize,
    /// Vertical stride, dilation and kernel height.
    sh: usize,
    dh: usize,
    kh: usize,
    /// Input zero point.
    xz: i16,
}

impl<X: QuantInt> Plane<'_, X> {
    /// For each output row of `yp` (rows of `ow`): widens the input rows it
    /// reads that are not in the ring yet into their slots (`row % rows`,
    /// padding rows as the zero point), then calls `body` with the ring,
    /// the slot of the row's first kernel row and the row.
    #[inline(always)]
    fn rows<Y: QuantInt>(
        &self,
        ring: &mut [i16],
        yp: &mut [Y],
        ow: usize,
        proto: (i32, Requant, QOut, usize),
        mut body: impl FnMut(&[i16], usize, Row<'_, Y>),
    ) {
        let mut next = 0;
        for (oy, y) in yp.chunks_exact_mut(ow).enumerate() {
            let top = oy * self.sh;
            let last = top + (self.kh - 1) * self.dh;
            for r in next.max(top)..=last {
                let dst = &mut ring[(r % self.rows) * self.wc..][self.c0..self.c1];
                match r.checked_sub(self.ph).filter(|&iy| iy < self.ih) {
                    Some(iy) => {
                        let src = &self.xp[iy * self.iw..][..self.c1 - self.c0];
                        for (d, s) in dst.iter_mut().zip(src) {
                            *d = s.to_i32() as i16;
                        }
                    }
                    None => dst.fill(self.xz),
                }
            }
            next = last + 1;
            let (bias, rq, out, stride) = proto;
            body(
                ring,
                top % self.rows,
                Row {
                    bias,
                    rq,
                    out,
                    stride,
                    y,
                },
            );
        }
    }
}

/// Stores the outputs of `row` (a [`Row`]), two a pass: `body` gives the
/// accumulators (bias included) `(a0, a1)` of the outputs reading from
/// scratch columns `c0` and `c1` (`ox·stride`); a last odd output runs it
/// with `two` false and takes `a0`. A macro rather than a function taking a
/// closure so that the body is always inlined, once per case.
/// `store_row!` one output a pass, for cores where two accumulators and
/// their windows do not fit the registers next to the taps (`body` runs with
/// `two` false).
macro_rules! store_row1 {
    ($row:expr, |$c0:ident, $c1:ident, $two:ident| $body:block) => {{
        let row: Row<'_, _> = $row;
        let (s, out, rq) = (row.stride, row.out, row.rq);
        let mut c = 0;
        for o in row.y.iter_mut() {
            let ($c0, $c1, $two) = (c, c, false);
            let (a0, _): (i32, i32) = $body;
            *o = out.store(requant(a0, rq));
            c += s;
        }
    }};
}

macro_rules! store_row {
    ($row:expr, |$c0:ident, $c1:ident, $two:ident| $body:block) => {{
        let row: Row<'_, _> = $row;
        let (s, out, rq) = (row.stride, row.out, row.rq);
        let mut pairs = row.y.chunks_exact_mut(2);
        let mut c = 0;
        for o in &mut pairs {
            let ($c0, $c1, $two) = (c, c + s, true);
            let (a0, a1): (i32, i32) = $body;
            o[0] = out.store(requant(a0, rq));
            o[1] = out.store(requant(a1, rq));
            c += 2 * s;
        }
        if let [o] = pairs.into_remainder() {
            let ($c0, $c1, $two) = (c, c, false);
            let (a0, _): (i32, i32) = $body;
            *o = out.store(requant(a0, rq));
        }
    }};
}

/// 3×3 (dilation 1) on [`QMac::mac2`]: `KH` rows of `RW` tap pairs,
/// the weights in locals, two outputs a pass sharing them.
#[inline(always)]
fn row_dual<M: QMac, Y: QuantInt, const KH: usize, const RW: usize>(
    rs: [&[i16]; KH],
    wk: &[[u32; RW]; KH],
    row: Row<'_, Y>,
) {
    let b = row.bias;
    store_row!(row, |c0, c1, two| {
        let (mut a0, mut a1) = (b, b);
        for (r, wr) in rs.iter().zip(wk) {
            // c + 2·RW - 1 ≤ (ow-1)·sw + kw, below the scratch width.
            let (x0, x1) = (&r[c0..c0 + 2 * RW], &r[c1..c1 + 2 * RW]);
            for (t, &wv) in wr.iter().enumerate() {
                a0 = M::mac2(a0, pair_at(x0, t), wv);
                if two {
                    a1 = M::mac2(a1, pair_at(x1, t), wv);
                }
            }
        }
        (a0, a1)
    });
}

/// 3×3 (dilation 1) tap by tap, the weights in locals, two outputs a
/// pass sharing them.
#[inline(always)]
fn row_scalar<Y: QuantInt, const KH: usize, const KW: usize>(
    rs: [&[i16]; KH],
    wk: &[[i32; KW]; KH],
    row: Row<'_, Y>,
) {
    let b = row.bias;
    store_row1!(row, |c0, c1, two| {
        let (mut a0, mut a1) = (b, b);
        for (r, wr) in rs.iter().zip(wk) {
            let (x0, x1) = (&r[c0..c0 + KW], &r[c1..c1 + KW]);
            for (u, &wv) in wr.iter().enumerate() {
                a0 = a0.wrapping_add(x0[u] as i32 * wv);
                if two {
                    a1 = a1.wrapping_add(x1[u] as i32 * wv);
                }
            }
        }
        (a0, a1)
    });
}

/// Any kernel height (dilation `dh`), rows of `RW` tap pairs on
/// [`QMac::mac2`] (horizontal dilation 1): the ring read through offsets,
/// kernel row `v` at slot `s0 + v·dh` (wrapping), two outputs a pass.
#[inline(always)]
fn rows_dual<M: QMac, Y: QuantInt, const RW: usize>(
    ring: &[i16],
    s0: usize,
    (rows, wc, dh): (usize, usize, usize),
    wk: &[[u32; RW]],
    row: Row<'_, Y>,
) {
    let b = row.bias;
    let (step, wrap) = (dh * wc, rows * wc);
    store_row!(row, |c0, c1, two| {
        let (mut a0, mut a1) = (b, b);
        let mut base = s0 * wc;
        for wr in wk {
            // base is a row start below rows·wc (a step is less than a
            // wrap when there is a next row); c + 2·RW - 1 ≤ (ow-1)·sw + kw.
            let x0 = &ring[base + c0..][..2 * RW];
            let x1 = &ring[base + c1..][..2 * RW];
            for (t, &wv) in wr.iter().enumerate() {
                a0 = M::mac2(a0, pair_at(x0, t), wv);
                if two {
                    a1 = M::mac2(a1, pair_at(x1, t), wv);
                }
            }
            base += step;
            if base >= wrap {
                base -= wrap;
            }
        }
        (a0, a1)
    });
}

/// Any kernel height (horizontal dilation 1), rows of `KW` taps one by
/// one, like [`rows_dual`].
#[inline(always)]
fn rows_scalar<Y: QuantInt, const KW: usize>(
    ring: &[i16],
    s0: usize,
    (rows, wc, dh): (usize, usize, usize),
    wk: &[[i32; KW]],
    row: Row<'_, Y>,
) {
    let b = row.bias;
    let (step, wrap) = (dh * wc, rows * wc);
    store_row!(row, |c0, c1, two| {
        let (mut a0, mut a1) = (b, b);
        let mut base = s0 * wc;
        for wr in wk {
            let x0 = &ring[base + c0..][..KW];
            let x1 = &ring[base + c1..][..KW];
            for (u, &wv) in wr.iter().enumerate() {
                a0 = a0.wrapping_add(x0[u] as i32 * wv);
                if two {
                    a1 = a1.wrapping_add(x1[u] as i32 * wv);
                }
            }
            base += step;
            if base >= wrap {
                base -= wrap;
            }
        }
        (a0, a1)
    });
}

/// `y[c] = store(requant[c](bias[c] + Σ x · w[c]))` over the taps of each
/// output channel `c` (input channel `c / (out/in)`), padding reading as
/// the zero point: `w` packed by [`pack_depthwise`] (zero point
/// subtracted), `bias` folded by [`fold_bias`](super::fold_bias) with `k =
/// kh·kw` (input offset). `scratch` holds at least
/// [`scratch_len`](QDepthwiseParams::scratch_len) values. Equals
/// [`reference::qint::qconv`](super::super::reference::qint::qconv).
#[allow(clippy::too_many_arguments)]
pub fn depthwise<M: QMac, X: QuantInt, Y: QuantInt>(
    x: &[X],
    w: &[u32],
    bias: &[i32],
    rq: &[Requant],
    scratch: &mut [i16],
    y: &mut [Y],
    p: &QDepthwiseParams,
) {
    let [ih, iw] = p.in_hw;
    let [oh, ow] = p.out_hw;
    let [kh, kw] = p.kernel;
    let [sh, sw] = p.strides;
    let [dh, dw] = p.dilations;
    let [ph, pw] = p.pads_begin;
    if oh == 0 || ow == 0 || p.out_channels == 0 {
        return;
    }
    let mult = p.out_channels / p.in_channels.max(1);
    let (rows, wc) = (p.scratch_rows(), p.scratch_width());
    let ring = &mut scratch[..rows * wc];
    let xz = p.x_zero_point as i16;
    ring.fill(xz);
    let (c0, c1) = (pw.min(wc), (pw + iw).min(wc));
    let rw = p.row_words();
    let wpc = kh * rw;
    let (in_plane, out_plane) = (ih * iw, oh * ow);
    let taps = kh * kw;
    for ch in 0..p.out_channels {
        let xp = &x[(ch / mult) * in_plane..][..in_plane];
        let wch = &w[ch * wpc..][..wpc];
        let yp = &mut y[ch * out_plane..][..out_plane];
        let (b, r) = (bias[ch], rq[ch]);
        let mut wk = [0i32; MAX_TAPS];
        for v in 0..kh {
            for u in 0..kw {
                let word = wch[v * rw + u / 2];
                let half = if u % 2 == 0 { word } else { word >> 16 };
                wk[v * kw + u] = half as i16 as i32;
            }
        }
        let wk = &wk[..taps];
        let plane = Plane {
            xp,
            ih,
            iw,
            ph,
            rows,
            wc,
            c0,
            c1,
            sh,
            dh,
            kh,
            xz,
        };
        let proto = (b, r, p.out, sw);
        let slot = |s0: usize, i: usize| (s0 + i) % rows * wc;
        match (kh, kw, dh, dw) {
            (3, 3, 1, 1) if M::DUAL => {
                let wk3: [[u32; 2]; 3] = core::array::from_fn(|v| [wch[2 * v], wch[2 * v + 1]]);
                plane.rows(ring, yp, ow, proto, |ring, s0, row| {
                    let rs = core::array::from_fn(|i| &ring[slot(s0, i)..][..wc]);
                    row_dual::<M, Y, 3, 2>(rs, &wk3, row);
                });
            }
            (3, 3, 1, 1) => {
                let wk3: [[i32; 3]; 3] =
                    core::array::from_fn(|v| [wk[3 * v], wk[3 * v + 1], wk[3 * v + 2]]);
                plane.rows(ring, yp, ow, proto, |ring, s0, row| {
                    let rs = core::array::from_fn(|i| &ring[slot(s0, i)..][..wc]);
                    row_scalar::<Y, 3, 3>(rs, &wk3, row);
                });
            }
            (_, _, _, 1) if M::DUAL && rw <= 4 => {
                let g = (rows, wc, dh);
                match rw {
                    1 => plane.rows(ring, yp, ow, proto, |ring, s0, row| {
                        rows_dual::<M, Y, 1>(ring, s0, g, wch.as_chunks().0, row)
                    }),
                    2 => plane.rows(ring, yp, ow, proto, |ring, s0, row| {
                        rows_dual::<M, Y, 2>(ring, s0, g, wch.as_chunks().0, row)
                    }),
                    3 => plane.rows(ring, yp, ow, proto, |ring, s0, row| {
                        rows_dual::<M, Y, 3>(ring, s0, g, wch.as_chunks().0, row)
                    }),
                    _ => plane.rows(ring, yp, ow, proto, |ring, s0, row| {
                        rows_dual::<M, Y, 4>(ring, s0, g, wch.as_chunks().0, row)
                    }),
                }
            }
            (_, 1..=6, _, 1) if !M::DUAL => {
                let g = (rows, wc, dh);
                match kw {
                    1 => plane.rows(ring, yp, ow, proto, |ring, s0, row| {
                        rows_scalar::<Y, 1>(ring, s0, g, wk.as_chunks().0, row)
                    }),
                    2 => plane.rows(ring, yp, ow, proto, |ring, s0, row| {
                        rows_scalar::<Y, 2>(ring, s0, g, wk.as_chunks().0, row)
                    }),
                    3 => plane.rows(ring, yp, ow, proto, |ring, s0, row| {
                        rows_scalar::<Y, 3>(ring, s0, g, wk.as_chunks().0, row)
                    }),
                    4 => plane.rows(ring, yp, ow, proto, |ring, s0, row| {
                        rows_scalar::<Y, 4>(ring, s0, g, wk.as_chunks().0, row)
                    }),
                    5 => plane.rows(ring, yp, ow, proto, |ring, s0, row| {
                        rows_scalar::<Y, 5>(ring, s0, g, wk.as_chunks().0, row)
                    }),
                    _ => plane.rows(ring, yp, ow, proto, |ring, s0, row| {
                        rows_scalar::<Y, 6>(ring, s0, g, wk.as_chunks().0, row)
                    }),
                }
            }
            (_, _, _, 1) if M::DUAL => plane.rows(ring, yp, ow, proto, |ring, s0, row| {
                let b = row.bias;
                store_row!(row, |c0, c1, two| {
                    let (mut a0, mut a1) = (b, b);
                    let mut sl = s0;
                    for wr in wch.chunks_exact(rw) {
                        let r = &ring[sl * wc..][..wc];
                        sl += dh;
                        if sl >= rows {
                            sl -= rows;
                        }
                        for (t, &wv) in wr.iter().enumerate() {
                            a0 = M::mac2(a0, pair_at(&r[c0..], t), wv);
                            if two {
                                a1 = M::mac2(a1, pair_at(&r[c1..], t), wv);
                            }
                        }
                    }
                    (a0, a1)
                });
            }),
            _ => plane.rows(ring, yp, ow, proto, |ring, s0, row| {
                let b = row.bias;
                store_row!(row, |c0, c1, two| {
                    let (mut a0, mut a1) = (b, b);
                    let mut sl = s0;
                    for wr in wk.chunks_exact(kw) {
                        let r = &ring[sl * wc..][..wc];
                        sl += dh;
                        if sl >= rows {
                            sl -= rows;
                        }
                        for (u, &wv) in wr.iter().enumerate() {
                            a0 = a0.wrapping_add(r[c0 + u * dw] as i32 * wv);
                            if two {
                                a1 = a1.wrapping_add(r[c1 + u * dw] as i32 * wv);
                            }
                        }
                    }
                    (a0, a1)
                });
            }),
        }
    }
}
