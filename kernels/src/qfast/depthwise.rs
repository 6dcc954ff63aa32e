//! 2-D integer depthwise convolution (one input channel per group, any
//! number of output channels per group: a one-input-channel convolution is
//! the case of one group), batch 1.
//!
//! For each output channel, the input rows its outputs read are widened to
//! `i16` ([`QMac::widen`]) into a ring of `(kh - 1)·dh + 1` rows of the
//! padded width ([`QDepthwiseParams::scratch_len`]), padding holding the
//! input zero point. Every output then takes the same loop without bounds,
//! and the zero-point term `x_zero_point · Σ w` is a constant folded into
//! the bias at compile time ([`fold_bias`](super::fold_bias)). Weights are
//! re-laid at compile time by [`pack_depthwise`]: per channel and kernel
//! row, taps two a word.
//!
//! 3×3 kernels (dilation 1, strides 1 or 2) have their own path. Where
//! [`QMac::mac2`] is one instruction ([`QMac::DUAL`], `SMLAD`) two
//! neighbouring outputs share three (unaligned) 32-bit loads a kernel row
//! and four dual/single multiply-accumulates ([`QMac::dw3_pairs`]); at
//! stride 1 a band of rows is laid at the padded width one after the other
//! so that one call covers the whole band as one long row
//! ([`QDepthwiseParams::band_rows`]); the accumulators are then requantized
//! in one pass ([`QMac::store_fused`], [`QMac::store_fused_rows`]) with the
//! bias folded into the channel's [`Rescale::fused`] constant. Elsewhere
//! taps are multiplied one by one, the nine weights in locals.
//!
//! Other kernels: pairs of taps through [`QMac::mac2`] on DSP cores, taps one
//! by one elsewhere; kernel rows of up to 4 pairs (6 taps one by one) have
//! their inner loop unrolled.

use super::super::reference::qint::QOut;
use super::super::reference::quant::QuantInt;
use super::{pair, QMac, Rescale};

/// Taps of the largest kernel [`depthwise`] takes.
pub const MAX_TAPS: usize = 64;

