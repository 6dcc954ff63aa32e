//! Single-group 2-D integer convolution as a matrix product on `i8`
//! operands, for cores with an 8-bit dot product (Helium's
//! `VMLADAVA.S8`: 16 multiply-accumulates an instruction,
//! [`arm::mve_int::HeliumDot`](super::super::arm)).
//!
//! Layouts, chosen at compile time:
//! - weights ([`pack_weights8`]): the zero point subtracted, every value in
//!   `i8` range ([`fits_i8`]; symmetric int8 weights always are), one row
//!   of [`row_bytes`] bytes (the reduction rounded up to 16, zeros after it)
//!   per output channel, rows rounded up to a multiple of [`ROWS`] with
//!   zero rows;
//! - columns: [`POSITIONS`] output positions per pass, each its own
//!   contiguous row of [`row_bytes`] bytes, so that one 16-byte load feeds a
//!   dot product. An input value `x` is stored as `x - offset` with `offset`
//!   128 for `u8` inputs (the flip of the top bit) and 0 for `i8`; the
//!   padding is the zero point, stored the same way; the tail of the row is
//!   0 (its weights are 0 too).
//! - bias ([`fold_bias8`]): `bias - (x_zero_point - offset) · Σ w`, so the
//!   accumulator is the reference's exactly.
//!
//! A pass computes [`POSITIONS`] positions × 2 output channels
//! ([`Dot8::dot3x2`], one call for up to 64 channels, the sums without the
//! bias); the positions left over (and a fully connected layer's only one)
//! take one position × 4 channels a pass ([`Dot8::dot1x4`]). Then the bias
//! is added and each output requantized, exactly, with the kernel set's
//! [`QMac`] ([`QMac::rescale`], [`QMac::rescale_fused`]).

use super::super::reference::qint::QOut;
use super::super::reference::quant::QuantInt;
use super::conv::QConvGemmParams;
use super::{QMac, Rescale};

/// Output positions of a [`Dot8::dot3x2`] pass.
pub const POSITIONS: usize = 3;

/// Packed weight rows are a multiple of this many (the output channels of
/// a [`Dot8::dot1x4`] pass).
pub const ROWS: usize = 4;

/// Bytes of a packed row (weights or column) of `k` values: `k` rounded up
/// to a multiple of 16.
pub const fn row_bytes(k: usize) -> usize {
    k.div_ceil(16) * 16
}

/// Rows [`pack_weights8`] writes for `m` output channels.
pub const fn packed_rows(m: usize) -> usize {
    m.div_ceil(ROWS) * ROWS
}

/// Bytes [`pack_weights8`] writes for `m` rows of `k` values.
pub const fn packed_len8(m: usize, k: usize) -> usize {
    packed_rows(m) * row_bytes(k)
}

/// Most bytes of columns [`conv`] fills before it computes their outputs.
const COL_BUDGET: usize = 2048;

/// Blocks of [`POSITIONS`] positions per tile of [`conv`] for a reduction
/// of `k`: up to 4 (12 positions, whose outputs of a channel are
/// requantized with its constants loaded once) within [`COL_BUDGET`] bytes
/// of columns, at least 1.
pub const fn tile_blocks(k: usize) -> usize {
    let b = COL_BUDGET / (POSITIONS * row_bytes(k));
    if b == 0 {
        1
    } else if b > 4 {
        4
    } else {
        b
    }
}

/// Bytes of the column buffer [`conv`] needs for a reduction of `k`.
pub const fn col_len8(k: usize) -> usize {
    tile_blocks(k) * POSITIONS * row_bytes(k)
}

/// Whether every weight (zero point subtracted) fits `i8`, as
/// [`pack_weights8`] needs.
pub fn fits_i8(w: &[i32]) -> bool {
    w.iter().all(|&v| (-128..=127).contains(&v))
}

/// What an input value of type `X` is offset by in a column: 128 for
/// unsigned inputs, 0 for signed ones.
pub const fn x_offset<X: QuantInt>() -> i32 {
    if X::QMIN == 0 {
        128
    } else {
        0
    }
}

