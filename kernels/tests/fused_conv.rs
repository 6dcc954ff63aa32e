//! The fused direct convolution equals reference conv (+ reference max pool).

use proptest::prelude::*;
use zant_kernels::fused::conv2d::{self, Conv2dParams, MaxPoolFuse};
use zant_kernels::reference::activation::Activation;
use zant_kernels::reference::conv::{conv, ConvParams};
use zant_kernels::reference::pool::{max_pool, PoolParams};

fn vals(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s % 2001) as f32 - 1000.0) / 500.0
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn check(
    c: usize,
    m: usize,
    h: usize,
    w: usize,
    k: [usize; 2],
    pad: [usize; 2],
    pool: Option<([usize; 2], [usize; 2])>,
    seed: u64,
) {
    let ch = h + 2 * pad[0] + 1 - k[0];
    let cw = w + 2 * pad[1] + 1 - k[1];
    let x = vals(c * h * w, seed);
    let wt = vals(m * c * k[0] * k[1], seed ^ 0xabc);
    let b = vals(m, seed ^ 0x123);
    let rp = ConvParams {
        batch: 1,
        in_channels: c,
        out_channels: m,
        group: 1,
        in_spatial: [1, h, w],
        out_spatial: [1, ch, cw],
        kernel: [1, k[0], k[1]],
        strides: [1, 1, 1],
        dilations: [1, 1, 1],
        pads_begin: [0, pad[0], pad[1]],
        pads_end: [0, pad[0], pad[1]],
        activation: Activation::Relu,
    };
    let mut yc = vec![0f32; m * ch * cw];
    conv(&x, &wt, Some(&b), &mut yc, &rp);
    let mut packed = vec![0f32; conv2d::packed_len(m, c, k[0], k[1])];
    conv2d::pack_weights(&wt, m, c, k[0], k[1], &mut packed);
    let (want, fuse) = match pool {
        None => (yc, None),
        Some((pk, ps)) => {
            let oh = (ch - pk[0]) / ps[0] + 1;
            let ow = (cw - pk[1]) / ps[1] + 1;
            let pp = PoolParams {
                batch: 1,
                channels: m,
                in_spatial: [1, ch, cw],
                out_spatial: [1, oh, ow],
                kernel: [1, pk[0], pk[1]],
                strides: [1, ps[0], ps[1]],
                dilations: [1, 1, 1],
                pads_begin: [0, 0, 0],
                pads_end: [0, 0, 0],
                count_include_pad: false,
            };
            let mut yp = vec![0f32; m * oh * ow];
            max_pool(&yc, &mut yp, &pp);
            (
                yp,
                Some(MaxPoolFuse {
                    kernel: pk,
                    strides: ps,
                    pads_begin: [0, 0],
                    out: [oh, ow],
                }),
            )
        }
    };
    let p = Conv2dParams {
        in_channels: c,
        out_channels: m,
        in_hw: [h, w],
        conv_hw: [ch, cw],
        kernel: k,
        pads_begin: pad,
        activation: Activation::Relu,
        pool: fuse,
        positions: 2 + (seed % 2) as usize,
    };
    let mut got = vec![0f32; want.len()];
    conv2d::conv2d(&x, &packed, Some(&b), &mut got, &p);
    for (i, (a, b)) in got.iter().zip(&want).enumerate() {
        assert!(
            (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
            "element {i}: {a} vs {b}"
        );
    }
}

#[test]
fn mnist_shapes() {
    check(1, 8, 28, 28, [5, 5], [2, 2], Some(([2, 2], [2, 2])), 1);
    check(8, 16, 14, 14, [5, 5], [2, 2], Some(([3, 3], [3, 3])), 2);
    check(8, 16, 14, 14, [5, 5], [2, 2], None, 3);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn matches_reference(c in 1usize..4, m in 1usize..10, h in 3usize..12, w in 3usize..12,
                         kh in 1usize..4, kw in prop::sample::select(vec![1usize, 2, 3, 4, 5]),
                         pad in 0usize..2, pk in 1usize..5, seed in any::<u64>(), fuse in any::<bool>()) {
        prop_assume!(h + 2 * pad >= kh && w + 2 * pad >= kw);
        let ch = h + 2 * pad + 1 - kh;
        let cw = w + 2 * pad + 1 - kw;
        let pool = if fuse && ch >= pk && cw >= pk { Some(([pk, pk], [pk, pk])) } else { None };
        check(c, m, h, w, [kh, kw], [pad, pad], pool, seed);
    }
}
