//! Smaller operators: CumSum, Trilu, bitwise ops, DepthToSpace /
//! SpaceToDepth, OneHot, ScatterND / ScatterElements, GatherND, TopK.

use super::binary::BroadcastParams;
use super::scalar::Scalar;

/// `x` viewed as `[outer, axis_len, inner]` around one axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AxisParams {
    /// Product of the dims before the axis.
    pub outer: usize,
    /// Length of the axis.
    pub axis_len: usize,
    /// Product of the dims after the axis.
    pub inner: usize,
}

/// ONNX `CumSum` along the axis; `exclusive` leaves out the current element,
/// `reverse` sums from the end.
pub fn cumsum<T: Scalar>(x: &[T], y: &mut [T], p: &AxisParams, exclusive: bool, reverse: bool) {
    let (n, inner) = (p.axis_len, p.inner);
    for o in 0..p.outer {
        for i in 0..inner {
            let mut acc = T::ZERO;
            for s in 0..n {
                let a = if reverse { n - 1 - s } else { s };
                let at = (o * n + a) * inner + i;
                if exclusive {
                    y[at] = acc;
                    acc = acc.add(x[at]);
                } else {
                    acc = acc.add(x[at]);
                    y[at] = acc;
                }
            }
        }
    }
}

/// ONNX `Trilu` on a batch of `rows x cols` matrices: keeps the upper
/// (`upper`) or lower triangle relative to diagonal `k`, zeroes the rest.
pub fn trilu<T: Copy + Default>(
    x: &[T],
    y: &mut [T],
    batch: usize,
    rows: usize,
    cols: usize,
    k: i64,
    upper: bool,
) {
    for b in 0..batch {
        for r in 0..rows {
            for c in 0..cols {
                let at = (b * rows + r) * cols + c;
                let d = c as i64 - r as i64;
                let keep = if upper { d >= k } else { d <= k };
                y[at] = if keep { x[at] } else { T::default() };
            }
        }
    }
}

/// A bitwise binary operator on integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitwiseOp {
    /// `a & b`.
    And,
    /// `a | b`.
    Or,
    /// `a ^ b`.
    Xor,
}

/// ONNX `BitwiseAnd` / `BitwiseOr` / `BitwiseXor` with broadcasting.
pub fn bitwise<T>(op: BitwiseOp, a: &[T], b: &[T], y: &mut [T], p: &BroadcastParams)
where
    T: Copy
        + core::ops::BitAnd<Output = T>
        + core::ops::BitOr<Output = T>
        + core::ops::BitXor<Output = T>,
{
    let q = *p;
    // Reuse the broadcasting of `expand` row by row through an index map.
    let sy = super::shape::contiguous_strides(&q.out_shape, q.rank);
    let sa = super::shape::broadcast_strides(&q.a_shape, &q.out_shape, q.rank);
    let sb = super::shape::broadcast_strides(&q.b_shape, &q.out_shape, q.rank);
    super::shape::for_each_row(
        &q.out_shape,
        q.rank,
        [0, 0, 0],
        &[sy, sa, sb],
        |o, len, inner| {
            for j in 0..len as isize {
                let (u, v) = (
                    a[(o[1] + j * inner[1]) as usize],
                    b[(o[2] + j * inner[2]) as usize],
                );
                y[(o[0] + j) as usize] = match op {
                    BitwiseOp::And => u & v,
                    BitwiseOp::Or => u | v,
                    BitwiseOp::Xor => u ^ v,
                };
            }
        },
    );
}

/// ONNX `BitwiseNot`.
pub fn bitwise_not<T: Copy + core::ops::Not<Output = T>>(x: &[T], y: &mut [T]) {
    for (o, &v) in y.iter_mut().zip(x) {
        *o = !v;
    }
}

/// Parameters of [`depth_to_space`] / [`space_to_depth`]: the NCHW *input*
/// shape and the block size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpaceDepthParams {
    /// Batch N.
    pub batch: usize,
    /// Input channels C.
    pub channels: usize,
    /// Input height H.
    pub height: usize,
    /// Input width W.
    pub width: usize,
    /// Block size.
    pub block: usize,
    /// "CRD" channel ordering (false = "DCR", the default).
    pub crd: bool,
}

