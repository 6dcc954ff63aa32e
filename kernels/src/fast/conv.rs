//! General 2-D direct convolution (batch 1, one group, any strides and
//! padding, no dilation) through the indirect micro-kernel.
//!
//! The compiler packs the weights `[ceil(M/4)][C·kH·kW][4]` and stores the
//! input offset of every tap, `offs[(c·kH + ky)·kW + kx] = c·H·W + ky·W + kx`
//! (see [`offsets`]). Four horizontally adjacent output positions whose taps
//! all fall inside the input are then one call of [`Micro::mk4x4_taps`] with
//! column stride `stride_w`: four output channels × four positions per pass,
//! in registers. Positions near the borders are computed one at a time with
//! bounds.

pub use super::super::fused::conv2d::MaxPoolFuse;
use super::super::micro::{Micro, Taps};
use super::super::reference::activation::Activation;
use super::act;

/// Parameters of [`conv`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DirectConvParams {
    /// Input channels C.
    pub in_channels: usize,
    /// Output channels M.
    pub out_channels: usize,
    /// Input height and width.
    pub in_hw: [usize; 2],
    /// Output height and width.
    pub out_hw: [usize; 2],
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Strides.
    pub strides: [usize; 2],
    /// Padding at the top and left.
    pub pads_begin: [usize; 2],
    /// Activation applied to every output.
    pub activation: Activation,
}

/// Fills `out` (length `c · kh · kw`) with the input offset of every tap.
/// Used by the compiler.
pub fn offsets(c: usize, in_hw: [usize; 2], kernel: [usize; 2], out: &mut [u32]) {
    let [h, w] = in_hw;
    let [kh, kw] = kernel;
    for ic in 0..c {
        for ky in 0..kh {
            for kx in 0..kw {
                out[(ic * kh + ky) * kw + kx] = (ic * h * w + ky * w + kx) as u32;
            }
        }
    }
}

/// Output positions [`conv_im2col`] gathers per pass.
pub const IM2COL_TILE: usize = 4;

/// Floats of the column tile [`conv_im2col`] takes: `C·kH·kW` values of
/// [`IM2COL_TILE`] positions.
pub const fn im2col_len(p: &DirectConvParams) -> usize {
    p.in_channels * p.kernel[0] * p.kernel[1] * IM2COL_TILE
}

/// [`conv`] as a matrix product: the input values of [`IM2COL_TILE`]
/// output positions at a time (their columns, padding as 0) are gathered
/// into `col` (at least [`im2col_len`] floats), `col[t·P + j]` for tap `t`
/// of position `j`, and multiplied by the same packed weights
/// ([`matmul`](super::matmul::matmul), whose `A` layout is `wp`'s), four
/// output channels × four positions in registers with no border case. For
/// the convolutions most of whose outputs touch the padding (small or
/// strided planes: a first layer on a spectrogram, strided 3×3 layers),
/// where [`conv`] would take its one-position border path; every column is
/// gathered once for all output channels.
#[inline(never)]
pub fn conv_im2col<M: Micro>(
    x: &[f32],
    wp: &[f32],
    bias: Option<&[f32]>,
    col: &mut [f32],
    y: &mut [f32],
    p: &DirectConvParams,
) {
    let [ih, iw] = p.in_hw;
    let [oh, ow] = p.out_hw;
    let [kh, kw] = p.kernel;
    let [sh, sw] = p.strides;
    let [ph, pw] = p.pads_begin;
    let k = p.in_channels * kh * kw;
    let npos = oh * ow;
    let m = p.out_channels;
    if k == 0 || npos == 0 || m == 0 {
        return;
    }
    let plane = ih * iw;
    let x = &x[..p.in_channels * plane];
    let y = &mut y[..m * npos];
    let mut j0 = 0;
    while j0 < npos {
        let t = (npos - j0).min(IM2COL_TILE);
        let tile = &mut col[..k * t];
        for j in 0..t {
            let (oy, ox) = ((j0 + j) / ow, (j0 + j) % ow);
            let y0 = (oy * sh) as isize - ph as isize;
            let x0 = (ox * sw) as isize - pw as isize;
            let inside_x = x0 >= 0 && x0 as usize + kw <= iw;
            let mut at = j;
            for ic in 0..p.in_channels {
                let xc = &x[ic * plane..][..plane];
                for ky in 0..kh {
                    let yy = y0 + ky as isize;
                    if !(0..ih as isize).contains(&yy) {
                        for _ in 0..kw {
                            tile[at] = 0.0;
                            at += t;
                        }
                        continue;
                    }
                    let row = &xc[yy as usize * iw..][..iw];
                    if inside_x {
                        for &v in &row[x0 as usize..][..kw] {
                            tile[at] = v;
                            at += t;
                        }
                    } else {
                        for kx in 0..kw {
                            let xx = x0 + kx as isize;
                            tile[at] = if (0..iw as isize).contains(&xx) {
                                row[xx as usize]
                            } else {
                                0.0
                            };
                            at += t;
                        }
                    }
                }
            }
        }
        super::matmul::matmul::<M>(
            wp,
            tile,
            bias,
            &mut y[j0..],
            &super::matmul::MatmulParams {
                m,
                k,
                n: t,
                ldb: t,
                sb: 1,
                ldy: npos,
                sy: 1,
                activation: p.activation,
            },
        );
        j0 += t;
    }
}

