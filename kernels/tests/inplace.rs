//! The in-place drivers (`fast::inplace`) against the reference convolution
//! and bit for bit against their out-of-place twins, over random shapes
//! (channel counts not multiples of the blocking, pixel counts not multiples
//! of the tile, output channels fewer or more than the input's).

use proptest::prelude::*;
use zant_kernels::fast::depthwise::{depthwise, DepthwiseParams};
use zant_kernels::fast::inplace::{
    depthwise_inplace, depthwise_scratch_len, pointwise_inplace, pointwise_scratch_len,
    PointwiseParams, DEPTHWISE_SLACK,
};
use zant_kernels::fast::matmul::{matmul, MatmulParams};
use zant_kernels::fast::{pack_rows, packed_len};
use zant_kernels::micro::{Micro, Portable};
use zant_kernels::reference::activation::Activation;

mod support;
use support::{close, reference_conv, vals};

/// 1×1 convolution over its own input: equals the reference convolution,
/// and the out-of-place packed product bit for bit.
fn check_pointwise<M: Micro>(c: usize, m: usize, hw: [usize; 2], seed: u64) {
    let x = vals(c * hw[0] * hw[1], seed);
    let w = vals(m * c, seed ^ 0x55);
    let b = vals(m, seed ^ 0x77);
    let act = Activation::Clip { min: 0.0, max: 6.0 };
    let (want, _) = reference_conv(&x, &w, &b, c, m, 1, hw, [1, 1], [1, 1], [0, 0], [0, 0], act);
    let n = hw[0] * hw[1];
    let mut wp = vec![0f32; packed_len(m, c, 4)];
    pack_rows::<4>(&w, m, c, c, 1, &mut wp);
    let mut twin = vec![f32::NAN; m * n];
    matmul::<M>(
        &wp,
        &x,
        Some(&b),
        &mut twin,
        &MatmulParams {
            m,
            k: c,
            n,
            ldb: n,
            sb: 1,
            ldy: n,
            sy: 1,
            activation: act,
        },
    );
    let mut buf = x.clone();
    buf.resize(m.max(c) * n, f32::NAN);
    let mut scratch = vec![f32::NAN; pointwise_scratch_len(c, n)];
    pointwise_inplace::<M>(
        &wp,
        Some(&b),
        &mut buf,
        &mut scratch,
        &PointwiseParams {
            m,
            k: c,
            n,
            activation: act,
        },
    );
    let got = &buf[..m * n];
    close(got, &want, c, "pointwise in place");
    assert!(
        got.iter()
            .zip(&twin)
            .all(|(a, b)| a.to_bits() == b.to_bits()),
        "pointwise in place differs from matmul"
    );
}

/// Depthwise convolution over its own input (output plane no larger).
#[allow(clippy::too_many_arguments)]
fn check_depthwise(
    c: usize,
    hw: [usize; 2],
    k: usize,
    s: [usize; 2],
    pb: [usize; 2],
    pe: [usize; 2],
    seed: u64,
) {
    let x = vals(c * hw[0] * hw[1], seed);
    let w = vals(c * k * k, seed ^ 0x3);
    let b = vals(c, seed ^ 0x4);
    let act = Activation::Relu;
    let (want, out_hw) = reference_conv(&x, &w, &b, c, c, c, hw, [k, k], s, pb, pe, act);
    let p = DepthwiseParams {
        channels: c,
        in_hw: hw,
        out_hw,
        kernel: [k, k],
        strides: s,
        pads_begin: pb,
        activation: act,
    };
    let mut twin = vec![f32::NAN; want.len()];
    depthwise::<Portable>(&x, &w, Some(&b), &mut twin, &p);
    let mut buf = x.clone();
    let mut scratch = vec![f32::NAN; depthwise_scratch_len(&p)];
    depthwise_inplace::<Portable>(&w, Some(&b), &mut buf, &mut scratch, &p);
    let got = &buf[..want.len()];
    close(got, &want, k * k, "depthwise in place");
    assert!(
        got.iter()
            .zip(&twin)
            .all(|(a, b)| a.to_bits() == b.to_bits()),
        "depthwise in place differs from depthwise"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn pointwise_inplace_matches_reference(
        c in 1usize..21, m in 1usize..25, h in 1usize..9, w in 1usize..11,
        seed in any::<u64>(),
    ) {
        check_pointwise::<Portable>(c, m, [h, w], seed);
    }

    #[test]
    fn depthwise_inplace_matches_reference(
        c in 1usize..6, h in 1usize..14, w in 1usize..14,
        k in prop::sample::select(vec![1usize, 2, 3, 5]),
        sh in 1usize..3, sw in 1usize..3,
        pt in 0usize..3, pl in 0usize..3, pbot in 0usize..3, pr in 0usize..3,
        seed in any::<u64>(),
    ) {
        // Square strides mostly, the shapes the plane kernels take.
        let sw = if seed % 4 == 0 { sw } else { sh };
        prop_assume!(h + pt + pbot >= k && w + pl + pr >= k);
        prop_assume!(pt < k && pbot < k && pl < k && pr < k);
        let oh = (h + pt + pbot - k) / sh + 1;
        let ow = (w + pl + pr - k) / sw + 1;
        prop_assume!(oh * ow <= h * w);
        check_depthwise(c, [h, w], k, [sh, sw], [pt, pl], [pbot, pr], seed);
    }
}

/// The scratch of the padded rows is no larger than the one input plane the
/// planner gave before (small planes: a few floats more), on the depthwise shapes of the benchmark models
/// (DS-CNN's 25×5 planes, MobileNetV1's strided and unstrided ones).
#[test]
fn depthwise_scratch_within_one_plane() {
    for (hw, s, out_hw) in [
        ([25, 5], 1, [25, 5]),
        ([48, 48], 1, [48, 48]),
        ([48, 48], 2, [24, 24]),
        ([12, 12], 2, [6, 6]),
        ([6, 6], 1, [6, 6]),
        ([3, 3], 1, [3, 3]),
    ] {
        let p = DepthwiseParams {
            channels: 8,
            in_hw: hw,
            out_hw,
            kernel: [3, 3],
            strides: [s, s],
            pads_begin: [1, 1],
            activation: Activation::Relu,
        };
        let len = depthwise_scratch_len(&p);
        let plane = hw[0] * hw[1];
        // Small planes may take their padded plane whole, a little more.
        assert!(
            len <= plane + DEPTHWISE_SLACK,
            "{hw:?} s{s}: {len} > {plane}"
        );
    }
}
