//! N-d padding (ONNX `Pad`) for any element type: constant, reflect, edge
//! and wrap modes; negative pads crop.

use super::shape::{contiguous_strides, numel, Dims, MAX_RANK};

/// How values outside the input are produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PadMode {
    /// A constant value.
    Constant,
    /// Mirror without repeating the edge (`[a b c]` -> `c b | a b c | b a`).
    Reflect,
    /// Repeat the edge value.
    Edge,
    /// Wrap around (opset 19 `wrap`).
    Wrap,
}

/// Parameters of [`pad`]. `out_shape[d] = in_shape[d] + pads_begin[d] +
/// pads_end[d]` (the generator computes it; the end pads are implied).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PadParams {
    /// Rank (0..=6).
    pub rank: usize,
    /// Input shape.
    pub in_shape: Dims,
    /// Output shape.
    pub out_shape: Dims,
    /// Padding before each axis (negative = crop).
    pub pads_begin: [isize; MAX_RANK],
    /// Padding mode.
    pub mode: PadMode,
}

/// Maps an input coordinate that may lie outside `0..n` to a real one.
#[inline]
fn map_index(i: isize, n: usize, mode: PadMode) -> Option<usize> {
    let n = n as isize;
    if (0..n).contains(&i) {
        return Some(i as usize);
    }
    if n == 0 {
        return None;
    }
    match mode {
        PadMode::Constant => None,
        PadMode::Edge => Some(if i < 0 { 0 } else { (n - 1) as usize }),
        PadMode::Wrap => Some(i.rem_euclid(n) as usize),
        PadMode::Reflect => {
            if n == 1 {
                return Some(0);
            }
            let period = 2 * (n - 1);
            let m = i.rem_euclid(period);
            Some(if m >= n {
                (period - m) as usize
            } else {
                m as usize
            })
        }
    }
}

/// `y = pad(x)`; `value` is used by [`PadMode::Constant`].
pub fn pad<T: Copy>(x: &[T], y: &mut [T], value: T, p: &PadParams) {
    let r = p.rank;
    if r == 0 {
        if let (Some(o), Some(&v)) = (y.first_mut(), x.first()) {
            *o = v;
        }
        return;
    }
    let si = contiguous_strides(&p.in_shape, r);
    let out_n = p.out_shape[r - 1];
    let in_n = p.in_shape[r - 1];
    let pb = p.pads_begin[r - 1];
    // Output positions that map straight into the input row.
    let lo = pb.clamp(0, out_n as isize) as usize;
    let hi = (pb + in_n as isize).clamp(lo as isize, out_n as isize) as usize;
    let rows = numel(&p.out_shape, r - 1);
    let mut idx = [0usize; MAX_RANK];
    for row in 0..rows {
        let mut base = Some(0usize);
        for d in 0..r - 1 {
            base = match (
                base,
                map_index(idx[d] as isize - p.pads_begin[d], p.in_shape[d], p.mode),
            ) {
                (Some(b), Some(i)) => Some(b + i * si[d] as usize),
                _ => None,
            };
        }
        let yr = &mut y[row * out_n..][..out_n];
        match base {
            None => yr.fill(value),
            Some(b) => {
                let xr = &x[b..b + in_n];
                for (o, v) in yr.iter_mut().enumerate().take(lo) {
                    *v = map_index(o as isize - pb, in_n, p.mode).map_or(value, |i| xr[i]);
                }
                if hi > lo {
                    let s = (lo as isize - pb) as usize;
                    yr[lo..hi].copy_from_slice(&xr[s..s + (hi - lo)]);
                }
                for (o, v) in yr.iter_mut().enumerate().skip(hi) {
                    *v = map_index(o as isize - pb, in_n, p.mode).map_or(value, |i| xr[i]);
                }
            }
        }
        // Advance the odometer over the outer dims.
        let mut d = r - 1;
        while d > 0 {
            d -= 1;
            idx[d] += 1;
            if idx[d] < p.out_shape[d] {
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

    fn params(inp: &[usize], pb: &[isize], pe: &[isize], mode: PadMode) -> PadParams {
        let r = inp.len();
        let mut out = [1usize; MAX_RANK];
        let mut b = [0isize; MAX_RANK];
        for d in 0..r {
            out[d] = (inp[d] as isize + pb[d] + pe[d]) as usize;
            b[d] = pb[d];
        }
        PadParams {
            rank: r,
            in_shape: dims(inp),
            out_shape: out,
            pads_begin: b,
            mode,
        }
    }

    #[test]
    fn onnx_doc_examples() {
        // ONNX Pad docs: data [[1.0,1.2],[2.3,3.4],[4.5,5.7]], pads [0,2,0,0].
        let x = [1.0f32, 1.2, 2.3, 3.4, 4.5, 5.7];
        let mut y = [0.0f32; 12];
        pad(
            &x,
            &mut y,
            0.0,
            &params(&[3, 2], &[0, 2], &[0, 0], PadMode::Constant),
        );
        assert_eq!(
            y,
            [0.0, 0.0, 1.0, 1.2, 0.0, 0.0, 2.3, 3.4, 0.0, 0.0, 4.5, 5.7]
        );
        pad(
            &x,
            &mut y,
            0.0,
            &params(&[3, 2], &[0, 2], &[0, 0], PadMode::Reflect),
        );
        assert_eq!(
            y,
            [1.0, 1.2, 1.0, 1.2, 2.3, 3.4, 2.3, 3.4, 4.5, 5.7, 4.5, 5.7]
        );
        pad(
            &x,
            &mut y,
            0.0,
            &params(&[3, 2], &[0, 2], &[0, 0], PadMode::Edge),
        );
        assert_eq!(
            y,
            [1.0, 1.0, 1.0, 1.2, 2.3, 2.3, 2.3, 3.4, 4.5, 4.5, 4.5, 5.7]
        );
        // wrap: data 3x2, pads [2,1,1,1] -> np.pad(x, ((2,1),(1,1)), 'wrap')
        let mut y = [0.0f32; 24];
        pad(
            &x,
            &mut y,
            0.0,
            &params(&[3, 2], &[2, 1], &[1, 1], PadMode::Wrap),
        );
        assert_eq!(
            y,
            [
                3.4, 2.3, 3.4, 2.3, 5.7, 4.5, 5.7, 4.5, 1.2, 1.0, 1.2, 1.0, 3.4, 2.3, 3.4, 2.3,
                5.7, 4.5, 5.7, 4.5, 1.2, 1.0, 1.2, 1.0
            ]
        );
    }

    #[test]
    fn reflect_both_sides_and_crop() {
        // np.pad([1,2,3], (2,2), 'reflect') = [3,2,1,2,3,2,1]
        let mut y = [0i32; 7];
        pad(
            &[1, 2, 3],
            &mut y,
            0,
            &params(&[3], &[2], &[2], PadMode::Reflect),
        );
        assert_eq!(y, [3, 2, 1, 2, 3, 2, 1]);
        // crop: pads [-1, 1] on [1,2,3] -> [2,3,9]
        let mut y = [0i32; 3];
        pad(
            &[1, 2, 3],
            &mut y,
            9,
            &params(&[3], &[-1], &[1], PadMode::Constant),
        );
        assert_eq!(y, [2, 3, 9]);
        // outer-axis constant rows
        let mut y = [0i32; 6];
        pad(
            &[1, 2],
            &mut y,
            7,
            &params(&[1, 2], &[1, 0], &[1, 0], PadMode::Constant),
        );
        assert_eq!(y, [7, 7, 1, 2, 7, 7]);
    }
}
