//! Single-group 2-D integer convolution as a matrix product on packed
//! weights ([`super::pack_weights`]): [`POSITIONS`] output positions per
//! pass, their input columns widened once for every output channel, and for
//! each output channel one pass of the reduction over them, so a weight word,
//! the bias and the requantization constants ([`Rescale`]) are loaded once
//! per [`POSITIONS`] outputs. With a small reduction (the 1×1 expansions of
//! MobileNet-style blocks: 8 or 16 input channels) this per-output work is
//! most of the cost.

use super::super::reference::qint::QOut;
use super::super::reference::quant::QuantInt;
use super::{pair, row_words, QMac, Rescale};

/// Output positions [`conv`] computes per pass.
pub const POSITIONS: usize = 4;

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
        POSITIONS * row_words(self.k())
    }
}

/// `y[oc][p] = store(requant[oc](bias[oc] + Σ_i x_col[p][i] · w[oc][i]))`,
/// with `w` packed by [`super::pack_weights`] (zero point subtracted),
/// `bias` folded by [`super::fold_bias`] (input offset) and `rq` the
/// [`Rescale`] of each channel's [`Requant`](super::super::reference::qint::Requant), so the result
/// equals [`reference::qint::qconv`](super::super::reference::qint::qconv)'s.
/// `col` is scratch of at least [`QConvGemmParams::col_len`] words.
#[allow(clippy::too_many_arguments)]
pub fn conv<M: QMac, X: QuantInt, Y: QuantInt>(
    x: &[X],
    w: &[u32],
    bias: &[i32],
    rq: &[Rescale],
    col: &mut [u32],
    y: &mut [Y],
    p: &QConvGemmParams,
) {
    let rw = row_words(p.k());
    let [oh, ow] = p.out_hw;
    let npos = oh * ow;
    let cout = p.out_channels;
    let out = Out {
        w: &w[..cout * rw],
        bias: &bias[..cout],
        rq: &rq[..cout],
        rw,
        npos,
        q: p.out,
    };
    let y = &mut y[..cout * npos];
    // A clamp to the whole range of `Y` is one saturation (`USAT`/`SSAT`).
    if p.out.min == Y::QMIN && p.out.max == Y::QMAX {
        passes::<M, X, Y, true>(x, col, y, p, &out);
    } else {
        passes::<M, X, Y, false>(x, col, y, p, &out);
    }
}

#[inline(always)]
fn passes<M: QMac, X: QuantInt, Y: QuantInt, const FULL: bool>(
    x: &[X],
    col: &mut [u32],
    y: &mut [Y],
    p: &QConvGemmParams,
    out: &Out<'_>,
) {
    let (rw, npos) = (out.rw, out.npos);
    let col = &mut col[..POSITIONS * rw];
    let mut pos = 0;
    while pos + POSITIONS <= npos {
        if !fill_row::<X, POSITIONS>(x, col, pos, p) {
            for slot in 0..POSITIONS {
                fill(x, col, POSITIONS, slot, pos + slot, p);
            }
        }
        out.block::<M, Y, POSITIONS, FULL>(col, y, pos);
        pos += POSITIONS;
    }
    while pos < npos {
        let col = &mut col[..rw];
        fill(x, col, 1, 0, pos, p);
        // The last positions (or the only one, of a fully connected
        // layer): one instance for either clamp.
        out.block::<M, Y, 1, false>(col, y, pos);
        pos += 1;
    }
}

/// What every pass of [`conv`] reads besides its columns.
struct Out<'a> {
    w: &'a [u32],
    bias: &'a [i32],
    rq: &'a [Rescale],
    rw: usize,
    npos: usize,
    q: QOut,
}

