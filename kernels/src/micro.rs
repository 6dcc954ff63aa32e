//! Register-blocked `f32` micro-kernels: the inner loops of the matrix
//! product (1×1 convolution, Gemm, MatMul), of the direct convolution (through
//! an indirection table of tap offsets) and of the matrix-vector product.
//!
//! The drivers are generic over [`Micro`]; the compiler picks the
//! implementation for the board, so the generated code calls it directly.
//! [`Portable`] is plain Rust and the oracle the Arm variants are tested
//! against. Every implementation accumulates each output in the same order
//! (`t` ascending), so variants differ from [`Portable`] only by the rounding
//! of fused multiply-add.
//!
//! Layout: `a` is packed by the compiler, `k` steps of 4 (or 8) consecutive
//! floats, one per output row; `b` is read in place with a step `ldb` between
//! consecutive `t` (or an explicit offset per `t`) and `sb` between
//! consecutive output columns.

use super::fast::depthwise::{plane, Plane};
use super::reference::activation::Activation;

/// A register-blocked f32 micro-kernel. Implementations: `Portable` (plain Rust) and Arm variants.
///
/// # Panics
///
/// Every method panics if `b` (or `offs`) is too short for the `k` that
/// `a` implies; the bounds are checked once, before the inner loop.
pub trait Micro {
    /// `acc[i][j] += Σ_{t<k} a[t*4 + i] * b[t*ldb + j*sb]`   (i < 4, j < 4; k = a.len() / 4)
    fn mk4x4(a: &[f32], b: &[f32], ldb: usize, sb: usize, acc: &mut [[f32; 4]; 4]);
    /// `acc[i][j] += Σ_{t<k} a[t*4 + i] * b[offs[t] as usize + j*sb]`   (indirect: conv taps)
    fn mk4x4_ind(a: &[f32], b: &[f32], offs: &[u32], sb: usize, acc: &mut [[f32; 4]; 4]);
    /// `acc[i] += Σ_{t<k} a[t*8 + i] * b[t]`   (matrix-vector; k = a.len() / 8)
    fn mk8x1(a: &[f32], b: &[f32], acc: &mut [f32; 8]);

    /// [`mk4x4_ind`](Micro::mk4x4_ind) over every offset of `taps`
    /// (`k = taps.offs().len()`, `a.len() ≥ 4k`), whose largest offset was
    /// found once by [`Taps::new`]: the bounds check costs the same for any
    /// `k`, where `mk4x4_ind` looks at every offset on every call. Use it
    /// when one table serves many calls (every output block of a
    /// convolution).
    #[inline]
    fn mk4x4_taps(a: &[f32], b: &[f32], taps: &Taps<'_>, sb: usize, acc: &mut [[f32; 4]; 4]) {
        let k = taps.offs().len();
        assert!(a.len() >= 4 * k, "micro-kernel: a is shorter than 4 × taps");
        Self::mk4x4_ind(&a[..4 * k], b, taps.offs(), sb, acc);
    }

    /// [`mk4x4`](Micro::mk4x4) with `sb = 1` from the accumulators `acc`,
    /// then its first `rows` rows stored, `Relu`'d (`v < 0 ? 0 : v`) when
    /// `relu`: `y[i·ldy + j] = acc[i][j]` for `i < rows`, `j < 4`. On the
    /// FPU variant the stores and the activation are part of the assembly
    /// kernel (no accumulator round trip through memory).
    ///
    /// # Panics
    ///
    /// If `rows` is not in `1..=4`, `y` is shorter than `(rows-1)·ldy + 4`,
    /// or the operands are too short ([`check_mk4x4`]).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn mk4x4_store(
        a: &[f32],
        b: &[f32],
        ldb: usize,
        acc: [[f32; 4]; 4],
        rows: usize,
        relu: bool,
        y: &mut [f32],
        ldy: usize,
    ) {
        check_store(rows, y.len(), ldy);
        let mut acc = acc;
        Self::mk4x4(a, b, ldb, 1, &mut acc);
        for (i, ai) in acc.iter().enumerate().take(rows) {
            for (o, &v) in y[i * ldy..][..4].iter_mut().zip(ai) {
                *o = if relu && v < 0.0 { 0.0 } else { v };
            }
        }
    }

    /// The 3×3, stride-`S` depthwise plane kernel:
    /// `y[oy·ldy + ox] = act(bias + Σ_{ky<3, kx<3} x[(oy·S + ky)·ldx + ox·S + kx] · w[3ky + kx])`
    /// for every output of `g`, the products added in `(ky, kx)` order.
    /// The default is the plain-Rust [`plane`](super::fast::depthwise::plane).
    ///
    /// # Panics
    ///
    /// If `w` holds fewer than 9 floats, or `x` or `y` is too short for `g`
    /// ([`check_plane`](super::fast::depthwise::check_plane)).
    #[inline]
    fn dw3<const S: usize>(
        x: &[f32],
        w: &[f32],
        bias: f32,
        act: Activation,
        y: &mut [f32],
        g: &Plane,
    ) {
        plane::<3, S>(x, w, bias, act, y, g);
    }
}

/// The checks of [`Micro::mk4x4_store`]'s output: `rows` in `1..=4` and
/// `(rows-1)·ldy + 4` floats.
#[inline]
pub fn check_store(rows: usize, len: usize, ldy: usize) {
    assert!(
        (1..=4).contains(&rows) && (rows - 1) * ldy + 4 <= len,
        "micro-kernel: output shorter than the rows stored"
    );
}