/// Accumulators of the 3×3 paths' buffer on the stack (1 KiB): the
/// positions of one band of rows ([`QDepthwiseParams::band_rows`]) or
/// `BAND / 2` pairs of outputs of a row.
pub const BAND: usize = 256;

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

    /// `i16` values of the scratch [`depthwise`] needs: the ring, or for
    /// a 3×3 stride-1 convolution a band of rows ([`band_rows`](Self::band_rows)),
    /// whichever is larger.
    pub const fn scratch_len(&self) -> usize {
        let ring = self.scratch_rows() * self.scratch_width();
        match self.band_rows() {
            Some(r) => {
                let band = self.band_len(r);
                if band > ring {
                    band
                } else {
                    ring
                }
            }
            None => ring,
        }
    }

    /// Whether this is the 3×3, stride 1, dilation 1 case [`depthwise`]
    /// computes a band of rows at a time (on [`QMac::DUAL`] cores), and the
    /// output rows of a band: as many as keep its accumulators, one per
    /// position of the padded rows, within [`BAND`] words (at least one
    /// row; `None` when one row of the padded width exceeds it).
    pub const fn band_rows(&self) -> Option<usize> {
        let w = self.out_hw[1] + 2;
        if self.kernel[0] != 3
            || self.kernel[1] != 3
            || self.strides[0] != 1
            || self.strides[1] != 1
            || self.dilations[0] != 1
            || self.dilations[1] != 1
            || w > BAND
            || self.out_hw[0] == 0
        {
            return None;
        }
        let r = BAND / w;
        Some(if r < self.out_hw[0] {
            r
        } else {
            self.out_hw[0]
        })
    }

    /// `i16` values of a band of `r` output rows: `r + 2` padded input rows
    /// of `out_w + 2` values, and two past the end (the last pair's loads).
    const fn band_len(&self, r: usize) -> usize {
        (r + 2) * (self.out_hw[1] + 2) + 2
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
    /// Requantization and output range.
    rq: Req,
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
        proto: (i32, Req, usize),
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
            let (bias, rq, stride) = proto;
            body(
                ring,
                top % self.rows,
                Row {
                    bias,
                    rq,
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
macro_rules! store_row {
    ($row:expr, |$c0:ident, $c1:ident, $two:ident| $body:block) => {{
        let row: Row<'_, _> = $row;
        let (s, rq) = (row.stride, row.rq);
        let mut pairs = row.y.chunks_exact_mut(2);
        let mut c = 0;
        for o in &mut pairs {
            let ($c0, $c1, $two) = (c, c + s, true);
            let (a0, a1): (i32, i32) = $body;
            o[0] = rq.store(a0);
            o[1] = rq.store(a1);
            c += 2 * s;
        }
        if let [o] = pairs.into_remainder() {
            let ($c0, $c1, $two) = (c, c, false);
            let (a0, _): (i32, i32) = $body;
            *o = rq.store(a0);
        }
    }};
}

/// The requantization of one channel and the output range, for the
/// general paths (one test a value; the 3×3 paths choose the form once a
/// channel with [`Store`]).
#[derive(Clone, Copy)]
struct Req {
    /// Multiplier and rounding constants ([`Rescale::fused`] or not).
    r: Rescale,
    /// Output zero point and range.
    q: QOut,
}

impl Req {
    /// The output of accumulator `acc`.
    #[inline(always)]
    fn store<Y: QuantInt>(&self, acc: i32) -> Y {
        if self.r.with_zero_point {
            Y::from_i32(self.r.apply_fused(acc).max(self.q.min).min(self.q.max))
        } else {
            self.q.store(self.r.apply(acc))
        }
    }
}

/// How a channel of the 3×3 paths stores its outputs from accumulators
/// without the bias: [`QMac::store_fused`] with the bias folded into the
/// [`Rescale::fused`] constant (`acc·mult + (b·mult + constant)`: the same
/// 64-bit value) when the output range is the whole range of `Y`, else
/// [`store_rest`] (the fused form and a clamp to a narrower range, or the
/// general one). Chosen once a channel; one copy of the channel loop for
/// both.
#[derive(Clone, Copy)]
struct Store {
    /// Requantization (bias folded into the fused form) and range.
    req: Req,
    /// Bias still to add (0 for the fused form).
    bias: i32,
    /// Whether [`QMac::store_fused`] takes it.
    full: bool,
}

impl Store {
    /// The store of a channel with requantization `r`, bias `b`, range `q`
    /// and outputs of type `Y`.
    fn new<Y: QuantInt>(r: Rescale, b: i32, q: QOut) -> Store {
        let (r, b) = if r.with_zero_point {
            let pre = (((r.round_hi as i64) << 32) | r.round_lo as i64)
                .wrapping_add(b as i64 * r.mult as i64);
            let r = Rescale {
                round_lo: pre as u32,
                round_hi: (pre >> 32) as i32,
                ..r
            };
            (r, 0)
        } else {
            (r, b)
        };
        Store {
            req: Req { r, q },
            bias: b,
            full: r.with_zero_point && q.min <= Y::QMIN && q.max >= Y::QMAX,
        }
    }

    /// The output of accumulator `acc` ([`put`](Self::put) of one).
    #[inline(always)]
    fn one<M: QMac, Y: QuantInt>(&self, acc: i32) -> Y {
        if self.full {
            M::saturate(M::rescale_fused(acc, &self.req.r))
        } else {
            self.req.store(acc.wrapping_add(self.bias))
        }
    }

    /// Stores outputs `y` from accumulators `acc` ([`for_outputs`]: one for
    /// one, or with `band` rows of `ow` from a band's positions).
    #[inline(always)]
    fn put<M: QMac, Y: QuantInt>(&self, acc: &[i32], band: bool, ow: usize, y: &mut [Y]) {
        let r = &self.req.r;
        if !self.full {
            store_rest::<Y>(acc, band, ow, y, &self.req, self.bias)
        } else if band && ow < WIDE {
            M::store_fused_rows::<Y, 2>(acc, ow, r, y)
        } else if band {
            for (j, yr) in y.chunks_exact_mut(ow).enumerate() {
                M::store_fused::<Y>(&acc[j * (ow + 2)..][..ow], r, yr)
            }
        } else {
            M::store_fused::<Y>(acc, r, y)
        }
    }
}

/// [`Store`]'s other forms, out of line (one copy for every
/// channel that takes them): [`Req::store`] of `acc + b`.
#[inline(never)]
fn store_rest<Y: QuantInt>(acc: &[i32], band: bool, ow: usize, y: &mut [Y], req: &Req, b: i32) {
    for_outputs(acc, band, ow, y, |a| req.store::<Y>(a.wrapping_add(b)))
}

/// Rows of at least this many outputs are requantized a row at a time
/// ([`QMac::store_fused`], two outputs a pass), narrower bands in one pass
/// ([`QMac::store_fused_rows`], one output a pass).
const WIDE: usize = 24;

/// `y[i] = f(acc[i])`, or with `band` for rows of `ow` outputs, row `j`
/// from the band's positions `j·(ow + 2)..` ([`band3`]).
#[inline(always)]
fn for_outputs<Y>(acc: &[i32], band: bool, ow: usize, y: &mut [Y], f: impl Fn(i32) -> Y) {
    // One loop for both: rows of `w` outputs from `pitch` apart.
    let (w, pitch) = if band { (ow, ow + 2) } else { (y.len(), 0) };
    if w == 0 {
        return;
    }
    for (j, yr) in y.chunks_exact_mut(w).enumerate() {
        for (o, &a) in yr.iter_mut().zip(&acc[j * pitch..][..w]) {
            *o = f(a);
        }
    }
}

impl<X: QuantInt> Plane<'_, X> {
    /// Widens padded input row `r` (rows `0..ph` and from `ph + ih` are
    /// padding: the zero point) into the ring row at `off`, columns
    /// `c0..c1`; the other columns keep the zero point.
    #[inline(always)]
    fn fill<M: QMac>(&self, ring: &mut [i16], r: usize, off: usize) {
        let dst = &mut ring[off + self.c0..off + self.c1];
        match r.checked_sub(self.ph).filter(|&iy| iy < self.ih) {
            Some(iy) => M::widen(dst, &self.xp[iy * self.iw..][..dst.len()]),
            None => dst.fill(self.xz),
        }
    }

    /// [`fill`](Self::fill) of padded rows `r0..r0 + rows` at a pitch of
    /// `pitch` from the start of `ring`: the input rows among them in one
    /// [`QMac::widen_rows`].
    #[inline(always)]
    fn fill_band<M: QMac>(&self, ring: &mut [i16], r0: usize, rows: usize, pitch: usize) {
        // Band rows lo..hi are input rows (r0 + lo - ph)..
        let lo = self.ph.saturating_sub(r0).min(rows);
        let hi = (self.ph + self.ih).saturating_sub(r0).clamp(lo, rows);
        for i in (0..lo).chain(hi..rows) {
            let off = i * pitch;
            ring[off + self.c0..off + self.c1].fill(self.xz);
        }
        if hi > lo {
            let (w, n) = (self.c1 - self.c0, hi - lo);
            let dst = &mut ring[lo * pitch + self.c0..][..(n - 1) * pitch + w];
            let src = &self.xp[(r0 + lo - self.ph) * self.iw..][..(n - 1) * self.iw + w];
            M::widen_rows(dst, pitch, src, self.iw, w);
        }
    }

    /// The 3×3 (dilation 1) convolution of one channel, vertical stride 1
    /// or 2, horizontal stride `SW`: the ring's three rows rotate (no
    /// index arithmetic a row), each input row is widened once, and
    /// `row` computes one output row from the three ring rows it reads.
    #[inline(always)]
    fn plane3<M: QMac, Y: QuantInt>(
        &self,
        ring: &mut [i16],
        yp: &mut [Y],
        ow: usize,
        mut row: impl FnMut([&[i16]; 3], &mut [Y]),
    ) {
        let wc = self.wc;
        // Padded row `r` in ring slot `r mod 3`: `next` is the first row
        // not widened yet, `ns` its slot, `ts` the slot of the output
        // row's top.
        let (mut next, mut ns, mut ts) = (0, 0, 0);
        let wrap = |v: usize| if v >= 3 { v - 3 } else { v };
        for (oy, y) in yp.chunks_exact_mut(ow).enumerate() {
            let last = oy * self.sh + 2;
            while next <= last {
                self.fill::<M>(ring, next, ns * wc);
                next += 1;
                ns = wrap(ns + 1);
            }
            let s = [ts, wrap(ts + 1), wrap(ts + 2)];
            row(s.map(|k| &ring[k * wc..k * wc + wc]), y);
            ts = wrap(ts + self.sh);
        }
    }
}

/// Pairs of outputs [`row3_dual`] computes a pass (in [`BAND`] words).
const CHUNK: usize = BAND / 2;

/// One output row of a 3×3 channel on [`QMac::dw3_pairs`] (horizontal
/// stride `SW`, 1 or 2): the accumulators of up to [`CHUNK`] pairs of
/// outputs, then their requantization ([`Store::put`]); a last odd
/// output tap pair by tap pair. `w` is the channel's six words in
/// [`pack_depthwise`]'s layout, `buf` the accumulators' room.
#[inline(always)]
fn row3_dual<M: QMac, Y: QuantInt, const SW: usize>(
    rs: [&[i16]; 3],
    w: &[u32; 6],
    buf: &mut [i32; BAND],
    y: &mut [Y],
    st: &Store,
) {
    let np = y.len() / 2;
    let mut done = 0;
    while done < np {
        let k = (np - done).min(CHUNK);
        let acc = &mut buf[..2 * k];
        M::dw3_pairs::<SW>(rs.map(|r| &r[2 * done * SW..]), w, acc);
        st.put::<M, Y>(acc, false, 0, &mut y[2 * done..][..2 * k]);
        done += k;
    }
    if let Some(o) = y.get_mut(2 * np) {
        // Output `x`: taps 0, 1 of each row as a pair, tap 2 alone.
        let x = 2 * np * SW;
        let mut a = 0;
        for (v, r) in rs.iter().enumerate() {
            let r = &r[x..x + 3];
            a = M::mac2(a, pair(r[0] as i32, r[1] as i32), w[2 * v]);
            a = M::mac_bb(a, r[2] as u16 as u32, w[2 * v + 1]);
        }
        st.put::<M, Y>(&[a], false, 0, core::slice::from_mut(o));
    }
}

/// One output row of a 3×3 channel tap by tap (horizontal stride `SW`),
/// one output a pass, the nine taps in locals, the bias in `st`.
#[inline(always)]
fn row3_scalar<M: QMac, Y: QuantInt, const SW: usize, const FULL: bool>(
    rs: [&[i16]; 3],
    w: &[[i32; 3]; 3],
    y: &mut [Y],
    st: &Store,
) {
    let ow = y.len();
    if ow == 0 {
        return;
    }
    // Output `ox` reads `(ox·SW)..(ox·SW + 3)`, below `(ow - 1)·SW + 3`.
    let need = (ow - 1) * SW + 3;
    let rs = rs.map(|r| &r[..need]);
    let mut x = 0;
    for o in y.iter_mut() {
        let mut a = 0i32;
        for (r, wr) in rs.iter().zip(w) {
            for (&v, &wv) in r[x..x + 3].iter().zip(wr) {
                a = a.wrapping_add(v as i32 * wv);
            }
        }
        *o = if FULL {
            M::saturate(M::rescale_fused(a, &st.req.r))
        } else {
            st.one::<M, Y>(a)
        };
        x += SW;
    }
}

/// One channel of a 3×3 stride-1 (dilation 1) convolution on
/// [`QMac::dw3_pairs`], `rb` output rows at a time
/// ([`QDepthwiseParams::band_rows`]): the band's `rb + 2` padded input
/// rows widened one after the other at a pitch of `ow + 2`, so that
/// output `(j, ox)` of the band reads from position `j·(ow + 2) + ox` of
/// three rows a pitch apart, like the outputs of one long row. One call of
/// [`QMac::dw3_pairs`] takes every position of the band (the two a row
/// past the outputs are computed and dropped: no set-up a row), then
/// `st` stores the outputs ([`Store::put`]).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn band3<M: QMac, X: QuantInt, Y: QuantInt>(
    plane: &Plane<'_, X>,
    scratch: &mut [i16],
    rb: usize,
    w: &[u32; 6],
    buf: &mut [i32; BAND],
    yp: &mut [Y],
    ow: usize,
    st: &Store,
) {
    let pitch = ow + 2;
    let oh = yp.len() / ow;
    let mut oy0 = 0;
    while oy0 < oh {
        let r = rb.min(oh - oy0);
        plane.fill_band::<M>(scratch, oy0, r + 2, pitch);
        // Positions 0..n, in pairs: 2·np ≤ n + 1 = r·pitch - 1 ≤ BAND.
        let n = (r - 1) * pitch + ow;
        let np = n.div_ceil(2);
        let acc = &mut buf[..2 * np];
        // The third row holds r·pitch + 2 ≥ 2·np + 2 values.
        let band = &scratch[..(r + 2) * pitch + 2];
        M::dw3_pairs::<1>([band, &band[pitch..], &band[2 * pitch..]], w, acc);
        // Row j of the band from j·pitch: (r - 1)·pitch + ow = n.
        st.put::<M, Y>(&acc[..n], true, ow, &mut yp[oy0 * ow..][..r * ow]);
        oy0 += r;
    }
}

/// One channel of a 3×3 (dilation 1) convolution with vertical stride 1
/// or 2 and horizontal stride `SW` (1 or 2), the requantization `st`:
/// [`band3`] for stride 1 where [`QMac::mac2`] is one instruction and the
/// band fits (`band`), else [`row3_dual`] a row, and [`row3_scalar`] on
/// other cores (`FULL`: the channel takes [`QMac::store_fused`]'s form,
/// known at compile time there). Out of line: one copy for each stride (and
/// core and types).
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn channel3<M: QMac, X: QuantInt, Y: QuantInt, const SW: usize, const FULL: bool>(
    plane: &Plane<'_, X>,
    ring: &mut [i16],
    band: Option<usize>,
    wch: &[u32],
    buf: &mut [i32; BAND],
    yp: &mut [Y],
    ow: usize,
    st: &Store,
) {
    if M::DUAL {
        let w: [u32; 6] = core::array::from_fn(|i| wch[i]);
        match band {
            Some(rb) if SW == 1 && plane.sh == 1 => {
                band3::<M, X, Y>(plane, ring, rb, &w, buf, yp, ow, st)
            }
            _ => plane.plane3::<M, Y>(ring, yp, ow, |rs, y| {
                row3_dual::<M, Y, SW>(rs, &w, buf, y, st)
            }),
        }
    } else {
        let tap = |v: usize, u: usize| {
            let word = wch[2 * v + u / 2];
            (if u.is_multiple_of(2) {
                word
            } else {
                word >> 16
            }) as i16 as i32
        };
        let w: [[i32; 3]; 3] = core::array::from_fn(|v| core::array::from_fn(|u| tap(v, u)));
        plane.plane3::<M, Y>(ring, yp, ow, |rs, y| {
            row3_scalar::<M, Y, SW, FULL>(rs, &w, y, st)
        });
    }
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
/// [`scratch_len`](QDepthwiseParams::scratch_len) values. `rq` holds each
/// channel's requantization: [`Rescale::fused`] (output zero point
/// included) where the channel's accumulator range allows it, else
/// [`Rescale::new`]. Equals
/// [`reference::qint::qconv`](super::super::reference::qint::qconv).
#[allow(clippy::too_many_arguments)]
pub fn depthwise<M: QMac, X: QuantInt, Y: QuantInt>(
    x: &[X],
    w: &[u32],
    bias: &[i32],
    rq: &[Rescale],
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
    let ring = &mut scratch[..p.scratch_len()];
    let xz = p.x_zero_point as i16;
    ring.fill(xz);
    let (c0, c1) = (pw.min(wc), (pw + iw).min(wc));
    let rw = p.row_words();
    let wpc = kh * rw;
    let (in_plane, out_plane) = (ih * iw, oh * ow);
    let taps = kh * kw;
    let band = p.band_rows();
    let mut buf = [0i32; BAND];
    // The taps one by one, for the paths that take them so.
    let fast3 = matches!((kh, kw, dh, dw, sh, sw), (3, 3, 1, 1, 1..=2, 1..=2));
    let taps_needed = !fast3 && (!M::DUAL || dw != 1);
    let mut wk_buf = [0i32; MAX_TAPS];
    for ch in 0..p.out_channels {
        let xp = &x[(ch / mult) * in_plane..][..in_plane];
        let wch = &w[ch * wpc..][..wpc];
        let yp = &mut y[ch * out_plane..][..out_plane];
        let (b, r) = (bias[ch], rq[ch]);
        let q = p.out;
        if taps_needed {
            for v in 0..kh {
                for u in 0..kw {
                    let word = wch[v * rw + u / 2];
                    let half = if u.is_multiple_of(2) {
                        word
                    } else {
                        word >> 16
                    };
                    wk_buf[v * kw + u] = half as i16 as i32;
                }
            }
        }
        let wk = &wk_buf[..taps];
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
        let proto = (b, Req { r, q }, sw);
        match (kh, kw, dh, dw, sh, sw) {
            (3, 3, 1, 1, 1..=2, 1) => {
                let st = Store::new::<Y>(r, b, q);
                let buf = &mut buf;
                // Tap by tap (no DSP): one copy a store form.
                if !M::DUAL && st.full {
                    channel3::<M, X, Y, 1, true>(&plane, ring, band, wch, buf, yp, ow, &st)
                } else {
                    channel3::<M, X, Y, 1, false>(&plane, ring, band, wch, buf, yp, ow, &st)
                }
            }
            (3, 3, 1, 1, 1..=2, 2) => {
                let st = Store::new::<Y>(r, b, q);
                let buf = &mut buf;
                if !M::DUAL && st.full {
                    channel3::<M, X, Y, 2, true>(&plane, ring, band, wch, buf, yp, ow, &st)
                } else {
                    channel3::<M, X, Y, 2, false>(&plane, ring, band, wch, buf, yp, ow, &st)
                }
            }
            (_, _, _, 1, _, _) if M::DUAL && rw <= 4 => {
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
            (_, 1..=6, _, 1, _, _) if !M::DUAL => {
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
            (_, _, _, 1, _, _) if M::DUAL => plane.rows(ring, yp, ow, proto, |ring, s0, row| {
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