/// ONNX `DepthToSpace`: `[N, C, H, W]` -> `[N, C/b^2, H*b, W*b]`.
pub fn depth_to_space<T: Copy>(x: &[T], y: &mut [T], p: &SpaceDepthParams) {
    let (n, c, h, w, b) = (p.batch, p.channels, p.height, p.width, p.block);
    let oc = c / (b * b);
    let (oh, ow) = (h * b, w * b);
    for ni in 0..n {
        for co in 0..oc {
            for yo in 0..oh {
                for xo in 0..ow {
                    let (hi, bh) = (yo / b, yo % b);
                    let (wi, bw) = (xo / b, xo % b);
                    let ci = if p.crd {
                        (co * b + bh) * b + bw
                    } else {
                        (bh * b + bw) * oc + co
                    };
                    y[((ni * oc + co) * oh + yo) * ow + xo] = x[((ni * c + ci) * h + hi) * w + wi];
                }
            }
        }
    }
}

/// ONNX `SpaceToDepth`: `[N, C, H, W]` -> `[N, C*b^2, H/b, W/b]`.
pub fn space_to_depth<T: Copy>(x: &[T], y: &mut [T], p: &SpaceDepthParams) {
    let (n, c, h, w, b) = (p.batch, p.channels, p.height, p.width, p.block);
    let (oh, ow) = (h / b, w / b);
    let oc = c * b * b;
    for ni in 0..n {
        for co in 0..oc {
            let (blk, ci) = if p.crd {
                (co % (b * b), co / (b * b))
            } else {
                (co / c, co % c)
            };
            let (bh, bw) = (blk / b, blk % b);
            for yo in 0..oh {
                for xo in 0..ow {
                    y[((ni * oc + co) * oh + yo) * ow + xo] =
                        x[((ni * c + ci) * h + yo * b + bh) * w + xo * b + bw];
                }
            }
        }
    }
}

/// ONNX `OneHot`: output `[outer, depth, inner]` (the new axis inserted at
/// the `axis` position), `on` where `indices` (shape `[outer, inner]`,
/// negative values count from `depth`) hits, `off` elsewhere.
pub fn one_hot<T: Copy>(
    indices: &[i64],
    y: &mut [T],
    outer: usize,
    depth: usize,
    inner: usize,
    off: T,
    on: T,
) {
    y.fill(off);
    for o in 0..outer {
        for i in 0..inner {
            let v = indices[o * inner + i];
            let v = if v < 0 { v + depth as i64 } else { v };
            if v >= 0 && (v as usize) < depth {
                y[(o * depth + v as usize) * inner + i] = on;
            }
        }
    }
}

/// How scattered values combine with the existing ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScatterReduction {
    /// Overwrite.
    None,
    /// Add.
    Add,
    /// Multiply.
    Mul,
    /// Maximum.
    Max,
    /// Minimum.
    Min,
}

#[inline(always)]
fn combine<T: Scalar>(r: ScatterReduction, old: T, new: T) -> T {
    match r {
        ScatterReduction::None => new,
        ScatterReduction::Add => old.add(new),
        ScatterReduction::Mul => old.mul(new),
        ScatterReduction::Max => old.max_of(new),
        ScatterReduction::Min => old.min_of(new),
    }
}

/// ONNX `ScatterElements`: `y = x`, then for every element of `indices`
/// (shape `[outer, idx_axis_len, inner]`, same outer/inner as `x`'s
/// `[outer, p.axis_len, inner]`) `y[o, indices[o,j,i], i] = updates[o,j,i]`.
pub fn scatter_elements<T: Scalar>(
    x: &[T],
    indices: &[i64],
    updates: &[T],
    y: &mut [T],
    p: &AxisParams,
    idx_axis_len: usize,
    reduction: ScatterReduction,
) {
    y.copy_from_slice(x);
    let (n, inner) = (p.axis_len, p.inner);
    for o in 0..p.outer {
        for j in 0..idx_axis_len {
            for i in 0..inner {
                let at = (o * idx_axis_len + j) * inner + i;
                let k = indices[at];
                let k = if k < 0 { k + n as i64 } else { k } as usize;
                let dst = (o * n + k) * inner + i;
                y[dst] = combine(reduction, y[dst], updates[at]);
            }
        }
    }
}