impl Out<'_> {
    /// Every output channel at the `P` positions from `pos`, whose columns
    /// `col` holds interleaved: word `t` of position `s` at `col[t·P + s]`.
    #[inline(always)]
    fn block<M: QMac, Y: QuantInt, const P: usize, const FULL: bool>(
        &self,
        col: &[u32],
        y: &mut [Y],
        pos: usize,
    ) {
        let col = &col[..P * self.rw];
        let rows = self.w.chunks_exact(self.rw).zip(self.bias).zip(self.rq);
        for (oc, ((wr, &b), r)) in rows.enumerate() {
            let mut acc = [b; P];
            if P == 4 {
                // A block of four: the kernel set's reduction loop.
                acc.copy_from_slice(&M::dot4([b; 4], col, wr));
            } else if P == 1 {
                acc[0] = M::dot1(b, col, wr);
            } else {
                // `rw` is even: two weight words a step.
                for (cs, ws) in col.chunks_exact(2 * P).zip(wr.chunks_exact(2)) {
                    for s in 0..P {
                        acc[s] = M::mac2(acc[s], cs[s], ws[0]);
                    }
                    for s in 0..P {
                        acc[s] = M::mac2(acc[s], cs[P + s], ws[1]);
                    }
                }
            }
            let yo = &mut y[oc * self.npos + pos..][..P];
            let q = &self.q;
            if r.with_zero_point {
                for (o, a) in yo.iter_mut().zip(acc) {
                    *o = clamp::<Y, FULL>(M::rescale_fused(a, r), q);
                }
            } else if r.is_short() {
                // The value is below `2^31 - 2^16` in magnitude: adding
                // the zero point cannot overflow.
                for (o, a) in yo.iter_mut().zip(acc) {
                    *o = clamp::<Y, FULL>(M::rescale(a, r).wrapping_add(q.zero_point), q);
                }
            } else {
                store_general(&acc, r, q, yo);
            }
        }
    }
}

/// `yo[s] = q.store(r.apply(acc[s]))`: the outputs of a channel whose
/// multiplier is 0.5 or more (rare; kept out of line).
#[inline(never)]
fn store_general<Y: QuantInt>(acc: &[i32], r: &Rescale, q: &QOut, yo: &mut [Y]) {
    for (o, a) in yo.iter_mut().zip(acc) {
        *o = q.store(r.apply(*a));
    }
}

/// `v` clamped to the output range: the range of `Y` when `FULL`.
#[inline(always)]
fn clamp<Y: QuantInt, const FULL: bool>(v: i32, q: &QOut) -> Y {
    if FULL {
        Y::from_i32(v.clamp(Y::QMIN, Y::QMAX))
    } else {
        Y::from_i32(v.max(q.min).min(q.max))
    }
}

/// The columns of the `P` positions from `pos` when they are `P`
/// neighbours in one row of a 1×1 convolution of stride 1 inside the image
/// (the pointwise convolutions): input channel `i` of them is the `P`
/// consecutive values from `i · plane + off`, one slice a channel. Returns
/// false, writing nothing, for any other block.
#[inline(always)]
fn fill_row<X: QuantInt, const P: usize>(
    x: &[X],
    col: &mut [u32],
    pos: usize,
    p: &QConvGemmParams,
) -> bool {
    let [ih, iw] = p.in_hw;
    let ow = p.out_hw[1];
    let (oy, ox) = (pos / ow, pos % ow);
    let y0 = (oy * p.strides[0]) as isize - p.pads_begin[0] as isize;
    let x0 = ox as isize - p.pads_begin[1] as isize;
    if p.kernel != [1, 1] || p.strides[1] != 1 {
        return false;
    }
    let plane = ih * iw;
    let off = if p.strides[0] == 1 && p.pads_begin == [0, 0] && p.out_hw == p.in_hw {
        // Output position = input position: any `P` neighbours in the
        // plane, across rows too (planes narrower than `P`, or not a
        // multiple of it).
        if pos + P > plane {
            return false;
        }
        pos
    } else if ox + P > ow || !(0..ih as isize).contains(&y0) || x0 < 0 || x0 as usize + P > iw {
        return false;
    } else {
        y0 as usize * iw + x0 as usize
    };
    let k = p.in_channels;
    let row = |i: usize| (i < k).then(|| &x[i * plane + off..][..P]);
    for (t, words) in col.chunks_exact_mut(P).enumerate() {
        match (row(2 * t), row(2 * t + 1)) {
            (Some(a), Some(b)) => {
                for ((w, a), b) in words.iter_mut().zip(a).zip(b) {
                    *w = pair(a.to_i32(), b.to_i32());
                }
            }
            (Some(a), None) => {
                for (w, a) in words.iter_mut().zip(a) {
                    *w = pair(a.to_i32(), 0);
                }
            }
            _ => words.fill(0),
        }
    }
    true
}

