//! N-d strided slice (ONNX `Slice`) for any element type.

use super::shape::{contiguous_strides, for_each_row, Dims, MAX_RANK};

/// Parameters of [`slice()`]. The generator clamps and normalizes `starts`,
/// `ends` and `steps` (all axes listed, defaults filled in) and computes the
/// output shape; output index `j` on axis `d` reads input index
/// `starts[d] + j * steps[d]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SliceParams {
    /// Rank (0..=6).
    pub rank: usize,
    /// Input shape.
    pub in_shape: Dims,
    /// Output shape.
    pub out_shape: Dims,
    /// First input index per axis (a valid index whenever the output dim is
    /// non-zero).
    pub starts: Dims,
    /// Step per axis (non-zero; negative walks backwards).
    pub steps: [isize; MAX_RANK],
}

/// `y = x[starts : ends : steps]`.
pub fn slice<T: Copy>(x: &[T], y: &mut [T], p: &SliceParams) {
    let si = contiguous_strides(&p.in_shape, p.rank);
    let mut sx = [0isize; MAX_RANK];
    let mut base = 0isize;
    for d in 0..p.rank {
        sx[d] = si[d] * p.steps[d];
        base += si[d] * p.starts[d] as isize;
    }
    let sy = contiguous_strides(&p.out_shape, p.rank);
    for_each_row(
        &p.out_shape,
        p.rank,
        [0, base],
        &[sy, sx],
        |o, len, inner| {
            let yo = o[0] as usize;
            let yr = &mut y[yo..yo + len];
            if inner[1] == 1 {
                let xo = o[1] as usize;
                yr.copy_from_slice(&x[xo..xo + len]);
            } else {
                for (j, v) in yr.iter_mut().enumerate() {
                    *v = x[(o[1] + j as isize * inner[1]) as usize];
                }
            }
        },
    );
}

#[cfg(test)]
mod tests {
    use super::super::shape::dims;
    use super::*;

    #[test]
    fn slices() {
        // x = arange(12).reshape(3,4); x[0:2, 1:3]
        let x: [i32; 12] = core::array::from_fn(|i| i as i32);
        let mut y = [0; 4];
        let p = SliceParams {
            rank: 2,
            in_shape: dims(&[3, 4]),
            out_shape: dims(&[2, 2]),
            starts: dims(&[0, 1]),
            steps: [1; 6],
        };
        slice(&x, &mut y, &p);
        assert_eq!(y, [1, 2, 5, 6]);
        // x[::-1, 3:0:-2] -> rows 2,1,0 cols 3,1
        let mut y = [0; 6];
        let p = SliceParams {
            rank: 2,
            in_shape: dims(&[3, 4]),
            out_shape: dims(&[3, 2]),
            starts: dims(&[2, 3]),
            steps: [-1, -2, 1, 1, 1, 1],
        };
        slice(&x, &mut y, &p);
        assert_eq!(y, [11, 9, 7, 5, 3, 1]);
        // empty output
        let mut e: [i32; 0] = [];
        let p = SliceParams {
            rank: 2,
            in_shape: dims(&[3, 4]),
            out_shape: dims(&[0, 4]),
            starts: dims(&[0, 0]),
            steps: [1; 6],
        };
        slice(&x, &mut e, &p);
    }
}
