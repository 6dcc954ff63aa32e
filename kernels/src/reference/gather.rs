//! Gather along one axis, and GatherElements, for any element type.

/// `x` viewed as `[outer, axis_len, inner]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GatherParams {
    /// Product of the dims before the axis.
    pub outer: usize,
    /// Length of the gathered axis.
    pub axis_len: usize,
    /// Product of the dims after the axis.
    pub inner: usize,
}

/// Normalizes a possibly negative index (ONNX allows `-axis_len..axis_len`).
#[inline(always)]
fn norm_index(i: i64, n: usize) -> usize {
    let j = if i < 0 { i + n as i64 } else { i };
    debug_assert!(j >= 0 && (j as usize) < n, "gather index out of range");
    j as usize
}

/// `Gather`: `y[o, j, i] = x[o, indices[j], i]`; `y` is
/// `[outer, indices.len(), inner]` (the indices' own shape flattened).
pub fn gather<T: Copy>(x: &[T], indices: &[i64], y: &mut [T], p: &GatherParams) {
    let (n, inner) = (p.axis_len, p.inner);
    let m = indices.len();
    for o in 0..p.outer {
        for (j, &ix) in indices.iter().enumerate() {
            let k = norm_index(ix, n);
            let src = &x[(o * n + k) * inner..][..inner];
            y[(o * m + j) * inner..][..inner].copy_from_slice(src);
        }
    }
}

/// `GatherElements` with `indices` and `y` shaped `[outer, idx_axis_len,
/// inner]` and `x` shaped `[outer, p.axis_len, inner]`:
/// `y[o, j, i] = x[o, indices[o, j, i], i]`.
pub fn gather_elements<T: Copy>(
    x: &[T],
    indices: &[i64],
    y: &mut [T],
    p: &GatherParams,
    idx_axis_len: usize,
) {
    let (n, inner) = (p.axis_len, p.inner);
    for o in 0..p.outer {
        for j in 0..idx_axis_len {
            for i in 0..inner {
                let at = (o * idx_axis_len + j) * inner + i;
                let k = norm_index(indices[at], n);
                y[at] = x[(o * n + k) * inner + i];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gather_axis0_and_axis1() {
        // ONNX doc: data [[1,1.2],[2.3,3.4],[4.5,5.7]], indices [[0,1],[1,2]] axis 0
        let x = [1.0f32, 1.2, 2.3, 3.4, 4.5, 5.7];
        let mut y = [0.0f32; 8];
        gather(
            &x,
            &[0, 1, 1, 2],
            &mut y,
            &GatherParams {
                outer: 1,
                axis_len: 3,
                inner: 2,
            },
        );
        assert_eq!(y, [1.0, 1.2, 2.3, 3.4, 2.3, 3.4, 4.5, 5.7]);
        // axis 1 of [3,3] with indices [0, 2] and a negative index -1
        let x = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        let mut y = [0; 6];
        gather(
            &x,
            &[0, -1],
            &mut y,
            &GatherParams {
                outer: 3,
                axis_len: 3,
                inner: 1,
            },
        );
        assert_eq!(y, [1, 3, 4, 6, 7, 9]);
    }

    #[test]
    fn gather_elements_axis1() {
        // ONNX doc: data [[1,2],[3,4]], indices [[0,0],[1,0]], axis 1 -> [[1,1],[4,3]]
        let mut y = [0; 4];
        gather_elements(
            &[1, 2, 3, 4],
            &[0, 0, 1, 0],
            &mut y,
            &GatherParams {
                outer: 2,
                axis_len: 2,
                inner: 1,
            },
            2,
        );
        assert_eq!(y, [1, 1, 4, 3]);
    }
}