/// Re-lays `m` rows of `k` weights (`w[r·k + i]`, zero point subtracted,
/// each in `i8` range: [`fits_i8`]) for [`conv`]: row `r` takes the
/// [`row_bytes`] bytes from `r · row_bytes(k)`; missing values and rows
/// are 0. `out` has [`packed_len8`] bytes.
pub fn pack_weights8(w: &[i32], m: usize, k: usize, out: &mut [i8]) {
    let rb = row_bytes(k);
    let out = &mut out[..packed_len8(m, k)];
    out.fill(0);
    for (r, row) in out.chunks_exact_mut(rb).take(m).enumerate() {
        for (o, &v) in row.iter_mut().zip(&w[r * k..][..k]) {
            *o = v as i8;
        }
    }
}

/// The bias with the input-offset term folded in for columns offset by
/// `x_offset` ([`x_offset`]): `bias[r] - (x_zero_point - x_offset) ·
/// Σ_i w[r·k + i]` (wrapping, as the accumulator).
pub fn fold_bias8(
    w: &[i32],
    k: usize,
    bias: &[i32],
    x_zero_point: i32,
    x_offset: i32,
    out: &mut [i32],
) {
    super::fold_bias(w, k, bias, x_zero_point - x_offset, out);
}

/// The `i8` dot products the driver is written in. `kp` is a row length in
/// bytes, a nonzero multiple of 16; rows are consecutive in their slice.
pub trait Dot8: Copy {
    /// For each pair `g < pairs` of weight rows:
    /// `acc[(2g + c)·ld + s] = Σ_{i<kp} col[s·kp + i] · w[(2g + c)·kp + i]`,
    /// the three column rows `s` against weight rows `2g` and `2g + 1`.
    fn dot3x2(col: &[i8], w: &[i8], kp: usize, pairs: usize, acc: &mut [i32], ld: usize);

    /// For each quad `g` of weight rows (`acc.len() / 4` of them):
    /// `acc[4g + c] = Σ_{i<kp} col[i] · w[(4g + c)·kp + i]`.
    fn dot1x4(col: &[i8], w: &[i8], kp: usize, acc: &mut [i32]);

    /// The columns of three positions of a 1×1 convolution: `col[s·kp + i]
    /// = x[at[s] + i·plane] - x_offset::<X>()` for `i < k`, `s < 3`; the
    /// bytes from `k` to `kp` of each row are left alone.
    #[inline]
    fn gather3<X: QuantInt>(
        x: &[X],
        at: [usize; 3],
        plane: usize,
        k: usize,
        col: &mut [i8],
        kp: usize,
    ) {
        let off = x_offset::<X>();
        for (s, &a) in at.iter().enumerate() {
            let row = &mut col[s * kp..][..k];
            for (o, v) in row.iter_mut().zip(x[a..].iter().step_by(plane)) {
                *o = (v.to_i32() - off) as i8;
            }
        }
    }

    /// `col[i] = x[base + taps[i]] - x_offset::<X>()` for `i < col.len()`
    /// (a window's taps through a table of offsets).
    #[inline]
    fn gather<X: QuantInt>(x: &[X], base: usize, taps: &Taps<'_>, col: &mut [i8]) {
        let off = x_offset::<X>();
        let x = &x[base..];
        for (o, &t) in col.iter_mut().zip(taps.offsets()) {
            *o = (x[t as usize].to_i32() - off) as i8;
        }
    }

    /// For each channel `c < bias.len()` whose `rq[c]` is a
    /// [`Rescale::fused`] one: `y[c·npos + s] = clamp(rq[c].apply_fused(
    /// sums[c·per + s] + bias[c]), lo, hi)` for `s < per`; the outputs of
    /// the other channels are left alone.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn store_fused<Y: QuantInt>(
        sums: &[i32],
        per: usize,
        bias: &[i32],
        rq: &[Rescale],
        lo: i32,
        hi: i32,
        y: &mut [Y],
        npos: usize,
    ) {
        let rows = sums.chunks_exact(per).zip(bias.iter().zip(rq));
        for ((a, (&b, r)), row) in rows.zip(y.chunks_mut(npos)) {
            if r.with_zero_point {
                for (o, &a) in row[..per].iter_mut().zip(a) {
                    *o = Y::from_i32(r.apply_fused(a.wrapping_add(b)).max(lo).min(hi));
                }
            }
        }
    }
}