/// Writes the input column of output position `pos` into the words
/// `col[stride·t + slot]`: raw input values (padding reads as the zero
/// point), two a word, 0 past the end of the reduction.
#[inline(never)]
fn fill<X: QuantInt>(
    x: &[X],
    col: &mut [u32],
    stride: usize,
    slot: usize,
    pos: usize,
    p: &QConvGemmParams,
) {
    let [ih, iw] = p.in_hw;
    let [_, ow] = p.out_hw;
    let [kh, kw] = p.kernel;
    let in_plane = ih * iw;
    let k = p.k();
    let (oy, ox) = (pos / ow, pos % ow);
    let y0 = (oy * p.strides[0]) as isize - p.pads_begin[0] as isize;
    let x0 = (ox * p.strides[1]) as isize - p.pads_begin[1] as isize;
    if kh == 1 && kw == 1 && (0..ih as isize).contains(&y0) && (0..iw as isize).contains(&x0) {
        // 1×1 inside the image: a strided gather, two channels a word.
        let off = y0 as usize * iw + x0 as usize;
        let mut xs = x[off..].iter().step_by(in_plane).take(k);
        for word in col.iter_mut().skip(slot).step_by(stride) {
            let lo = xs.next().map_or(0, |v| v.to_i32());
            let hi = xs.next().map_or(0, |v| v.to_i32());
            *word = pair(lo, hi);
        }
        return;
    }
    let [dh, dw] = p.dilations;
    // The taps in reduction order (channel, kernel row, kernel column),
    // padding as the zero point, two a word at `col[slot + stride·t]`;
    // then 0 to the end of the row.
    let xz = p.x_zero_point;
    let nwords = row_words(k);
    if nwords == 0 {
        return;
    }
    let col = &mut col[..stride * (nwords - 1) + slot + 1];
    let (mut at, mut lo, mut odd) = (slot, 0, false);
    macro_rules! push {
        ($v:expr) => {{
            let v: i32 = $v;
            if odd {
                col[at] = pair(lo, v);
                at += stride;
            } else {
                lo = v;
            }
            odd = !odd;
        }};
    }
    let cols_inside = |u: usize| (0..iw as isize).contains(&(x0 + (u * dw) as isize));
    let inside = x0 >= 0 && x0 as usize + (kw - 1) * dw < iw;
    for ic in 0..p.in_channels {
        for v in 0..kh {
            let yy = y0 + (v * dh) as isize;
            if !(0..ih as isize).contains(&yy) {
                for _ in 0..kw {
                    push!(xz);
                }
                continue;
            }
            let row = &x[ic * in_plane + yy as usize * iw..][..iw];
            if inside {
                let r = &row[x0 as usize..][..(kw - 1) * dw + 1];
                for u in 0..kw {
                    push!(r[u * dw].to_i32());
                }
            } else {
                for u in 0..kw {
                    let xx = x0 + (u * dw) as isize;
                    push!(if cols_inside(u) {
                        row[xx as usize].to_i32()
                    } else {
                        xz
                    });
                }
            }
        }
    }
    if odd {
        col[at] = pair(lo, 0);
        at += stride;
    }
    while at < col.len() {
        col[at] = 0;
        at += stride;
    }
}
