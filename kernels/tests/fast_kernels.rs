//! One property-test suite per signature of the `fast` drivers, each
//! instantiated for every micro-kernel variant that runs on the host, against
//! the reference kernels (random shapes, strides, pads, channel counts that
//! are not multiples of the blocking).

use proptest::prelude::*;
use zant_kernels::fast::conv::{self as fconv, DirectConvParams, MaxPoolFuse};
use zant_kernels::fast::depthwise::{depthwise, DepthwiseParams};
use zant_kernels::fast::inplace::{depthwise_inplace, depthwise_scratch_len};
use zant_kernels::fast::matmul::{matmul, matvec, MatmulParams};
use zant_kernels::fast::{pack_rows, packed_len};
use zant_kernels::micro::{Micro, Portable};
use zant_kernels::reference::activation::Activation;
use zant_kernels::reference::gemm::{gemm, GemmParams};
use zant_kernels::reference::pool::{max_pool, PoolParams};

mod support;
use support::{close, reference_conv, vals};

/// The indirect direct convolution equals the reference convolution.
#[allow(clippy::too_many_arguments)]
fn check_direct<M: Micro>(
    c: usize,
    m: usize,
    hw: [usize; 2],
    k: [usize; 2],
    s: [usize; 2],
    pb: [usize; 2],
    pe: [usize; 2],
    seed: u64,
) {
    let x = vals(c * hw[0] * hw[1], seed);
    let w = vals(m * c * k[0] * k[1], seed ^ 0xabc);
    let b = vals(m, seed ^ 0x123);
    let (want, out_hw) = reference_conv(&x, &w, &b, c, m, 1, hw, k, s, pb, pe, Activation::Relu);
    let kk = c * k[0] * k[1];
    let mut wp = vec![0f32; packed_len(m, kk, 4)];
    pack_rows::<4>(&w, m, kk, kk, 1, &mut wp);
    let mut offs = vec![0u32; kk];
    fconv::offsets(c, hw, k, &mut offs);
    let mut y = vec![f32::NAN; want.len()];
    fconv::conv::<M>(
        &x,
        &wp,
        &offs,
        Some(&b),
        &mut y,
        &DirectConvParams {
            in_channels: c,
            out_channels: m,
            in_hw: hw,
            out_hw,
            kernel: k,
            strides: s,
            pads_begin: pb,
            activation: Activation::Relu,
        },
    );
    close(&y, &want, kk, "direct conv");
    // The same convolution as a matrix product over gathered columns.
    let p = DirectConvParams {
        in_channels: c,
        out_channels: m,
        in_hw: hw,
        out_hw,
        kernel: k,
        strides: s,
        pads_begin: pb,
        activation: Activation::Relu,
    };
    let mut col = vec![f32::NAN; fconv::im2col_len(&p)];
    let mut y = vec![f32::NAN; want.len()];
    fconv::conv_im2col::<M>(&x, &wp, Some(&b), &mut col, &mut y, &p);
    close(&y, &want, kk, "direct conv (im2col)");
}

/// The convolution with a fused residual Add and Relu equals, bit for bit,
/// the convolution alone followed by the Add and the Relu.
#[allow(clippy::too_many_arguments)]
fn check_residual<M: Micro>(
    c: usize,
    m: usize,
    hw: [usize; 2],
    k: [usize; 2],
    s: [usize; 2],
    pb: [usize; 2],
    pe: [usize; 2],
    seed: u64,
) {
    let x = vals(c * hw[0] * hw[1], seed);
    let w = vals(m * c * k[0] * k[1], seed ^ 0xabc);
    let b = vals(m, seed ^ 0x123);
    let (_, out_hw) = reference_conv(&x, &w, &b, c, m, 1, hw, k, s, pb, pe, Activation::None);
    let kk = c * k[0] * k[1];
    let mut wp = vec![0f32; packed_len(m, kk, 4)];
    pack_rows::<4>(&w, m, kk, kk, 1, &mut wp);
    let mut offs = vec![0u32; kk];
    fconv::offsets(c, hw, k, &mut offs);
    let p = DirectConvParams {
        in_channels: c,
        out_channels: m,
        in_hw: hw,
        out_hw,
        kernel: k,
        strides: s,
        pads_begin: pb,
        activation: Activation::None,
    };
    let skip = vals(m * out_hw[0] * out_hw[1], seed ^ 0x5eed);
    let mut conv_out = vec![f32::NAN; skip.len()];
    fconv::conv::<M>(&x, &wp, &offs, Some(&b), &mut conv_out, &p);
    let want: Vec<f32> = skip
        .iter()
        .zip(&conv_out)
        .map(|(s, v)| Activation::Relu.apply(s + v))
        .collect();
    let mut y = skip.clone();
    fconv::conv_residual::<M>(
        &x,
        &wp,
        &offs,
        Some(&b),
        &mut y,
        &DirectConvParams {
            activation: Activation::Relu,
            ..p
        },
    );
    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&y), bits(&want), "conv with a fused residual add");
}