/// Plain-Rust [`Dot8`]: the host twin of the Helium kernels.
#[derive(Clone, Copy, Debug, Default)]
pub struct PortableDot;

#[inline(always)]
fn dot(a: &[i8], b: &[i8]) -> i32 {
    a.iter()
        .zip(b)
        .fold(0i32, |s, (&x, &w)| s.wrapping_add(x as i32 * w as i32))
}

impl Dot8 for PortableDot {
    fn dot3x2(col: &[i8], w: &[i8], kp: usize, pairs: usize, acc: &mut [i32], ld: usize) {
        for r in 0..2 * pairs {
            for s in 0..3 {
                acc[r * ld + s] = dot(&col[s * kp..][..kp], &w[r * kp..][..kp]);
            }
        }
    }

    fn dot1x4(col: &[i8], w: &[i8], kp: usize, acc: &mut [i32]) {
        for (g, a) in acc.chunks_exact_mut(4).enumerate() {
            for (c, o) in a.iter_mut().enumerate() {
                *o = dot(&col[..kp], &w[(4 * g + c) * kp..][..kp]);
            }
        }
    }
}

/// Output channels of one call of the dot products: their sums live on the
/// stack (`12 · CHUNK` words).
const CHUNK: usize = 32;

/// Most positions of a tile.
const TILE: usize = 4 * POSITIONS;

/// `y[oc][p] = store(requant[oc](bias[oc] + Σ_i x_col[p][i] · w[oc][i]))`
/// with `w` packed by [`pack_weights8`] and `bias` folded by
/// [`fold_bias8`] with [`x_offset::<X>()`](x_offset), `rq` the
/// [`Rescale`] of each channel: the result equals
/// [`reference::qint::qconv`](super::super::reference::qint::qconv)'s.
/// `col` is scratch of at least [`col_len8`]`(k)` bytes.
#[allow(clippy::too_many_arguments)]
pub fn conv<D: Dot8, M: QMac, X: QuantInt, Y: QuantInt>(
    x: &[X],
    w: &[i8],
    bias: &[i32],
    rq: &[Rescale],
    col: &mut [i8],
    y: &mut [Y],
    p: &QConvGemmParams,
) {
    let k = p.k();
    if k == 0 {
        return;
    }
    let kp = row_bytes(k);
    let cout = p.out_channels;
    let npos = p.out_hw[0] * p.out_hw[1];
    let out = Out {
        w: &w[..packed_len8(cout, k)],
        bias: &bias[..cout],
        rq: &rq[..cout],
        kp,
        npos,
        q: p.out,
        all_fused: rq[..cout].iter().all(|r| r.with_zero_point),
    };
    let y = &mut y[..cout * npos];
    let col = &mut col[..col_len8(k)];
    if p.out.min == Y::QMIN && p.out.max == Y::QMAX {
        passes::<D, M, X, Y, true>(x, col, y, p, &out);
    } else {
        passes::<D, M, X, Y, false>(x, col, y, p, &out);
    }
}

#[inline(always)]
fn passes<D: Dot8, M: QMac, X: QuantInt, Y: QuantInt, const FULL: bool>(
    x: &[X],
    col: &mut [i8],
    y: &mut [Y],
    p: &QConvGemmParams,
    out: &Out<'_>,
) {
    let (kp, npos) = (out.kp, out.npos);
    let tb = tile_blocks(p.k());
    // The sums of a tile (written before read).
    let mut sums = [0i32; TILE * CHUNK];
    // The offsets of the taps from the window's first input, for the
    // windows inside the image (not for 1×1 kernels).
    let mut offs = [0u16; MAX_TAPS];
    let taps = tap_offsets(p, &mut offs);
    // The bytes past the reduction in each column row stay 0: the fills
    // write the first `k` of a row only.
    col.fill(0);
    let mut pos = 0;
    while pos + POSITIONS <= npos {
        let nb = tb.min((npos - pos) / POSITIONS);
        let cols = &mut col[..nb * POSITIONS * kp];
        for (b, c) in cols.chunks_exact_mut(POSITIONS * kp).enumerate() {
            let at = pos + b * POSITIONS;
            if !fill3_1x1::<D, X>(x, c, at, p) {
                for (s, c) in c.chunks_exact_mut(kp).enumerate() {
                    fill_taps::<D, X>(x, c, at + s, p, taps);
                }
            }
        }
        out.tile::<D, M, Y, FULL>(cols, nb, y, pos, &mut sums);
        pos += nb * POSITIONS;
    }
    while pos < npos {
        let c = &mut col[..kp];
        fill_taps::<D, X>(x, c, pos, p, taps);
        out.block1::<D, M, Y, FULL>(c, y, pos, &mut sums);
        pos += 1;
    }
}

