//! `Where`: elementwise select with numpy broadcasting, any element type.

use super::shape::{broadcast_strides, contiguous_strides, for_each_row, Dims};

/// Shapes of [`where_`]; all left-padded with 1s to `rank`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WhereParams {
    /// Output rank (0..=6).
    pub rank: usize,
    /// Output shape.
    pub out_shape: Dims,
    /// Shape of the condition.
    pub cond_shape: Dims,
    /// Shape of `x` (chosen where the condition is true).
    pub x_shape: Dims,
    /// Shape of `y` (chosen where the condition is false).
    pub y_shape: Dims,
}

/// `out = cond ? x : y` with broadcasting.
pub fn where_<T: Copy>(cond: &[bool], x: &[T], y: &[T], out: &mut [T], p: &WhereParams) {
    let so = contiguous_strides(&p.out_shape, p.rank);
    let sc = broadcast_strides(&p.cond_shape, &p.out_shape, p.rank);
    let sx = broadcast_strides(&p.x_shape, &p.out_shape, p.rank);
    let sy = broadcast_strides(&p.y_shape, &p.out_shape, p.rank);
    for_each_row(
        &p.out_shape,
        p.rank,
        [0; 4],
        &[so, sc, sx, sy],
        |o, len, inner| {
            let oo = o[0] as usize;
            for (j, v) in out[oo..oo + len].iter_mut().enumerate() {
                let j = j as isize;
                let c = cond[(o[1] + j * inner[1]) as usize];
                *v = if c {
                    x[(o[2] + j * inner[2]) as usize]
                } else {
                    y[(o[3] + j * inner[3]) as usize]
                };
            }
        },
    );
}

#[cfg(test)]
mod tests {
    use super::super::shape::dims;
    use super::*;

    #[test]
    fn where_broadcast() {
        // cond [2,1], x [2,2], y scalar
        let mut out = [0; 4];
        let p = WhereParams {
            rank: 2,
            out_shape: dims(&[2, 2]),
            cond_shape: dims(&[2, 1]),
            x_shape: dims(&[2, 2]),
            y_shape: dims(&[1, 1]),
        };
        where_(&[true, false], &[1, 2, 3, 4], &[9], &mut out, &p);
        assert_eq!(out, [1, 2, 9, 9]);
    }
}
