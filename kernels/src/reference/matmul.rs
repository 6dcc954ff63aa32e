//! Batched matrix multiply (ONNX `MatMul`) with numpy broadcasting of the
//! batch dims.

use super::shape::{broadcast_strides, contiguous_strides, for_each_row, Dims};

/// Parameters of [`matmul`]: `Y[..., M, N] = A[..., M, K] @ B[..., K, N]`.
///
/// 1-D operands are handled by the generator through shapes (a 1-D `A` is
/// `[1, K]`, a 1-D `B` is `[K, 1]`, and the unit dim dropped from the output
/// shape).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatMulParams {
    /// Rows of each `A` matrix.
    pub m: usize,
    /// Inner dimension.
    pub k: usize,
    /// Columns of each `B` matrix.
    pub n: usize,
    /// Number of batch dims (0..=4); all batch shapes below have this many.
    pub batch_rank: usize,
    /// Batch dims of the output.
    pub out_batch: Dims,
    /// Batch dims of `A`, left-padded with 1s to `batch_rank`.
    pub a_batch: Dims,
    /// Batch dims of `B`, left-padded with 1s to `batch_rank`.
    pub b_batch: Dims,
}

/// `y = a @ b` for one `[m, k] x [k, n]` pair (row-major, ikj order so the
/// inner loop is a contiguous axpy).
pub fn matmul_2d(a: &[f32], b: &[f32], y: &mut [f32], m: usize, k: usize, n: usize) {
    for i in 0..m {
        let yr = &mut y[i * n..][..n];
        yr.fill(0.0);
        let ar = &a[i * k..][..k];
        for (kk, &av) in ar.iter().enumerate() {
            let br = &b[kk * n..][..n];
            for (yv, &bv) in yr.iter_mut().zip(br) {
                *yv += av * bv;
            }
        }
    }
}

/// Batched, broadcasting matrix multiply.
pub fn matmul(a: &[f32], b: &[f32], y: &mut [f32], p: &MatMulParams) {
    let (m, k, n) = (p.m, p.k, p.n);
    for_each_batch(p, |ao, bo, yo| {
        matmul_2d(
            &a[ao..ao + m * k],
            &b[bo..bo + k * n],
            &mut y[yo..yo + m * n],
            m,
            k,
            n,
        );
    });
}

/// Calls `f(a_offset, b_offset, y_offset)` for every output matrix of a
/// batched, broadcasting matrix multiply (offsets in elements). Shared by
/// the float and the quantized matmuls.
pub fn for_each_batch<F: FnMut(usize, usize, usize)>(p: &MatMulParams, mut f: F) {
    let (m, k, n) = (p.m, p.k, p.n);
    let (ma, mb, my) = ((m * k) as isize, (k * n) as isize, (m * n) as isize);
    let mut sa = broadcast_strides(&p.a_batch, &p.out_batch, p.batch_rank);
    let mut sb = broadcast_strides(&p.b_batch, &p.out_batch, p.batch_rank);
    let mut sy = contiguous_strides(&p.out_batch, p.batch_rank);
    for d in 0..p.batch_rank {
        sa[d] *= ma;
        sb[d] *= mb;
        sy[d] *= my;
    }
    if my == 0 {
        return;
    }
    for_each_row(
        &p.out_batch,
        p.batch_rank,
        [0, 0, 0],
        &[sy, sa, sb],
        |o, len, inner| {
            for j in 0..len as isize {
                let yo = (o[0] + j * inner[0]) as usize;
                let ao = (o[1] + j * inner[1]) as usize;
                let bo = (o[2] + j * inner[2]) as usize;
                f(ao, bo, yo);
            }
        },
    );
}

#[cfg(test)]
mod tests {
    use super::super::shape::dims;
    use super::*;

    #[test]
    fn plain_2d() {
        let a = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut y = [0.0f32; 4];
        let p = MatMulParams {
            m: 2,
            k: 3,
            n: 2,
            batch_rank: 0,
            out_batch: dims(&[]),
            a_batch: dims(&[]),
            b_batch: dims(&[]),
        };
        matmul(&a, &b, &mut y, &p);
        assert_eq!(y, [22.0, 28.0, 49.0, 64.0]);
    }

    #[test]
    fn broadcast_batches() {
        // A [2,1,1,2] (two 1x2 matrices), B [3,2,1] (three 2x1 matrices)
        // Y [2,3,1,1]: Y[i,j] = A_i . B_j
        let a = [1.0f32, 2.0, 3.0, 4.0];
        let b = [1.0f32, 0.0, 0.0, 1.0, 1.0, 1.0];
        let mut y = [0.0f32; 6];
        let p = MatMulParams {
            m: 1,
            k: 2,
            n: 1,
            batch_rank: 2,
            out_batch: dims(&[2, 3]),
            a_batch: dims(&[2, 1]),
            b_batch: dims(&[1, 3]),
        };
        matmul(&a, &b, &mut y, &p);
        assert_eq!(y, [1.0, 2.0, 3.0, 3.0, 4.0, 7.0]);
    }
}