/// ONNX `ScatterND`: `y = x`, then each index tuple (`index_depth` entries,
/// addressing the leading dims of `x`, whose dims are `x_dims`) receives
/// the next slice of `updates` (the product of the remaining dims long).
pub fn scatter_nd<T: Scalar>(
    x: &[T],
    indices: &[i64],
    updates: &[T],
    y: &mut [T],
    x_dims: &[usize],
    index_depth: usize,
    reduction: ScatterReduction,
) {
    y.copy_from_slice(x);
    let slice_len: usize = x_dims[index_depth.min(x_dims.len())..].iter().product();
    let num = indices.len().checked_div(index_depth).unwrap_or(1);
    for u in 0..num {
        let mut off = 0usize;
        for d in 0..index_depth {
            let v = indices[u * index_depth + d];
            let v = if v < 0 { v + x_dims[d] as i64 } else { v } as usize;
            off = off * x_dims[d] + v;
        }
        let base = off * slice_len;
        for e in 0..slice_len {
            y[base + e] = combine(reduction, y[base + e], updates[u * slice_len + e]);
        }
    }
}

/// ONNX `GatherND` (`batch_dims = 0`): each index tuple of `index_depth`
/// entries selects a slice of `x` (dims `x_dims`).
pub fn gather_nd<T: Copy>(
    x: &[T],
    indices: &[i64],
    y: &mut [T],
    x_dims: &[usize],
    index_depth: usize,
) {
    let slice_len: usize = x_dims[index_depth.min(x_dims.len())..].iter().product();
    let num = indices.len().checked_div(index_depth).unwrap_or(1);
    for u in 0..num {
        let mut off = 0usize;
        for d in 0..index_depth {
            let v = indices[u * index_depth + d];
            let v = if v < 0 { v + x_dims[d] as i64 } else { v } as usize;
            off = off * x_dims[d] + v;
        }
        y[u * slice_len..][..slice_len].copy_from_slice(&x[off * slice_len..][..slice_len]);
    }
}

