//! General matrix multiply (ONNX `Gemm`) with a fused activation.

use super::activation::Activation;

/// Parameters of [`gemm`]: `Y = act(alpha * op(A) * op(B) + beta * C)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GemmParams {
    /// Rows of `op(A)` and `Y`.
    pub m: usize,
    /// Columns of `op(B)` and `Y`.
    pub n: usize,
    /// Columns of `op(A)` = rows of `op(B)`.
    pub k: usize,
    /// `A` is stored `[K, M]` and used transposed.
    pub trans_a: bool,
    /// `B` is stored `[N, K]` and used transposed.
    pub trans_b: bool,
    /// Scale of the product.
    pub alpha: f32,
    /// Scale of `C`.
    pub beta: f32,
    /// Step in `C` per row of `Y`: 0 when `C` is a scalar or `[N]`, 1 for
    /// `[M, 1]`, `n` for `[M, N]`.
    pub c_stride_m: usize,
    /// Step in `C` per column of `Y`: 0 when `C` is a scalar or `[M, 1]`, 1
    /// for `[N]` and `[M, N]`.
    pub c_stride_n: usize,
    /// Activation applied to each output.
    pub activation: Activation,
}

/// `Y = act(alpha * op(A) * op(B) + beta * C)`; `Y` is `[M, N]`, `C` is
/// optional (as if zero) and read through `c_stride_m` / `c_stride_n`.
pub fn gemm(a: &[f32], b: &[f32], c: Option<&[f32]>, y: &mut [f32], p: &GemmParams) {
    let (m, n, k) = (p.m, p.n, p.k);
    debug_assert_eq!(a.len(), m * k);
    debug_assert_eq!(b.len(), k * n);
    debug_assert_eq!(y.len(), m * n);
    for i in 0..m {
        let yr = &mut y[i * n..][..n];
        if !p.trans_b {
            yr.fill(0.0);
            for kk in 0..k {
                let av = if p.trans_a {
                    a[kk * m + i]
                } else {
                    a[i * k + kk]
                };
                let br = &b[kk * n..][..n];
                for (yv, &bv) in yr.iter_mut().zip(br) {
                    *yv += av * bv;
                }
            }
        } else if !p.trans_a {
            let ar = &a[i * k..][..k];
            for (j, yv) in yr.iter_mut().enumerate() {
                let br = &b[j * k..][..k];
                *yv = dot(ar, br);
            }
        } else {
            for (j, yv) in yr.iter_mut().enumerate() {
                let br = &b[j * k..][..k];
                let mut s = 0.0f32;
                for (kk, &bv) in br.iter().enumerate() {
                    s += a[kk * m + i] * bv;
                }
                *yv = s;
            }
        }
        // Epilogue: scale, add C, activate.
        match c {
            Some(c) if p.beta != 0.0 => {
                let crow = i * p.c_stride_m;
                for (j, yv) in yr.iter_mut().enumerate() {
                    *yv = p
                        .activation
                        .apply(p.alpha * *yv + p.beta * c[crow + j * p.c_stride_n]);
                }
            }
            _ => {
                for yv in yr.iter_mut() {
                    *yv = p.activation.apply(p.alpha * *yv);
                }
            }
        }
    }
}

/// Dot product of two equal-length slices, with four partial sums so the
/// loop pipelines.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut s = [0.0f32; 4];
    let ca = a.chunks_exact(4);
    let cb = b.chunks_exact(4);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, z) in ca.zip(cb) {
        s[0] += x[0] * z[0];
        s[1] += x[1] * z[1];
        s[2] += x[2] * z[2];
        s[3] += x[3] * z[3];
    }
    let mut t = (s[0] + s[1]) + (s[2] + s[3]);
    for (x, z) in ra.iter().zip(rb) {
        t += x * z;
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(m: usize, n: usize, k: usize, ta: bool, tb: bool) -> GemmParams {
        GemmParams {
            m,
            n,
            k,
            trans_a: ta,
            trans_b: tb,
            alpha: 1.0,
            beta: 1.0,
            c_stride_m: 0,
            c_stride_n: 0,
            activation: Activation::None,
        }
    }

    #[test]
    fn all_transpose_combinations() {
        // A = [[1,2,3],[4,5,6]] (2x3), B = [[1,2],[3,4],[5,6]] (3x2)
        // A*B = [[22,28],[49,64]]
        let a = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        let at = [1.0f32, 4.0, 2.0, 5.0, 3.0, 6.0];
        let b = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        let bt = [1.0f32, 3.0, 5.0, 2.0, 4.0, 6.0];
        let want = [22.0f32, 28.0, 49.0, 64.0];
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let mut y = [0.0f32; 4];
            let aa: &[f32] = if ta { &at } else { &a };
            let bb: &[f32] = if tb { &bt } else { &b };
            gemm(aa, bb, None, &mut y, &params(2, 2, 3, ta, tb));
            assert_eq!(y, want, "trans {ta} {tb}");
        }
    }

    #[test]
    fn c_broadcast_alpha_beta_activation() {
        let a = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut p = params(2, 2, 3, false, false);
        p.alpha = 0.5;
        p.beta = 2.0;
        let mut y = [0.0f32; 4];
        // scalar C
        gemm(&a, &b, Some(&[1.0]), &mut y, &p);
        assert_eq!(y, [13.0, 16.0, 26.5, 34.0]);
        // C [N]
        p.c_stride_n = 1;
        gemm(&a, &b, Some(&[1.0, -1.0]), &mut y, &p);
        assert_eq!(y, [13.0, 12.0, 26.5, 30.0]);
        // C [M,1]
        p.c_stride_m = 1;
        p.c_stride_n = 0;
        gemm(&a, &b, Some(&[1.0, -1.0]), &mut y, &p);
        assert_eq!(y, [13.0, 16.0, 22.5, 30.0]);
        // C [M,N] with Relu
        p.c_stride_m = 2;
        p.c_stride_n = 1;
        p.activation = Activation::Relu;
        gemm(&a, &b, Some(&[-20.0, 0.0, 0.0, 0.0]), &mut y, &p);
        assert_eq!(y, [0.0, 14.0, 24.5, 32.0]);
    }

    #[test]
    fn dot_remainder() {
        let a = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];
        assert_eq!(dot(&a, &a), 140.0);
    }
}