/// `y = act(conv(x, w) + bias)`; `wp` packed `[ceil(M/4)][C·kH·kW][4]`,
/// `offs` from [`offsets`].
#[inline(never)]
pub fn conv<M: Micro>(
    x: &[f32],
    wp: &[f32],
    offs: &[u32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    p: &DirectConvParams,
) {
    let [oh, ow] = p.out_hw;
    let plane = oh * ow;
    let act_kind = p.activation;
    drive::<M>(x, wp, offs, bias, p, [oh, ow], |t: &mut Tile| {
        act_tile(act_kind, &mut t.acc);
        if t.step == [0, 1] && t.n == 4 {
            // Four neighbours in a row: one copy a channel.
            let at = t.oy * ow + t.ox;
            for (i, ai) in t.acc.iter().enumerate().take(t.rows) {
                y[(t.i0 + i) * plane + at..][..4].copy_from_slice(ai);
            }
            return;
        }
        for j in 0..t.n {
            let at = (t.oy + j * t.step[0]) * ow + t.ox + j * t.step[1];
            for i in 0..t.rows {
                y[(t.i0 + i) * plane + at] = t.acc[i][j];
            }
        }
    });
}

/// [`conv`] followed by a fused max pooling with non-overlapping
/// windows (strides ≥ kernel, no dilation): `y` is then the pooled output
/// `[M][pool.out]` and the convolution output never exists in memory. Each
/// convolution output is computed once (only the rows and columns some
/// window reads) and folded into the maximum of the one window it belongs
/// to; a NaN wins, as in the reference max pool.
///
/// # Panics
///
/// If a pooling window overlaps the next one (`strides < kernel`), the
/// slices are shorter than the parameters imply, or the activation is not
/// `None` or `Relu` ([`conv_max_pool_act`] takes any): the firmware then
/// links none of the other activations' code.
#[inline(never)]
pub fn conv_max_pool<M: Micro>(
    x: &[f32],
    wp: &[f32],
    offs: &[u32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    p: &DirectConvParams,
    pool: MaxPoolFuse,
) {
    pooled::<M, false>(x, wp, offs, bias, y, p, pool);
}

/// [`conv_max_pool`] with any activation.
#[inline(never)]
pub fn conv_max_pool_act<M: Micro>(
    x: &[f32],
    wp: &[f32],
    offs: &[u32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    p: &DirectConvParams,
    pool: MaxPoolFuse,
) {
    pooled::<M, true>(x, wp, offs, bias, y, p, pool);
}

/// The driver of [`conv_max_pool`] (`ANY_ACT` false) and
/// [`conv_max_pool_act`].
#[inline(always)]
fn pooled<M: Micro, const ANY_ACT: bool>(
    x: &[f32],
    wp: &[f32],
    offs: &[u32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    p: &DirectConvParams,
    pool: MaxPoolFuse,
) {
    let m = p.out_channels;
    assert!(
        pool.strides[0] >= pool.kernel[0] && pool.strides[1] >= pool.kernel[1],
        "fused max pool: windows overlap"
    );
    let [ph, pw] = pool.out;
    let plane = ph * pw;
    for v in &mut y[..m * plane] {
        *v = f32::NEG_INFINITY;
    }
    // The window a conv row (column) belongs to, if any.
    let slot = |c: usize, axis: usize| -> Option<usize> {
        let c = c + pool.pads_begin[axis];
        let (win, off) = (c / pool.strides[axis], c % pool.strides[axis]);
        (off < pool.kernel[axis] && win < pool.out[axis]).then_some(win)
    };
    // Conv rows and columns past the last window's are never read.
    let need = |axis: usize| {
        let end = (pool.out[axis].saturating_sub(1) * pool.strides[axis] + pool.kernel[axis])
            .saturating_sub(pool.pads_begin[axis]);
        end.min(p.out_hw[axis])
    };
    let act_kind = p.activation;
    drive::<M>(x, wp, offs, bias, p, [need(0), need(1)], |t: &mut Tile| {
        act_tile_of::<ANY_ACT>(act_kind, &mut t.acc);
        for j in 0..t.n {
            let (cy, cx) = (t.oy + j * t.step[0], t.ox + j * t.step[1]);
            let (Some(py), Some(px)) = (slot(cy, 0), slot(cx, 1)) else {
                continue;
            };
            let at = py * pw + px;
            for i in 0..t.rows {
                let v = t.acc[i][j];
                let s = &mut y[(t.i0 + i) * plane + at];
                if v > *s || v.is_nan() {
                    *s = v;
                }
            }
        }
    });
}

/// `y = act(conv(x, w) + bias + y)`: a convolution with a residual Add
/// (and the activation after it) fused in. `y` holds the skip tensor on
/// entry and the result on return, so the sum never has a buffer of its
/// own; each output is `act((conv + bias) + skip)`, the same operations in
/// the same order as the convolution followed by the Add, so the result is
/// bit-identical to the unfused pair. Weights and offsets as for [`conv`].
#[inline(never)]
pub fn conv_residual<M: Micro>(
    x: &[f32],
    wp: &[f32],
    offs: &[u32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    p: &DirectConvParams,
) {
    let [oh, ow] = p.out_hw;
    let plane = oh * ow;
    assert!(
        y.len() >= p.out_channels * plane,
        "conv_residual: output shorter than the convolution's"
    );
    // The driver's four-wide block runs along each axis (the same bounds it
    // computes): their last block may overlap the one before it.
    let blocks = |pad: usize, s: usize, len: usize, kl: usize, out: usize| {
        let lo = pad.div_ceil(s).min(out);
        let hi = if len + pad >= kl {
            ((len + pad - kl) / s + 1).min(out)
        } else {
            0
        }
        .max(lo);
        (lo, if hi >= lo + 4 { hi } else { lo })
    };
    let mut sink = AddStore {
        y: &mut y[..p.out_channels * plane],
        plane,
        ow,
        act: p.activation,
        rows: blocks(p.pads_begin[0], p.strides[0], p.in_hw[0], p.kernel[0], oh),
        cols: blocks(p.pads_begin[1], p.strides[1], p.in_hw[1], p.kernel[1], ow),
    };
    drive::<M>(x, wp, offs, bias, p, [oh, ow], |t: &mut Tile| sink.put(t));
}

/// The sink of [`conv_residual`]: `y = act(tile + y)` for the tile's
/// positions not handed over before, the activation's kind matched once per
/// tile and one bounds check per channel row.
struct AddStore<'a> {
    y: &'a mut [f32],
    plane: usize,
    ow: usize,
    act: Activation,
    /// The driver's block runs, rows and columns (`lo..hi`): the last block
    /// of a run whose length is not a multiple of four overlaps the one
    /// before it, and those outputs must not take the skip twice.
    rows: (usize, usize),
    cols: (usize, usize),
}

impl AddStore<'_> {
    /// Positions at the start of `t` that the block before it covered.
    #[inline(always)]
    fn covered(&self, t: &Tile) -> usize {
        let ((lo, hi), start) = if t.step == [0, 1] {
            (self.cols, t.ox)
        } else {
            (self.rows, t.oy)
        };
        let len = hi - lo;
        if t.n == 4 && len > 4 && len % 4 != 0 && start + 4 == hi {
            4 - len % 4
        } else {
            0
        }
    }

    // Inlined into the driver's closure, which LLVM keeps out of line: one
    // copy, one call per tile. The index loops read the tile and the output
    // at different strides.
    #[inline(always)]
    #[allow(clippy::needless_range_loop)]
    fn put(&mut self, t: &mut Tile) {
        let first = self.covered(t);
        if t.step != [0, 1] {
            // A vertical run of a border column: rarer, kept small.
            let a = self.act;
            let step = t.step[0] * self.ow + t.step[1];
            let base = t.oy * self.ow + t.ox;
            for (i, acc) in t.acc.iter().enumerate().take(t.rows) {
                let col = (t.i0 + i) * self.plane + base;
                for j in first..t.n {
                    let v = &mut self.y[col + j * step];
                    let s = acc[j] + *v;
                    *v = match a {
                        Activation::None | Activation::Relu => act(a, s),
                        other => apply_outlined(other, s),
                    };
                }
            }
            return;
        }
        match self.act {
            Activation::None => self.row(t, first, |v| v),
            Activation::Relu => self.row(t, first, |v| act(Activation::Relu, v)),
            other => self.row(t, first, |v| apply_outlined(other, v)),
        }
    }

    /// `y = f(tile + y)` for a tile along a row from position `first`, one
    /// bounds check per channel row.
    #[inline(always)]
    #[allow(clippy::needless_range_loop)]
    fn row(&mut self, t: &Tile, first: usize, f: impl Fn(f32) -> f32) {
        let base = t.oy * self.ow + t.ox;
        let n = t.n;
        for (i, acc) in t.acc.iter().enumerate().take(t.rows) {
            let row = &mut self.y[(t.i0 + i) * self.plane + base..][..n];
            for j in first..n {
                row[j] = f(acc[j] + row[j]);
            }
        }
    }
}

/// [`Activation::apply`] out of line: inlined into the residual store's
/// loops, the rarer activations (Clip, Sigmoid, Tanh…) cost kilobytes.
#[inline(never)]
fn apply_outlined(a: Activation, v: f32) -> f32 {
    a.apply(v)
}

/// [`act_tile`] for `None` and `Relu` only unless `ANY` (a kernel that
/// takes only those links none of the others' code).
#[inline(always)]
fn act_tile_of<const ANY: bool>(a: Activation, acc: &mut [[f32; 4]; 4]) {
    match a {
        Activation::None | Activation::Relu => act_tile(a, acc),
        _ if ANY => act_tile(a, acc),
        _ => panic!("conv_max_pool: an activation other than Relu (use conv_max_pool_act)"),
    }
}

/// The activation over a tile, the kind matched once.
#[inline(always)]
fn act_tile(a: Activation, acc: &mut [[f32; 4]; 4]) {
    match a {
        Activation::None => {}
        Activation::Relu => {
            for v in acc.iter_mut().flatten() {
                *v = act(Activation::Relu, *v);
            }
        }
        other => {
            for v in acc.iter_mut().flatten() {
                *v = other.apply(*v);
            }
        }
    }
}

/// Up to four output channels × four positions of the convolution (before
/// the activation), as [`drive`] hands them over.
struct Tile {
    /// First output channel.
    i0: usize,
    /// Output channels (`acc` rows) that exist.
    rows: usize,
    /// First position.
    oy: usize,
    ox: usize,
    /// Position `j` is `(oy + j·step[0], ox + j·step[1])`.
    step: [usize; 2],
    /// Positions (`acc` columns) computed.
    n: usize,
    /// `acc[i][j]`: channel `i0 + i` at position `j`.
    acc: [[f32; 4]; 4],
}

/// Computes the conv outputs `(oy, ox)` for `oy < rows_cols[0]`, `ox <
/// rows_cols[1]` (before the activation) and hands them to `store` as
/// [`Tile`]s, four output channels × four positions per micro-kernel
/// call:
///
/// * inside (every tap in the input): four horizontally adjacent positions,
///   one [`Micro::mk4x4_taps`] call over the whole tap table;
/// * top and bottom rows (some kernel rows outside): four horizontally
///   adjacent positions, one [`Micro::mk4x4`] call per input channel and
///   kernel row inside;
/// * left and right columns (some kernel columns outside): four vertically
///   adjacent positions, one [`Micro::mk4x4`] call per input channel and
///   kernel row over the kernel columns inside;
/// * corners, and runs shorter than four: one position at a time.
///
/// The last block of a run may overlap the one before it (those outputs are
/// stored twice, with equal values).
#[inline(always)]
fn drive<M: Micro>(
    x: &[f32],
    wp: &[f32],
    offs: &[u32],
    bias: Option<&[f32]>,
    p: &DirectConvParams,
    rows_cols: [usize; 2],
    mut store: impl FnMut(&mut Tile),
) {
    let [h, w] = p.in_hw;
    let [oh, ow] = rows_cols;
    let [kh, kw] = p.kernel;
    let [sh, sw] = p.strides;
    let [ph, pw] = p.pads_begin;
    let k = p.in_channels * kh * kw;
    let m = p.out_channels;
    let table = Taps::new(&offs[..k]);
    // Positions whose taps all fall inside the input, per axis: lo..hi.
    let inside = |pad: usize, s: usize, len: usize, kl: usize, out: usize| {
        let lo = pad.div_ceil(s).min(out);
        let hi = if len + pad >= kl {
            ((len + pad - kl) / s + 1).min(out)
        } else {
            0
        };
        (lo, hi.max(lo))
    };
    let (oy_lo, oy_hi) = inside(ph, sh, h, kh, oh);
    let (ox_lo, ox_hi) = inside(pw, sw, w, kw, ow);
    // Four-wide blocks over lo..hi (the last one ends at hi), if there is room.
    let blocks = |lo: usize, hi: usize| {
        let n = if hi >= lo + 4 {
            (hi - lo).div_ceil(4)
        } else {
            0
        };
        (0..n).map(move |b| (lo + 4 * b).min(hi - 4))
    };
    // Block ranges (empty below four positions).
    let bx_lo = ox_lo;
    let bx_hi = if ox_hi >= ox_lo + 4 { ox_hi } else { ox_lo };
    let (by_lo, by_hi) = (oy_lo, if oy_hi >= oy_lo + 4 { oy_hi } else { oy_lo });
    let xs = |ox: usize| (ox * sw) as isize - pw as isize;
    let ys = |oy: usize| (oy * sh) as isize - ph as isize;
    for blk in 0..m.div_ceil(4) {
        let ap = &wp[blk * k * 4..][..k * 4];
        let i0 = blk * 4;
        let rows = (m - i0).min(4);
        let mut b4 = [0f32; 4];
        if let Some(bias) = bias {
            b4[..rows].copy_from_slice(&bias[i0..i0 + rows]);
        }
        let init = [[b4[0]; 4], [b4[1]; 4], [b4[2]; 4], [b4[3]; 4]];
        for oy in 0..oh {
            let iy0 = ys(oy);
            let (ky0, ky1) = taps(iy0, kh, h);
            let row_in = oy >= oy_lo && oy < oy_hi;
            for ox in blocks(bx_lo, bx_hi) {
                let ix0 = xs(ox) as usize;
                let mut acc = init;
                if row_in {
                    let base = iy0 as usize * w + ix0;
                    M::mk4x4_taps(ap, &x[base..], &table, sw, &mut acc);
                } else if ky1 > ky0 {
                    for ic in 0..p.in_channels {
                        for ky in ky0..ky1 {
                            let iy = (iy0 + ky as isize) as usize;
                            let a = &ap[(ic * kh + ky) * kw * 4..][..kw * 4];
                            M::mk4x4(a, &x[(ic * h + iy) * w + ix0..], 1, sw, &mut acc);
                        }
                    }
                }
                store(&mut Tile {
                    i0,
                    rows,
                    oy,
                    ox,
                    step: [0, 1],
                    n: 4,
                    acc,
                });
            }
            // Columns outside the blocks: vertical blocks in the rows they
            // cover, one position at a time elsewhere.
            for ox in (0..bx_lo).chain(bx_hi..ow) {
                if (by_lo..by_hi).contains(&oy) {
                    continue;
                }
                let mut acc = [[0f32; 4]; 4];
                for (ai, v) in acc.iter_mut().zip(one(x, ap, p, b4, iy0, xs(ox))) {
                    ai[0] = v;
                }
                store(&mut Tile {
                    i0,
                    rows,
                    oy,
                    ox,
                    step: [0, 1],
                    n: 1,
                    acc,
                });
            }
        }
        // Vertical blocks of the border columns.
        for ox in (0..bx_lo).chain(bx_hi..ow) {
            let ix0 = xs(ox);
            let (kx0, kx1) = taps(ix0, kw, w);
            for oy in blocks(by_lo, by_hi) {
                let mut acc = init;
                if kx1 > kx0 {
                    let iy0 = ys(oy) as usize;
                    let ix = (ix0 + kx0 as isize) as usize;
                    for ic in 0..p.in_channels {
                        for ky in 0..kh {
                            let a = &ap[((ic * kh + ky) * kw + kx0) * 4..][..(kx1 - kx0) * 4];
                            let b = &x[(ic * h + iy0 + ky) * w + ix..];
                            M::mk4x4(a, b, 1, sh * w, &mut acc);
                        }
                    }
                }
                store(&mut Tile {
                    i0,
                    rows,
                    oy,
                    ox,
                    step: [1, 0],
                    n: 4,
                    acc,
                });
            }
        }
    }
}

/// One conv output position: four channels (bias `b4`), taps clipped to the
/// input.
#[inline(always)]
fn one(
    x: &[f32],
    ap: &[f32],
    p: &DirectConvParams,
    b4: [f32; 4],
    iy0: isize,
    ix0: isize,
) -> [f32; 4] {
    let [h, w] = p.in_hw;
    let [kh, kw] = p.kernel;
    let (ky0, ky1) = taps(iy0, kh, h);
    let (kx0, kx1) = taps(ix0, kw, w);
    let mut acc = b4;
    for ic in 0..p.in_channels {
        for ky in ky0..ky1 {
            let iy = (iy0 + ky as isize) as usize;
            for kx in kx0..kx1 {
                let ix = (ix0 + kx as isize) as usize;
                let xv = x[(ic * h + iy) * w + ix];
                let a4 = &ap[((ic * kh + ky) * kw + kx) * 4..][..4];
                for i in 0..4 {
                    acc[i] += a4[i] * xv;
                }
            }
        }
    }
    acc
}

/// Valid kernel taps `k0..k1` for a window starting at `start` over `len` inputs.
#[inline(always)]
pub(super) fn taps(start: isize, k: usize, len: usize) -> (usize, usize) {
    let k0 = if start < 0 { (-start) as usize } else { 0 };
    let end = start + k as isize;
    let k1 = if end > len as isize {
        (len as isize - start).max(0) as usize
    } else {
        k
    };
    (k0.min(k), k1.max(k0.min(k)))
}
