//! Shared by the float kernel property tests (`fast_kernels.rs`, `inplace.rs`):
//! seeded data, the tolerance check and the reference convolution they compare with.

use zant_kernels::reference::activation::Activation;
use zant_kernels::reference::conv::{conv, ConvParams};

/// `n` values in [-1, 1] from a xorshift seeded with `seed`.
pub fn vals(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s % 2001) as f32 - 1000.0) / 1000.0
        })
        .collect()
}

/// Asserts `got` equals `want` within a tolerance growing with the reduction length `k`.
pub fn close(got: &[f32], want: &[f32], k: usize, what: &str) {
    assert_eq!(got.len(), want.len());
    let tol = 1e-5 * (k as f32 + 1.0);
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol, "{what}: [{i}] {g} vs {w}");
    }
}

/// The reference convolution of one image (`c` channels of `hw`) into `m` channels
/// with a `k` kernel, strides `s` and pads `pb`/`pe`; returns the output and its size.
#[allow(clippy::too_many_arguments)]
pub fn reference_conv(
    x: &[f32],
    w: &[f32],
    b: &[f32],
    c: usize,
    m: usize,
    group: usize,
    hw: [usize; 2],
    k: [usize; 2],
    s: [usize; 2],
    pb: [usize; 2],
    pe: [usize; 2],
    act: Activation,
) -> (Vec<f32>, [usize; 2]) {
    let oh = (hw[0] + pb[0] + pe[0] - k[0]) / s[0] + 1;
    let ow = (hw[1] + pb[1] + pe[1] - k[1]) / s[1] + 1;
    let p = ConvParams {
        batch: 1,
        in_channels: c,
        out_channels: m,
        group,
        in_spatial: [1, hw[0], hw[1]],
        out_spatial: [1, oh, ow],
        kernel: [1, k[0], k[1]],
        strides: [1, s[0], s[1]],
        dilations: [1, 1, 1],
        pads_begin: [0, pb[0], pb[1]],
        pads_end: [0, pe[0], pe[1]],
        activation: act,
    };
    let mut y = vec![0f32; m * oh * ow];
    conv(x, w, Some(b), &mut y, &p);
    (y, [oh, ow])
}
