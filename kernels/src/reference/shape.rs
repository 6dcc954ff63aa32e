//! Shape helpers shared by the kernels: strides, broadcasting, and N-d row
//! iteration without allocation.

/// Largest tensor rank the kernels support.
pub const MAX_RANK: usize = 6;

/// A shape or index with up to [`MAX_RANK`] dimensions; entries past the
/// rank are ignored (conventionally 1).
pub type Dims = [usize; MAX_RANK];

/// Strides in elements. May be zero (broadcast) or negative (reversed walk).
pub type Strides = [isize; MAX_RANK];

/// Number of elements of the first `rank` dims of `shape` (1 for rank 0).
#[inline]
pub fn numel(shape: &Dims, rank: usize) -> usize {
    shape[..rank].iter().product()
}

/// Row-major (C-contiguous) strides of `shape`.
pub fn contiguous_strides(shape: &Dims, rank: usize) -> Strides {
    let mut s = [0isize; MAX_RANK];
    let mut acc = 1isize;
    for d in (0..rank).rev() {
        s[d] = acc;
        acc *= shape[d] as isize;
    }
    s
}

/// Strides for reading a tensor of shape `in_shape` broadcast to `out_shape`.
/// Both shapes have `rank` dims (the input left-padded with 1s); a dim of
/// size 1 that is broadcast gets stride 0.
pub fn broadcast_strides(in_shape: &Dims, out_shape: &Dims, rank: usize) -> Strides {
    let mut s = contiguous_strides(in_shape, rank);
    for d in 0..rank {
        if in_shape[d] == 1 && out_shape[d] != 1 {
            s[d] = 0;
        }
        debug_assert!(
            in_shape[d] == out_shape[d] || in_shape[d] == 1,
            "shapes not broadcastable"
        );
    }
    s
}

/// Left-pads `shape` (of length at most [`MAX_RANK`]) with 1s to `rank` dims.
/// A convenience for host code and tests; generated code writes the padded
/// arrays directly.
pub fn pad_shape(shape: &[usize], rank: usize) -> Dims {
    debug_assert!(shape.len() <= rank && rank <= MAX_RANK);
    let mut d = [1usize; MAX_RANK];
    let off = rank - shape.len();
    d[off..rank].copy_from_slice(shape);
    d
}

/// Builds a [`Dims`] from a slice (the rest filled with 1s).
pub fn dims(shape: &[usize]) -> Dims {
    pad_shape(shape, shape.len())
}

/// Walks the first `rank` dims of `shape` in row-major order, one contiguous
/// row at a time, tracking the element offsets of `K` tensors with their own
/// `strides` (starting at `base`).
///
/// Calls `f(offsets, len, inner_strides)` once per row: `offsets[t]` is the
/// offset of the row's first element in tensor `t`, `len` the row length and
/// `inner_strides[t]` the step between its elements in tensor `t`. Adjacent
/// dims that are contiguous for all `K` tensors are merged first, so rows are
/// as long as possible. A shape with a zero dim makes no call; rank 0 makes
/// one call of length 1.
pub fn for_each_row<const K: usize, F>(
    shape: &Dims,
    rank: usize,
    base: [isize; K],
    strides: &[Strides; K],
    mut f: F,
) where
    F: FnMut([isize; K], usize, [isize; K]),
{
    let mut sz = [1usize; MAX_RANK];
    let mut st = [[0isize; MAX_RANK]; K];
    let mut n = 0usize;
    for d in 0..rank {
        let s = shape[d];
        if s == 0 {
            return;
        }
        if s == 1 {
            continue;
        }
        if n > 0 && (0..K).all(|t| st[t][n - 1] == strides[t][d] * s as isize) {
            sz[n - 1] *= s;
            for t in 0..K {
                st[t][n - 1] = strides[t][d];
            }
        } else {
            sz[n] = s;
            for t in 0..K {
                st[t][n] = strides[t][d];
            }
            n += 1;
        }
    }
    if n == 0 {
        f(base, 1, [0; K]);
        return;
    }
    let len = sz[n - 1];
    let mut inner = [0isize; K];
    for t in 0..K {
        inner[t] = st[t][n - 1];
    }
    let mut idx = [0usize; MAX_RANK];
    let mut off = base;
    loop {
        f(off, len, inner);
        // Advance the odometer over the outer dims 0..n-1.
        let mut d = n - 1;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            for t in 0..K {
                off[t] += st[t][d];
            }
            if idx[d] < sz[d] {
                break;
            }
            for t in 0..K {
                off[t] -= st[t][d] * sz[d] as isize;
            }
            idx[d] = 0;
        }
    }
}

/// Range `[lo, hi)` of output positions `o` in `0..out_len` for which the
/// input position `o * stride + offset` lies in `0..in_len`.
#[inline]
pub fn valid_range(out_len: usize, in_len: usize, stride: usize, offset: isize) -> (usize, usize) {
    let s = stride as isize;
    // lo = ceil(-offset / s) clamped at 0.
    let lo = if offset >= 0 {
        0
    } else {
        ((-offset) + s - 1) / s
    };
    // hi = floor((in_len - 1 - offset) / s) + 1, clamped to out_len.
    let last = in_len as isize - 1 - offset;
    let hi = if last < 0 { 0 } else { last / s + 1 };
    let lo = lo.min(out_len as isize) as usize;
    let hi = (hi.min(out_len as isize) as usize).max(lo);
    (lo, hi)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    #[test]
    fn rows_merge_contiguous_dims() {
        let shape = dims(&[2, 3, 4]);
        let s = contiguous_strides(&shape, 3);
        let mut rows = Vec::new();
        for_each_row(&shape, 3, [0], &[s], |o, len, inner| {
            rows.push((o[0], len, inner[0]))
        });
        assert_eq!(rows, [(0, 24, 1)]);
    }

    #[test]
    fn rows_with_broadcast() {
        let out = dims(&[2, 3]);
        let a = dims(&[2, 1]);
        let sa = broadcast_strides(&a, &out, 2);
        let so = contiguous_strides(&out, 2);
        let mut rows = Vec::new();
        for_each_row(&out, 2, [0, 0], &[so, sa], |o, len, inner| {
            rows.push((o, len, inner))
        });
        assert_eq!(rows, [([0, 0], 3, [1, 0]), ([3, 1], 3, [1, 0])]);
    }

    #[test]
    fn rank_zero_and_empty() {
        let mut calls = 0;
        for_each_row(&dims(&[]), 0, [0], &[[0; MAX_RANK]], |_, len, _| {
            assert_eq!(len, 1);
            calls += 1;
        });
        assert_eq!(calls, 1);
        for_each_row(&dims(&[2, 0]), 2, [0], &[[0; MAX_RANK]], |_, _, _| panic!());
    }

    #[test]
    fn valid_ranges() {
        // in 5, stride 1, offset -1 (pad 1): o-1 in 0..5 => o in 1..6 clamp to out 5.
        assert_eq!(valid_range(5, 5, 1, -1), (1, 5));
        assert_eq!(valid_range(5, 5, 1, 1), (0, 4));
        // stride 2, offset -1: 2o-1 in 0..5 => o in 1..=3
        assert_eq!(valid_range(3, 5, 2, -1), (1, 3));
        assert_eq!(valid_range(4, 2, 1, 5), (0, 0));
        assert_eq!(valid_range(4, 2, 1, -9), (4, 4));
    }
}
