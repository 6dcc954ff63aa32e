//! Depthwise 2-D convolution (batch 1, `group = C = M`, any strides and
//! padding, no dilation): one `kH × kW` filter per channel, weights as in
//! ONNX (`[C][1][kH][kW]`). 3×3 and 5×5 filters are held in registers
//! (const-generic size, loops unrolled); positions whose window lies inside
//! the input run without bounds; other sizes take a generic loop.

use super::super::reference::activation::Activation;
use super::act;
use super::conv::taps;

/// Parameters of [`depthwise`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DepthwiseParams {
    /// Channels (input = output).
    pub channels: usize,
    /// Input height and width.
    pub in_hw: [usize; 2],
    /// Output height and width.
    pub out_hw: [usize; 2],
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Strides.
    pub strides: [usize; 2],
    /// Padding at the top and left.
    pub pads_begin: [usize; 2],
    /// Activation applied to every output.
    pub activation: Activation,
}

/// `y[c] = act(x[c] ⋆ w[c] + bias[c])` for every channel.
#[inline(never)]
pub fn depthwise(x: &[f32], w: &[f32], bias: Option<&[f32]>, y: &mut [f32], p: &DepthwiseParams) {
    match p.kernel {
        [3, 3] => channels::<3>(x, w, bias, y, p),
        [5, 5] => channels::<5>(x, w, bias, y, p),
        _ => generic(x, w, bias, y, p),
    }
}

#[inline(always)]
fn channels<const K: usize>(
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    p: &DepthwiseParams,
) {
    let [h, iw] = p.in_hw;
    let [oh, ow] = p.out_hw;
    let [sh, sw] = p.strides;
    let [ph, pw] = p.pads_begin;
    for c in 0..p.channels {
        let xp = &x[c * h * iw..][..h * iw];
        let wc: [[f32; K]; K] =
            core::array::from_fn(|ky| core::array::from_fn(|kx| w[(c * K + ky) * K + kx]));
        let b = bias.map_or(0.0, |b| b[c]);
        let yp = &mut y[c * oh * ow..][..oh * ow];
        for oy in 0..oh {
            let iy0 = (oy * sh) as isize - ph as isize;
            let (ky0, ky1) = taps(iy0, K, h);
            let yr = &mut yp[oy * ow..][..ow];
            for (ox, yv) in yr.iter_mut().enumerate() {
                let ix0 = (ox * sw) as isize - pw as isize;
                let mut s = b;
                if ix0 >= 0 && ix0 as usize + K <= iw {
                    for (ky, wr) in wc.iter().enumerate().take(ky1).skip(ky0) {
                        let iy = (iy0 + ky as isize) as usize;
                        let xr: &[f32; K] = xp[iy * iw + ix0 as usize..][..K]
                            .try_into()
                            .expect("K elements");
                        for kx in 0..K {
                            s += xr[kx] * wr[kx];
                        }
                    }
                } else {
                    let (kx0, kx1) = taps(ix0, K, iw);
                    for (ky, wr) in wc.iter().enumerate().take(ky1).skip(ky0) {
                        let iy = (iy0 + ky as isize) as usize;
                        for (kx, &wv) in wr.iter().enumerate().take(kx1).skip(kx0) {
                            s += xp[iy * iw + (ix0 + kx as isize) as usize] * wv;
                        }
                    }
                }
                *yv = act(p.activation, s);
            }
        }
    }
}

fn generic(x: &[f32], w: &[f32], bias: Option<&[f32]>, y: &mut [f32], p: &DepthwiseParams) {
    let [h, iw] = p.in_hw;
    let [oh, ow] = p.out_hw;
    let [kh, kw] = p.kernel;
    let [sh, sw] = p.strides;
    let [ph, pw] = p.pads_begin;
    for c in 0..p.channels {
        let b = bias.map_or(0.0, |b| b[c]);
        for oy in 0..oh {
            let iy0 = (oy * sh) as isize - ph as isize;
            let (ky0, ky1) = taps(iy0, kh, h);
            for ox in 0..ow {
                let ix0 = (ox * sw) as isize - pw as isize;
                let (kx0, kx1) = taps(ix0, kw, iw);
                let mut s = b;
                for ky in ky0..ky1 {
                    let iy = (iy0 + ky as isize) as usize;
                    for kx in kx0..kx1 {
                        let ix = (ix0 + kx as isize) as usize;
                        s += x[(c * h + iy) * iw + ix] * w[(c * kh + ky) * kw + kx];
                    }
                }
                y[(c * oh + oy) * ow + ox] = act(p.activation, s);
            }
        }
    }
}