/// What every pass of [`conv`] reads besides its columns.
struct Out<'a> {
    w: &'a [i8],
    bias: &'a [i32],
    rq: &'a [Rescale],
    kp: usize,
    npos: usize,
    q: QOut,
    /// Every channel has the [`Rescale::fused`] form.
    all_fused: bool,
}

impl Out<'_> {
    /// Every output channel at the `3·nb` positions from `pos`, whose
    /// columns `cols` holds: [`CHUNK`] channels a call of [`Dot8::dot3x2`]
    /// per block of three positions, then the tile's outputs of each channel.
    #[inline(always)]
    fn tile<D: Dot8, M: QMac, Y: QuantInt, const FULL: bool>(
        &self,
        cols: &[i8],
        nb: usize,
        y: &mut [Y],
        pos: usize,
        sums: &mut [i32; TILE * CHUNK],
    ) {
        let cout = self.bias.len();
        let ld = nb * POSITIONS;
        let mut oc0 = 0;
        while oc0 < cout {
            let n = (cout - oc0).min(CHUNK);
            let pairs = n.div_ceil(2);
            let w = &self.w[oc0 * self.kp..];
            for (b, c) in cols.chunks_exact(POSITIONS * self.kp).enumerate() {
                D::dot3x2(c, w, self.kp, pairs, &mut sums[b * POSITIONS..], ld);
            }
            let yo = &mut y[oc0 * self.npos + pos..];
            let (b, r) = (&self.bias[oc0..oc0 + n], &self.rq[oc0..oc0 + n]);
            store_rows::<D, M, Y, FULL>(
                &sums[..ld * n],
                ld,
                b,
                r,
                &self.q,
                yo,
                self.npos,
                self.all_fused,
            );
            oc0 += n;
        }
    }

    /// Every output channel at the position `pos`, [`CHUNK`] channels a
    /// call of [`Dot8::dot1x4`].
    #[inline(always)]
    fn block1<D: Dot8, M: QMac, Y: QuantInt, const FULL: bool>(
        &self,
        col: &[i8],
        y: &mut [Y],
        pos: usize,
        sums: &mut [i32; TILE * CHUNK],
    ) {
        let cout = self.bias.len();
        let mut oc0 = 0;
        while oc0 < cout {
            let n = (cout - oc0).min(CHUNK);
            let acc = &mut sums[..n.div_ceil(ROWS) * ROWS];
            D::dot1x4(col, &self.w[oc0 * self.kp..], self.kp, acc);
            let yo = &mut y[oc0 * self.npos + pos..];
            let (b, r) = (&self.bias[oc0..oc0 + n], &self.rq[oc0..oc0 + n]);
            store_rows::<D, M, Y, FULL>(&acc[..n], 1, b, r, &self.q, yo, self.npos, self.all_fused);
            oc0 += n;
        }
    }
}

/// `per` outputs of each channel `c` from `y[c · npos]`: `bias[c] +
/// sums[per·c + s]` requantized with `rq[c]`, offset by the zero point and
/// clamped: the [`Rescale::fused`] channels by [`Dot8::store_fused`], the
/// others here. Out of line: few values live, so the loop keeps them in
/// registers.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn store_rows<D: Dot8, M: QMac, Y: QuantInt, const FULL: bool>(
    sums: &[i32],
    per: usize,
    bias: &[i32],
    rq: &[Rescale],
    q: &QOut,
    y: &mut [Y],
    npos: usize,
    all_fused: bool,
) {
    let (lo, hi) = if FULL {
        (Y::QMIN, Y::QMAX)
    } else {
        (q.min, q.max)
    };
    D::store_fused(sums, per, bias, rq, lo, hi, y, npos);
    if all_fused {
        return;
    }
    let rows = sums.chunks_exact(per).zip(bias.iter().zip(rq));
    for ((a, (&b, r)), row) in rows.zip(y.chunks_mut(npos)) {
        if !r.with_zero_point {
            for (o, &a) in row[..per].iter_mut().zip(a) {
                *o = store::<M, Y, FULL>(a.wrapping_add(b), r, q);
            }
        }
    }
}

