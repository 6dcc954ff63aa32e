//! Packed matrix products: `Y = act(A · B + bias)` with `A` constant and
//! packed by the compiler in panels of four rows (`[ceil(M/4)][K][4]`) or
//! eight rows for the matrix-vector form (`[ceil(M/8)][K][8]`).
//!
//! A 1×1 convolution is `A = W[M][C]`, `B = X[C][H·W]`; a Gemm with constant
//! `B` is the transposed product `Yᵀ = Bᵀ · Xᵀ`, so both go through
//! [`matmul`] with strides. Four rows × four columns are computed per pass in
//! registers by [`Micro::mk4x4`]; columns left over (fewer than four) are
//! computed by a plain loop.

use super::super::micro::Micro;
use super::super::reference::activation::Activation;
use super::act;

/// Shape and strides of a packed product.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MatmulParams {
    /// Rows of `A` and `Y` (output channels).
    pub m: usize,
    /// Inner dimension.
    pub k: usize,
    /// Columns of `B` and `Y`.
    pub n: usize,
    /// Stride of `B` between consecutive `t` (inner index).
    pub ldb: usize,
    /// Stride of `B` between consecutive columns.
    pub sb: usize,
    /// Stride of `Y` between rows.
    pub ldy: usize,
    /// Stride of `Y` between columns.
    pub sy: usize,
    /// Activation applied to every output.
    pub activation: Activation,
}

/// `y[i*ldy + j*sy] = act(Σ_t A[i][t] · b[t*ldb + j*sb] + bias[i])`, `A`
/// packed `[ceil(m/4)][k][4]`.
#[inline(never)]
pub fn matmul<M: Micro>(
    a: &[f32],
    b: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    p: &MatmulParams,
) {
    let (m, k, n) = (p.m, p.k, p.n);
    if m == 0 || n == 0 {
        return;
    }
    let n4 = n - n % 4;
    for blk in 0..m.div_ceil(4) {
        let ap = &a[blk * k * 4..][..k * 4];
        let i0 = blk * 4;
        let rows = (m - i0).min(4);
        let mut b4 = [0f32; 4];
        if let Some(bias) = bias {
            b4[..rows].copy_from_slice(&bias[i0..i0 + rows]);
        }
        let mut j = 0;
        while j < n4 {
            let acc = [[b4[0]; 4], [b4[1]; 4], [b4[2]; 4], [b4[3]; 4]];
            let relu = match p.activation {
                Activation::None => Some(false),
                Activation::Relu => Some(true),
                _ => None,
            };
            if let (1, 1, Some(relu)) = (p.sb, p.sy, relu) {
                // Contiguous columns and outputs: the micro-kernel stores
                // the block itself.
                M::mk4x4_store(
                    ap,
                    &b[j..],
                    p.ldb,
                    acc,
                    rows,
                    relu,
                    &mut y[i0 * p.ldy + j..],
                    p.ldy,
                );
            } else {
                let mut acc = acc;
                M::mk4x4(ap, &b[j * p.sb..], p.ldb, p.sb, &mut acc);
                for (i, ai) in acc.iter().enumerate().take(rows) {
                    for (jj, &v) in ai.iter().enumerate() {
                        y[(i0 + i) * p.ldy + (j + jj) * p.sy] = act(p.activation, v);
                    }
                }
            }
            j += 4;
        }
        for j in n4..n {
            let mut acc = b4;
            for (t, a4) in ap.chunks_exact(4).enumerate() {
                let bv = b[t * p.ldb + j * p.sb];
                for i in 0..4 {
                    acc[i] += a4[i] * bv;
                }
            }
            for (i, &v) in acc.iter().enumerate().take(rows) {
                y[(i0 + i) * p.ldy + j * p.sy] = act(p.activation, v);
            }
        }
    }
}

/// `y[i] = act(Σ_t A[i][t] · x[t] + bias[i])` for `i < m`, `A` packed
/// `[ceil(m/8)][k][8]`, `x.len() >= k`.
#[inline(never)]
pub fn matvec<M: Micro>(
    a: &[f32],
    x: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    m: usize,
    k: usize,
    activation: Activation,
) {
    let x = &x[..k];
    for blk in 0..m.div_ceil(8) {
        let i0 = blk * 8;
        let rows = (m - i0).min(8);
        let mut acc = [0f32; 8];
        if let Some(bias) = bias {
            acc[..rows].copy_from_slice(&bias[i0..i0 + rows]);
        }
        M::mk8x1(&a[blk * k * 8..][..k * 8], x, &mut acc);
        for (yi, &v) in y[i0..i0 + rows].iter_mut().zip(&acc) {
            *yi = act(activation, v);
        }
    }
}