/// ONNX `TopK` along the axis: the `k` largest (or smallest) values and
/// their indices, sorted (ties: lower index first). `values` and `indices`
/// are `[outer, k, inner]`. O(axis_len * k) selection, no allocation.
pub fn top_k<T: Copy + PartialOrd>(
    x: &[T],
    values: &mut [T],
    indices: &mut [i64],
    p: &AxisParams,
    k: usize,
    largest: bool,
) {
    let (n, inner) = (p.axis_len, p.inner);
    for o in 0..p.outer {
        for i in 0..inner {
            let at = |a: usize| x[(o * n + a) * inner + i];
            // Select greedily: the next pick is the best element that ranks
            // after the previous pick (value, then index order).
            let mut prev: Option<(T, usize)> = None;
            for r in 0..k.min(n) {
                let mut best: Option<(T, usize)> = None;
                for a in 0..n {
                    let v = at(a);
                    let after_prev = match prev {
                        None => true,
                        Some((pv, pa)) => {
                            if largest {
                                v < pv || (v == pv && a > pa)
                            } else {
                                v > pv || (v == pv && a > pa)
                            }
                        }
                    };
                    if !after_prev {
                        continue;
                    }
                    let better = match best {
                        None => true,
                        Some((bv, _)) => {
                            if largest {
                                v > bv
                            } else {
                                v < bv
                            }
                        }
                    };
                    if better {
                        best = Some((v, a));
                    }
                }
                if let Some((v, a)) = best {
                    let dst = (o * k + r) * inner + i;
                    values[dst] = v;
                    indices[dst] = a as i64;
                    prev = best;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cumsum_variants() {
        let x = [1.0f32, 2.0, 3.0, 4.0, 5.0];
        let p = AxisParams {
            outer: 1,
            axis_len: 5,
            inner: 1,
        };
        let mut y = [0.0f32; 5];
        cumsum(&x, &mut y, &p, false, false);
        assert_eq!(y, [1.0, 3.0, 6.0, 10.0, 15.0]);
        cumsum(&x, &mut y, &p, true, true);
        assert_eq!(y, [14.0, 12.0, 9.0, 5.0, 0.0]);
    }

    #[test]
    fn trilu_and_bits() {
        let x = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        let mut y = [0; 9];
        trilu(&x, &mut y, 1, 3, 3, 0, true);
        assert_eq!(y, [1, 2, 3, 0, 5, 6, 0, 0, 9]);
        trilu(&x, &mut y, 1, 3, 3, -1, false);
        assert_eq!(y, [0, 0, 0, 4, 0, 0, 7, 8, 0]);
        let p = BroadcastParams::new(&[2], &[]).unwrap();
        let mut z = [0u8; 2];
        bitwise(BitwiseOp::Xor, &[0b1100u8, 0b1010], &[0b0110], &mut z, &p);
        assert_eq!(z, [0b1010, 0b1100]);
        bitwise_not(&[0u8, 255], &mut z);
        assert_eq!(z, [255, 0]);
    }

    #[test]
    fn space_depth_roundtrip() {
        // [1, 4, 1, 1] -> DCR DepthToSpace b=2 -> [1, 1, 2, 2]
        let p = SpaceDepthParams {
            batch: 1,
            channels: 4,
            height: 1,
            width: 1,
            block: 2,
            crd: false,
        };
        let mut y = [0; 4];
        depth_to_space(&[1, 2, 3, 4], &mut y, &p);
        assert_eq!(y, [1, 2, 3, 4]);
        let x: [i32; 16] = core::array::from_fn(|i| i as i32);
        let p = SpaceDepthParams {
            batch: 1,
            channels: 1,
            height: 4,
            width: 4,
            block: 2,
            crd: false,
        };
        let mut s = [0; 16];
        space_to_depth(&x, &mut s, &p);
        assert_eq!(&s[..4], &[0, 2, 8, 10]);
        let q = SpaceDepthParams {
            batch: 1,
            channels: 4,
            height: 2,
            width: 2,
            block: 2,
            crd: false,
        };
        let mut back = [0; 16];
        depth_to_space(&s, &mut back, &q);
        assert_eq!(back, x);
    }

    #[test]
    fn one_hot_scatter_gather_topk() {
        let mut y = [0.0f32; 6];
        one_hot(&[1, -1], &mut y, 2, 3, 1, 0.0, 1.0);
        assert_eq!(y, [0.0, 1.0, 0.0, 0.0, 0.0, 1.0]);
        // ScatterND ONNX example 1: data 1..8, indices [[4],[3],[1],[7]], updates [9,10,11,12]
        let x = [1i32, 2, 3, 4, 5, 6, 7, 8];
        let mut z = [0i32; 8];
        scatter_nd(
            &x,
            &[4, 3, 1, 7],
            &[9, 10, 11, 12],
            &mut z,
            &[8],
            1,
            ScatterReduction::None,
        );
        assert_eq!(z, [1, 11, 3, 10, 9, 6, 7, 12]);
        let mut g = [0i32; 2];
        gather_nd(&x, &[3, 0], &mut g, &[8], 1);
        assert_eq!(g, [4, 1]);
        // ScatterElements axis 1: data [[1,2,3,4,5]], indices [[1,3]], updates [[1.1,2.1]]
        let mut w = [0.0f32; 5];
        scatter_elements(
            &[1.0, 2.0, 3.0, 4.0, 5.0],
            &[1, 3],
            &[1.1, 2.1],
            &mut w,
            &AxisParams {
                outer: 1,
                axis_len: 5,
                inner: 1,
            },
            2,
            ScatterReduction::None,
        );
        assert_eq!(w, [1.0, 1.1, 3.0, 2.1, 5.0]);
        let (mut v, mut ix) = ([0.0f32; 2], [0i64; 2]);
        top_k(
            &[3.0, 1.0, 3.0, 2.0],
            &mut v,
            &mut ix,
            &AxisParams {
                outer: 1,
                axis_len: 4,
                inner: 1,
            },
            2,
            true,
        );
        assert_eq!((v, ix), ([3.0, 3.0], [0, 2]));
        top_k(
            &[3.0, 1.0, 3.0, 2.0],
            &mut v,
            &mut ix,
            &AxisParams {
                outer: 1,
                axis_len: 4,
                inner: 1,
            },
            2,
            false,
        );
        assert_eq!((v, ix), ([1.0, 2.0], [1, 3]));
    }
}