/// One output: `acc` requantized, offset by the zero point and clamped.
#[inline(always)]
fn store<M: QMac, Y: QuantInt, const FULL: bool>(acc: i32, r: &Rescale, q: &QOut) -> Y {
    let v = if r.with_zero_point {
        M::rescale_fused(acc, r)
    } else if r.is_short() {
        // Below `2^31 - 2^16` in magnitude: adding the zero point cannot
        // overflow.
        M::rescale(acc, r).wrapping_add(q.zero_point)
    } else {
        return store_general(acc, r, q);
    };
    if FULL {
        Y::from_i32(v.clamp(Y::QMIN, Y::QMAX))
    } else {
        Y::from_i32(v.max(q.min).min(q.max))
    }
}

/// `q.store(r.apply(acc))`: a channel whose multiplier is 0.5 or more
/// (rare; kept out of line).
#[inline(never)]
fn store_general<Y: QuantInt>(acc: i32, r: &Rescale, q: &QOut) -> Y {
    q.store(r.apply(acc))
}

/// The three columns of the positions from `pos` of a 1×1 convolution when
/// all three read inside the image (the pointwise convolutions): one pass
/// over the input channels. Returns false, writing nothing, otherwise.
#[inline(always)]
fn fill3_1x1<D: Dot8, X: QuantInt>(
    x: &[X],
    col: &mut [i8],
    pos: usize,
    p: &QConvGemmParams,
) -> bool {
    if p.kernel != [1, 1] {
        return false;
    }
    let [ih, iw] = p.in_hw;
    let ow = p.out_hw[1];
    let plane = ih * iw;
    let mut at = [0usize; POSITIONS];
    for (s, a) in at.iter_mut().enumerate() {
        let (oy, ox) = ((pos + s) / ow, (pos + s) % ow);
        let y0 = (oy * p.strides[0]) as isize - p.pads_begin[0] as isize;
        let x0 = (ox * p.strides[1]) as isize - p.pads_begin[1] as isize;
        if !(0..ih as isize).contains(&y0) || !(0..iw as isize).contains(&x0) {
            return false;
        }
        *a = y0 as usize * iw + x0 as usize;
    }
    let k = p.in_channels;
    let kp = row_bytes(k);
    D::gather3(x, at, plane, k, col, kp);
    true
}

/// A table of tap offsets and its largest entry (what a gather through it
/// reads at most past its base).
#[derive(Clone, Copy, Debug)]
pub struct Taps<'a> {
    offs: &'a [u16],
    max: usize,
}

impl<'a> Taps<'a> {
    /// The table `offs`.
    pub fn new(offs: &'a [u16]) -> Self {
        let max = offs.iter().copied().max().unwrap_or(0) as usize;
        Taps { offs, max }
    }

    /// The offsets.
    pub fn offsets(&self) -> &'a [u16] {
        self.offs
    }

    /// The largest offset (0 for an empty table).
    pub fn max(&self) -> usize {
        self.max
    }
}

/// Most taps (`in_channels · kh · kw`) of a table of [`tap_offsets`].
const MAX_TAPS: usize = 1024;

/// The offset of each tap (reduction order: channel, kernel row, kernel
/// column) from the first input of its window, in `offs`, when the kernel
/// is not 1×1, the taps fit the table and the offsets fit `u16`; else
/// `None`.
fn tap_offsets<'a>(p: &QConvGemmParams, offs: &'a mut [u16; MAX_TAPS]) -> Option<Taps<'a>> {
    let [ih, iw] = p.in_hw;
    let [kh, kw] = p.kernel;
    let [dh, dw] = p.dilations;
    let k = p.k();
    let plane = ih * iw;
    let last =
        (p.in_channels.max(1) - 1) * plane + (kh.max(1) - 1) * dh * iw + (kw.max(1) - 1) * dw;
    if p.kernel == [1, 1] || k == 0 || k > MAX_TAPS || last > u16::MAX as usize {
        return None;
    }
    let mut at = offs.iter_mut();
    for ic in 0..p.in_channels {
        for v in 0..kh {
            for u in 0..kw {
                if let Some(o) = at.next() {
                    *o = (ic * plane + v * dh * iw + u * dw) as u16;
                }
            }
        }
    }
    Some(Taps::new(&offs[..k]))
}