/// An indirection table of element offsets (one per step of
/// [`Micro::mk4x4_taps`]) with its largest offset, found once.
#[derive(Clone, Copy, Debug)]
pub struct Taps<'a> {
    offs: &'a [u32],
    max: Option<u32>,
}

impl<'a> Taps<'a> {
    /// Wraps `offs`, finding its largest offset.
    pub fn new(offs: &'a [u32]) -> Self {
        Self {
            offs,
            max: offs.iter().copied().max(),
        }
    }

    /// The offsets.
    pub fn offs(&self) -> &'a [u32] {
        self.offs
    }

    /// The largest offset (`None` for an empty table).
    pub fn max(&self) -> Option<u32> {
        self.max
    }
}

/// Plain-Rust micro-kernels: every target, and the reference for the others.
#[derive(Clone, Copy, Debug, Default)]
pub struct Portable;

/// Panics unless `b` holds index `last + 3 * sb` (the farthest element a
/// 4-column step starting at `last` reads).
#[inline]
fn check_cols(b_len: usize, last: usize, sb: usize) {
    let end = sb
        .checked_mul(3)
        .and_then(|s| s.checked_add(last))
        .filter(|&e| e < b_len);
    assert!(end.is_some(), "micro-kernel: b is too short for its steps");
}

/// Checks the bounds of [`Micro::mk4x4`] once; returns `k`.
#[inline]
pub(super) fn check_mk4x4(a: &[f32], b: &[f32], ldb: usize, sb: usize) -> usize {
    let k = a.len() / 4;
    if k > 0 {
        let last = (k - 1).checked_mul(ldb);
        assert!(last.is_some(), "micro-kernel: ldb overflows");
        check_cols(b.len(), last.unwrap_or(0), sb);
    }
    k
}

/// Checks the bounds of [`Micro::mk4x4_ind`] once; returns `k`.
#[inline]
pub(super) fn check_mk4x4_ind(a: &[f32], b: &[f32], offs: &[u32], sb: usize) -> usize {
    let k = a.len() / 4;
    assert!(offs.len() >= k, "micro-kernel: fewer offsets than steps");
    if let Some(&max) = offs[..k].iter().max() {
        check_cols(b.len(), max as usize, sb);
    }
    k
}

/// Checks the bounds of [`Micro::mk4x4_taps`] in constant time; returns `k`.
#[inline]
pub(super) fn check_mk4x4_taps(a: &[f32], b: &[f32], taps: &Taps<'_>, sb: usize) -> usize {
    let k = taps.offs.len();
    assert!(a.len() >= 4 * k, "micro-kernel: a is shorter than 4 × taps");
    if let Some(max) = taps.max {
        check_cols(b.len(), max as usize, sb);
    }
    k
}

/// Checks the bounds of [`Micro::mk8x1`] once; returns `k`.
#[inline]
pub(super) fn check_mk8x1(a: &[f32], b: &[f32]) -> usize {
    let k = a.len() / 8;
    assert!(b.len() >= k, "micro-kernel: b is shorter than k");
    k
}

impl Micro for Portable {
    #[inline]
    fn mk4x4(a: &[f32], b: &[f32], ldb: usize, sb: usize, acc: &mut [[f32; 4]; 4]) {
        let k = check_mk4x4(a, b, ldb, sb);
        let mut c = *acc;
        for (t, at) in a.chunks_exact(4).take(k).enumerate() {
            let row = t * ldb;
            let bv = [b[row], b[row + sb], b[row + 2 * sb], b[row + 3 * sb]];
            for (ci, &ai) in c.iter_mut().zip(at) {
                for (cij, &bj) in ci.iter_mut().zip(&bv) {
                    *cij += ai * bj;
                }
            }
        }
        *acc = c;
    }

    #[inline]
    fn mk4x4_ind(a: &[f32], b: &[f32], offs: &[u32], sb: usize, acc: &mut [[f32; 4]; 4]) {
        let k = check_mk4x4_ind(a, b, offs, sb);
        portable_ind(&a[..4 * k], b, &offs[..k], sb, acc);
    }

    #[inline]
    fn mk4x4_taps(a: &[f32], b: &[f32], taps: &Taps<'_>, sb: usize, acc: &mut [[f32; 4]; 4]) {
        let k = check_mk4x4_taps(a, b, taps, sb);
        portable_ind(&a[..4 * k], b, taps.offs(), sb, acc);
    }

    #[inline]
    fn mk8x1(a: &[f32], b: &[f32], acc: &mut [f32; 8]) {
        let k = check_mk8x1(a, b);
        let mut c = *acc;
        for (at, &bt) in a.chunks_exact(8).zip(&b[..k]) {
            for (ci, &ai) in c.iter_mut().zip(at) {
                *ci += ai * bt;
            }
        }
        *acc = c;
    }
}

/// The indirect product of [`Portable`] over `a.len() / 4` steps (bounds
/// already checked).
#[inline]
fn portable_ind(a: &[f32], b: &[f32], offs: &[u32], sb: usize, acc: &mut [[f32; 4]; 4]) {
    let mut c = *acc;
    for (at, &o) in a.chunks_exact(4).zip(offs) {
        let row = o as usize;
        let bv = [b[row], b[row + sb], b[row + 2 * sb], b[row + 3 * sb]];
        for (ci, &ai) in c.iter_mut().zip(at) {
            for (cij, &bj) in ci.iter_mut().zip(&bv) {
                *cij += ai * bj;
            }
        }
    }
    *acc = c;
}
