//! Single-group 2-D integer convolution as a matrix product on packed
//! weights ([`super::pack_weights`]), two output positions by two output
//! channels per pass of the reduction.

use super::super::reference::qint::{QOut, Requant};
use super::super::reference::quant::QuantInt;
use super::{pair, requant, row_words, QMac};

/// Shapes of [`conv`] (NCHW, batch 1, one group).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QConvGemmParams {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Input height and width.
    pub in_hw: [usize; 2],
    /// Output height and width.
    pub out_hw: [usize; 2],
    /// Kernel height and width.
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

impl QConvGemmParams {
    /// Length of the reduction: `in_channels · kh · kw`.
    pub const fn k(&self) -> usize {
        self.in_channels * self.kernel[0] * self.kernel[1]
    }

    /// Words of the column buffer [`conv`] needs.
    pub const fn col_len(&self) -> usize {
        2 * row_words(self.k())
    }
}

/// `y[oc][p] = store(requant[oc](bias[oc] + Σ_i x_col[p][i] · w[oc][i]))`,
/// with `w` packed by [`super::pack_weights`] (zero point subtracted) and
/// `bias` folded by [`super::fold_bias`] (input offset), so the result equals
/// [`reference::qint::qconv`](super::super::reference::qint::qconv)'s.
/// `col` is scratch of at least [`QConvGemmParams::col_len`] words.
#[allow(clippy::too_many_arguments)]
pub fn conv<M: QMac, X: QuantInt, Y: QuantInt>(
    x: &[X],
    w: &[u32],
    bias: &[i32],
    rq: &[Requant],
    col: &mut [u32],
    y: &mut [Y],
    p: &QConvGemmParams,
) {
    let k = p.k();
    let rw = row_words(k);
    let [oh, ow] = p.out_hw;
    let npos = oh * ow;
    let cout = p.out_channels;
    let col = &mut col[..2 * rw];
    let y = &mut y[..cout * npos];
    let mut pos = 0;
    while pos < npos {
        let two = pos + 1 < npos;
        fill(x, col, 0, pos, p);
        if two {
            fill(x, col, 1, pos + 1, p);
        }
        let col = &*col;
        for j in 0..cout.div_ceil(2) {
            let oc0 = 2 * j;
            let oc1 = (oc0 + 1).min(cout - 1);
            let wr = &w[j * 2 * rw..][..2 * rw];
            let (mut c00, mut c10) = (bias[oc0], bias[oc0]);
            let (mut c01, mut c11) = (bias[oc1], bias[oc1]);
            for (xs, ws) in col.chunks_exact(4).zip(wr.chunks_exact(4)) {
                c00 = M::mac2(c00, xs[0], ws[0]);
                c10 = M::mac2(c10, xs[1], ws[0]);
                c01 = M::mac2(c01, xs[0], ws[1]);
                c11 = M::mac2(c11, xs[1], ws[1]);
                c00 = M::mac2(c00, xs[2], ws[2]);
                c10 = M::mac2(c10, xs[3], ws[2]);
                c01 = M::mac2(c01, xs[2], ws[3]);
                c11 = M::mac2(c11, xs[3], ws[3]);
            }
            let (r0, r1) = (rq[oc0], rq[oc1]);
            y[oc0 * npos + pos] = p.out.store(requant(c00, r0));
            if two {
                y[oc0 * npos + pos + 1] = p.out.store(requant(c10, r0));
            }
            if oc0 + 1 < cout {
                y[oc1 * npos + pos] = p.out.store(requant(c01, r1));
                if two {
                    y[oc1 * npos + pos + 1] = p.out.store(requant(c11, r1));
                }
            }
        }
        pos += 2;
    }
}

/// Writes the input column of output position `pos` into the words
/// `col[2t + slot]`: raw input values (padding reads as the zero point),
/// two a word, 0 past the end of the reduction.
fn fill<X: QuantInt>(x: &[X], col: &mut [u32], slot: usize, pos: usize, p: &QConvGemmParams) {
    let [ih, iw] = p.in_hw;
    let [_, ow] = p.out_hw;
    let [kh, kw] = p.kernel;
    let in_plane = ih * iw;
    let k = p.k();
    let (oy, ox) = (pos / ow, pos % ow);
    let y0 = (oy * p.strides[0]) as isize - p.pads_begin[0] as isize;
    let x0 = (ox * p.strides[1]) as isize - p.pads_begin[1] as isize;
    let words = col.len() / 2;
    if kh == 1 && kw == 1 && (0..ih as isize).contains(&y0) && (0..iw as isize).contains(&x0) {
        // 1×1 inside the image: a strided gather.
        let off = y0 as usize * iw + x0 as usize;
        let at = |i: usize| {
            if i < k {
                x[i * in_plane + off].to_i32()
            } else {
                0
            }
        };
        for t in 0..words {
            col[2 * t + slot] = pair(at(2 * t), at(2 * t + 1));
        }
        return;
    }
    let [dh, dw] = p.dilations;
    let at = |i: usize| {
        if i >= k {
            return 0;
        }
        let (ic, tap) = (i / (kh * kw), i % (kh * kw));
        let (v, u) = (tap / kw, tap % kw);
        let (yy, xx) = (y0 + (v * dh) as isize, x0 + (u * dw) as isize);
        if yy < 0 || xx < 0 || yy >= ih as isize || xx >= iw as isize {
            p.x_zero_point
        } else {
            x[ic * in_plane + yy as usize * iw + xx as usize].to_i32()
        }
    };
    for t in 0..words {
        col[2 * t + slot] = pair(at(2 * t), at(2 * t + 1));
    }
}