/// The indirect direct convolution with a fused max pooling (non-overlapping
/// windows, padded) equals the reference convolution followed by the
/// reference max pool.
#[allow(clippy::too_many_arguments)]
fn check_direct_pool<M: Micro>(
    c: usize,
    m: usize,
    hw: [usize; 2],
    k: [usize; 2],
    s: [usize; 2],
    pad: [usize; 2],
    pool_k: [usize; 2],
    pool_s: [usize; 2],
    pool_pad: [usize; 2],
    seed: u64,
) {
    let x = vals(c * hw[0] * hw[1], seed);
    let w = vals(m * c * k[0] * k[1], seed ^ 0xabc);
    let b = vals(m, seed ^ 0x123);
    let (yc, out_hw) = reference_conv(&x, &w, &b, c, m, 1, hw, k, s, pad, pad, Activation::Relu);
    let [ch, cw] = out_hw;
    if ch + 2 * pool_pad[0] < pool_k[0] || cw + 2 * pool_pad[1] < pool_k[1] {
        return;
    }
    let pooled = [
        (ch + 2 * pool_pad[0] - pool_k[0]) / pool_s[0] + 1,
        (cw + 2 * pool_pad[1] - pool_k[1]) / pool_s[1] + 1,
    ];
    let pp = PoolParams {
        batch: 1,
        channels: m,
        in_spatial: [1, ch, cw],
        out_spatial: [1, pooled[0], pooled[1]],
        kernel: [1, pool_k[0], pool_k[1]],
        strides: [1, pool_s[0], pool_s[1]],
        dilations: [1, 1, 1],
        pads_begin: [0, pool_pad[0], pool_pad[1]],
        pads_end: [0, pool_pad[0], pool_pad[1]],
        count_include_pad: false,
    };
    let mut want = vec![0f32; m * pooled[0] * pooled[1]];
    max_pool(&yc, &mut want, &pp);
    let kk = c * k[0] * k[1];
    let mut wp = vec![0f32; packed_len(m, kk, 4)];
    pack_rows::<4>(&w, m, kk, kk, 1, &mut wp);
    let mut offs = vec![0u32; kk];
    fconv::offsets(c, hw, k, &mut offs);
    let mut y = vec![f32::NAN; want.len()];
    fconv::conv_max_pool::<M>(
        &x,
        &wp,
        &offs,
        Some(&b),
        &mut y,
        &DirectConvParams {
            in_channels: c,
            out_channels: m,
            in_hw: hw,
            out_hw,
            kernel: k,
            strides: s,
            pads_begin: pad,
            activation: Activation::Relu,
        },
        MaxPoolFuse {
            kernel: pool_k,
            strides: pool_s,
            pads_begin: pool_pad,
            out: pooled,
        },
    );
    close(&y, &want, kk, "direct conv + max pool");
    // The any-activation driver gives the same result.
    let p = DirectConvParams {
        in_channels: c,
        out_channels: m,
        in_hw: hw,
        out_hw,
        kernel: k,
        strides: s,
        pads_begin: pad,
        activation: Activation::Relu,
    };
    let fuse = MaxPoolFuse {
        kernel: pool_k,
        strides: pool_s,
        pads_begin: pool_pad,
        out: pooled,
    };
    let mut y2 = vec![f32::NAN; want.len()];
    fconv::conv_max_pool_act::<M>(&x, &wp, &offs, Some(&b), &mut y2, &p, fuse);
    assert_eq!(
        y.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        y2.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
}

/// `conv_max_pool` takes only `None` and `Relu`; another activation is
/// refused, not silently dropped (codegen sends it to `conv_max_pool_act`).
#[test]
#[should_panic(expected = "conv_max_pool_act")]
fn pooled_conv_refuses_another_activation() {
    let (x, w, b) = (vec![1.0f32; 16], vec![1.0f32; 4], vec![0.0f32; 1]);
    let mut wp = vec![0f32; packed_len(1, 1, 4)];
    pack_rows::<4>(&w[..1], 1, 1, 1, 1, &mut wp);
    let mut y = vec![0f32; 4];
    fconv::conv_max_pool::<Portable>(
        &x,
        &wp,
        &[0],
        Some(&b),
        &mut y,
        &DirectConvParams {
            in_channels: 1,
            out_channels: 1,
            in_hw: [4, 4],
            out_hw: [4, 4],
            kernel: [1, 1],
            strides: [1, 1],
            pads_begin: [0, 0],
            activation: Activation::Sigmoid,
        },
        MaxPoolFuse {
            kernel: [2, 2],
            strides: [2, 2],
            pads_begin: [0, 0],
            out: [2, 2],
        },
    );
}

/// The 1×1 convolution as a packed matrix product equals the reference.
fn check_pointwise<M: Micro>(c: usize, m: usize, hw: [usize; 2], seed: u64) {
    let x = vals(c * hw[0] * hw[1], seed);
    let w = vals(m * c, seed ^ 0x55);
    let b = vals(m, seed ^ 0x77);
    let act = Activation::Clip { min: 0.0, max: 6.0 };
    let (want, _) = reference_conv(&x, &w, &b, c, m, 1, hw, [1, 1], [1, 1], [0, 0], [0, 0], act);
    let n = hw[0] * hw[1];
    let mut wp = vec![0f32; packed_len(m, c, 4)];
    pack_rows::<4>(&w, m, c, c, 1, &mut wp);
    let mut y = vec![f32::NAN; want.len()];
    matmul::<M>(
        &wp,
        &x,
        Some(&b),
        &mut y,
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
    close(&y, &want, c, "pointwise");
}

/// `Y[M][N] = X[M][K] · B[K][N] + C` with constant `B`, as the transposed
/// packed product (`Bᵀ` packed, `X` read with strides) and, for one row, as
/// the packed matrix-vector product.
fn check_gemm<M: Micro>(rows: usize, k: usize, n: usize, seed: u64) {
    let x = vals(rows * k, seed);
    let bw = vals(k * n, seed ^ 0x99);
    let c = vals(n, seed ^ 0x11);
    let mut want = vec![0f32; rows * n];
    gemm(
        &x,
        &bw,
        Some(&c),
        &mut want,
        &GemmParams {
            m: rows,
            n,
            k,
            trans_a: false,
            trans_b: false,
            alpha: 1.0,
            beta: 1.0,
            c_stride_m: 0,
            c_stride_n: 1,
            activation: Activation::None,
        },
    );
    // Output channel j of the product reads column j of B: rows of Bᵀ.
    let mut wp = vec![0f32; packed_len(n, k, 4)];
    pack_rows::<4>(&bw, n, k, 1, n, &mut wp);
    let mut y = vec![f32::NAN; rows * n];
    matmul::<M>(
        &wp,
        &x,
        Some(&c),
        &mut y,
        &MatmulParams {
            m: n,
            k,
            n: rows,
            ldb: 1,
            sb: k,
            ldy: 1,
            sy: n,
            activation: Activation::None,
        },
    );
    close(&y, &want, k, "gemm (matmul)");
    if rows == 1 {
        let mut wp8 = vec![0f32; packed_len(n, k, 8)];
        pack_rows::<8>(&bw, n, k, 1, n, &mut wp8);
        let mut y = vec![f32::NAN; n];
        matvec::<M>(&wp8, &x, Some(&c), &mut y, n, k, Activation::None);
        close(&y, &want, k, "gemm (matvec)");
    }
}

/// The activation of a depthwise case: the kernels apply `Relu` themselves
/// on some variants, the others after the sums.
fn dw_act(seed: u64) -> Activation {
    match seed % 3 {
        0 => Activation::None,
        1 => Activation::Relu,
        _ => Activation::Clip { min: 0.0, max: 6.0 },
    }
}

/// The depthwise convolution equals the reference grouped convolution, out
/// of place and in place.
#[allow(clippy::too_many_arguments)]
fn check_depthwise<M: Micro>(
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
    let act = dw_act(seed);
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
    let mut y = vec![f32::NAN; want.len()];
    depthwise::<M>(&x, &w, Some(&b), &mut y, &p);
    close(&y, &want, k * k, "depthwise");
    if out_hw[0] * out_hw[1] <= hw[0] * hw[1] {
        let mut buf = x.clone();
        let mut scratch = vec![f32::NAN; depthwise_scratch_len(&p)];
        depthwise_inplace::<M>(&w, Some(&b), &mut buf, &mut scratch, &p);
        close(&buf[..want.len()], &want, k * k, "depthwise in place");
    }
}

/// Instantiates the suites that take a micro-kernel for one variant.
macro_rules! micro_suites {
    ($modname:ident, $micro:ty) => {
        mod $modname {
            use super::*;

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(48))]

                #[test]
                fn direct_conv_matches_reference(
                    c in 1usize..7, m in 1usize..11, h in 1usize..13, w in 1usize..17,
                    kh in 1usize..6, kw in 1usize..6, sh in 1usize..4, sw in 1usize..4,
                    pt in 0usize..3, pl in 0usize..3, pbot in 0usize..3, pr in 0usize..3,
                    seed in any::<u64>(),
                ) {
                    prop_assume!(h + pt + pbot >= kh && w + pl + pr >= kw);
                    prop_assume!(pt < kh && pbot < kh && pl < kw && pr < kw);
                    check_direct::<$micro>(c, m, [h, w], [kh, kw], [sh, sw], [pt, pl], [pbot, pr], seed);
                }

                #[test]
                fn direct_conv_residual_matches_conv_then_add(
                    c in 1usize..6, m in 1usize..11, h in 1usize..13, w in 1usize..17,
                    kh in 1usize..5, kw in 1usize..5, sh in 1usize..3, sw in 1usize..3,
                    pt in 0usize..3, pl in 0usize..3, pbot in 0usize..3, pr in 0usize..3,
                    seed in any::<u64>(),
                ) {
                    prop_assume!(h + pt + pbot >= kh && w + pl + pr >= kw);
                    prop_assume!(pt < kh && pbot < kh && pl < kw && pr < kw);
                    check_residual::<$micro>(c, m, [h, w], [kh, kw], [sh, sw], [pt, pl], [pbot, pr], seed);
                }

                #[test]
                fn direct_conv_max_pool_matches_reference(
                    c in 1usize..6, m in 1usize..11, h in 1usize..16, w in 1usize..20,
                    kh in 1usize..6, kw in 1usize..6, sh in 1usize..3, sw in 1usize..3,
                    ph in 0usize..3, pw in 0usize..3,
                    pkh in 1usize..4, pkw in 1usize..4, extra_h in 0usize..2, extra_w in 0usize..2,
                    pph in 0usize..2, ppw in 0usize..2,
                    seed in any::<u64>(),
                ) {
                    // Pads smaller than the windows, as ONNX models have them.
                    let (ph, pw, pph, ppw) = (ph % kh, pw % kw, pph % pkh, ppw % pkw);
                    prop_assume!(h + 2 * ph >= kh && w + 2 * pw >= kw);
                    check_direct_pool::<$micro>(
                        c, m, [h, w], [kh, kw], [sh, sw], [ph, pw],
                        [pkh, pkw], [pkh + extra_h, pkw + extra_w], [pph, ppw], seed,
                    );
                }

                #[test]
                fn pointwise_matches_reference(
                    c in 1usize..21, m in 1usize..19, h in 1usize..9, w in 1usize..11,
                    seed in any::<u64>(),
                ) {
                    check_pointwise::<$micro>(c, m, [h, w], seed);
                }

                #[test]
                fn depthwise_matches_reference(
                    c in 1usize..6, h in 1usize..14, w in 1usize..14,
                    k in prop::sample::select(vec![1usize, 2, 3, 5, 7]),
                    sh in 1usize..3, sw in 1usize..3,
                    pt in 0usize..3, pl in 0usize..3, pbot in 0usize..3, pr in 0usize..3,
                    seed in any::<u64>(),
                ) {
                    // Square strides mostly, the shapes the plane kernels take.
                    let sw = if seed % 4 == 0 { sw } else { sh };
                    prop_assume!(h + pt + pbot >= k && w + pl + pr >= k);
                    prop_assume!(pt < k && pbot < k && pl < k && pr < k);
                    check_depthwise::<$micro>(c, [h, w], k, [sh, sw], [pt, pl], [pbot, pr], seed);
                }

                #[test]
                fn gemm_matches_reference(
                    rows in 1usize..6, k in 1usize..40, n in 1usize..23, seed in any::<u64>(),
                ) {
                    check_gemm::<$micro>(rows, k, n, seed);
                }
            }
        }
    };
}

micro_suites!(portable, Portable);