/// [`fill`], through the tap table `taps` ([`tap_offsets`]) and
/// [`Dot8::gather`] when the window of `pos` lies inside the image.
#[inline(always)]
fn fill_taps<D: Dot8, X: QuantInt>(
    x: &[X],
    col: &mut [i8],
    pos: usize,
    p: &QConvGemmParams,
    taps: Option<Taps<'_>>,
) {
    if let Some(taps) = taps {
        let [ih, iw] = p.in_hw;
        let ow = p.out_hw[1];
        let [kh, kw] = p.kernel;
        let [dh, dw] = p.dilations;
        let (oy, ox) = (pos / ow, pos % ow);
        let y0 = (oy * p.strides[0]) as isize - p.pads_begin[0] as isize;
        let x0 = (ox * p.strides[1]) as isize - p.pads_begin[1] as isize;
        let inside =
            |o: isize, k: usize, d: usize, n: usize| o >= 0 && o as usize + (k - 1) * d < n;
        if inside(y0, kh, dh, ih) && inside(x0, kw, dw, iw) {
            let k = taps.offsets().len();
            D::gather(x, y0 as usize * iw + x0 as usize, &taps, &mut col[..k]);
            return;
        }
    }
    fill(x, col, pos, p);
}

/// Writes the column of output position `pos` into `col` (one row of
/// [`row_bytes`] bytes): the taps in reduction order (channel, kernel
/// row, kernel column) offset by [`x_offset`], padding as the zero point;
/// the rest of the row (0, written once by [`conv`]) is left alone.
#[inline(never)]
fn fill<X: QuantInt>(x: &[X], col: &mut [i8], pos: usize, p: &QConvGemmParams) {
    let off = x_offset::<X>();
    let conv = |v: X| (v.to_i32() - off) as i8;
    let [ih, iw] = p.in_hw;
    let ow = p.out_hw[1];
    let [kh, kw] = p.kernel;
    let [dh, dw] = p.dilations;
    let plane = ih * iw;
    let k = p.k();
    let (oy, ox) = (pos / ow, pos % ow);
    let y0 = (oy * p.strides[0]) as isize - p.pads_begin[0] as isize;
    let x0 = (ox * p.strides[1]) as isize - p.pads_begin[1] as isize;
    let head = &mut col[..k];
    if kh == 1 && kw == 1 && (0..ih as isize).contains(&y0) && (0..iw as isize).contains(&x0) {
        // 1×1 inside the image: a strided gather.
        let at = y0 as usize * iw + x0 as usize;
        for (o, v) in head.iter_mut().zip(x[at..].iter().step_by(plane)) {
            *o = conv(*v);
        }
        return;
    }
    let pad = (p.x_zero_point - off) as i8;
    let inside = x0 >= 0 && x0 as usize + (kw - 1) * dw < iw;
    let mut taps = head.chunks_exact_mut(kw);
    for ic in 0..p.in_channels {
        for v in 0..kh {
            let Some(t) = taps.next() else { return };
            let yy = y0 + (v * dh) as isize;
            if !(0..ih as isize).contains(&yy) {
                t.fill(pad);
                continue;
            }
            let row = &x[ic * plane + yy as usize * iw..][..iw];
            if inside {
                let r = &row[x0 as usize..];
                for (u, o) in t.iter_mut().enumerate() {
                    *o = conv(r[u * dw]);
                }
            } else {
                for (u, o) in t.iter_mut().enumerate() {
                    let xx = x0 + (u * dw) as isize;
                    *o = if (0..iw as isize).contains(&xx) {
                        conv(row[xx as usize])
                    } else {
                        pad
                    };
                }
            }
        }
    }
}
