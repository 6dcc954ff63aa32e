//! Transpose (permutation of axes) for any element type.

use super::shape::{contiguous_strides, for_each_row, numel, Dims, MAX_RANK};

/// Parameters of [`transpose`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransposeParams {
    /// Rank (0..=6).
    pub rank: usize,
    /// Input shape.
    pub in_shape: Dims,
    /// Output axis `i` is input axis `perm[i]`.
    pub perm: Dims,
}

impl TransposeParams {
    /// Output shape: `out[i] = in_shape[perm[i]]`.
    pub fn out_shape(&self) -> Dims {
        let mut o = [1usize; MAX_RANK];
        for (v, &ax) in o.iter_mut().zip(&self.perm[..self.rank]) {
            *v = self.in_shape[ax];
        }
        o
    }
}

/// `y = transpose(x, perm)`.
pub fn transpose<T: Copy>(x: &[T], y: &mut [T], p: &TransposeParams) {
    let out = p.out_shape();
    let si = contiguous_strides(&p.in_shape, p.rank);
    let mut sx = [0isize; MAX_RANK];
    for i in 0..p.rank {
        sx[i] = si[p.perm[i]];
    }
    let sy = contiguous_strides(&out, p.rank);
    for_each_row(&out, p.rank, [0, 0], &[sy, sx], |o, len, inner| {
        let (yo, xo) = (o[0] as usize, o[1] as usize);
        let yr = &mut y[yo..yo + len];
        if inner[1] == 1 {
            yr.copy_from_slice(&x[xo..xo + len]);
        } else {
            let s = inner[1] as usize;
            for (j, v) in yr.iter_mut().enumerate() {
                *v = x[xo + j * s];
            }
        }
    });
}

/// Parameters of [`tile`]: output dim `d` is `in_shape[d] * repeats[d]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TileParams {
    /// Rank (0..=6).
    pub rank: usize,
    /// Input shape.
    pub in_shape: Dims,
    /// Repetitions per axis.
    pub repeats: Dims,
}

/// ONNX `Tile`: `y[i] = x[i mod in_shape]` per axis.
pub fn tile<T: Copy>(x: &[T], y: &mut [T], p: &TileParams) {
    let r = p.rank;
    if r == 0 {
        if let (Some(o), Some(&v)) = (y.first_mut(), x.first()) {
            *o = v;
        }
        return;
    }
    let si = contiguous_strides(&p.in_shape, r);
    let mut out = [1usize; MAX_RANK];
    for ((o, &i), &k) in out.iter_mut().zip(&p.in_shape).zip(&p.repeats).take(r) {
        *o = i * k;
    }
    let in_n = p.in_shape[r - 1];
    let out_n = out[r - 1];
    if out_n == 0 {
        return;
    }
    let rows = numel(&out, r - 1);
    let mut idx = [0usize; MAX_RANK];
    for row in 0..rows {
        let mut base = 0usize;
        for d in 0..r - 1 {
            base += (idx[d] % p.in_shape[d]) * si[d] as usize;
        }
        let src = &x[base..base + in_n];
        for chunk in y[row * out_n..][..out_n].chunks_exact_mut(in_n) {
            chunk.copy_from_slice(src);
        }
        let mut d = r - 1;
        while d > 0 {
            d -= 1;
            idx[d] += 1;
            if idx[d] < out[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::shape::dims;
    use super::*;

    #[test]
    fn tile_2d() {
        // np.tile([[1, 2], [3, 4]], (2, 3))
        let mut y = [0; 24];
        tile(
            &[1, 2, 3, 4],
            &mut y,
            &TileParams {
                rank: 2,
                in_shape: dims(&[2, 2]),
                repeats: dims(&[2, 3]),
            },
        );
        assert_eq!(
            y,
            [1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4]
        );
    }

    #[test]
    fn transpose_2d_and_3d() {
        let x = [1, 2, 3, 4, 5, 6];
        let mut y = [0; 6];
        transpose(
            &x,
            &mut y,
            &TransposeParams {
                rank: 2,
                in_shape: dims(&[2, 3]),
                perm: dims(&[1, 0]),
            },
        );
        assert_eq!(y, [1, 4, 2, 5, 3, 6]);
        // numpy: np.arange(24).reshape(2,3,4).transpose(1,2,0).ravel()
        let x: [i64; 24] = core::array::from_fn(|i| i as i64);
        let mut y = [0i64; 24];
        transpose(
            &x,
            &mut y,
            &TransposeParams {
                rank: 3,
                in_shape: dims(&[2, 3, 4]),
                perm: dims(&[1, 2, 0]),
            },
        );
        assert_eq!(
            y,
            [
                0, 12, 1, 13, 2, 14, 3, 15, 4, 16, 5, 17, 6, 18, 7, 19, 8, 20, 9, 21, 10, 22, 11,
                23
            ]
        );
        // Identity permutation with unit dims.
        transpose(
            &x,
            &mut y,
            &TransposeParams {
                rank: 4,
                in_shape: dims(&[1, 2, 3, 4]),
                perm: dims(&[1, 0, 2, 3]),
            },
        );
        assert_eq!(y, x);
    }
}
