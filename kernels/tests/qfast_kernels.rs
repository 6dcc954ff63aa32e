//! Property tests of the fast integer kernels (`qfast`) against the integer
//! reference (`reference::qint::qconv`): random shapes, strides, pads,
//! dilations, channel counts that are not multiples of the blocking,
//! per-channel zero points and multipliers (below and above 0.5, so both
//! forms of the requantization run), fused clip ranges, int8 and uint8
//! activations; and the same-shape addition (`qfast::add`) against
//! `reference::qint::qadd`. The results must be equal, bit for bit.

use proptest::prelude::*;
use zant_kernels::qfast::add::{qadd as fast_qadd, QAddFast};
use zant_kernels::qfast::conv::{conv as qconv_gemm, QConvGemmParams};
use zant_kernels::qfast::conv8::{self, Dot8, PortableDot};
use zant_kernels::qfast::depthwise::{depthwise, pack_depthwise, QDepthwiseParams};
use zant_kernels::qfast::{fold_bias, pack_weights, packed_len, Portable, QMac, Rescale};
use zant_kernels::reference::activation::Activation;
use zant_kernels::reference::conv::ConvParams;
use zant_kernels::reference::qint::{qadd, qconv, QAddParams, QConvParams, QOut, Requant};
use zant_kernels::reference::quant::QuantInt;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn range(&mut self, lo: i32, hi: i32) -> i32 {
        lo + (self.next() % (hi - lo + 1) as u64) as i32
    }
}

/// One random convolution case.
#[derive(Debug, Clone)]
struct Case {
    cin: usize,
    cout: usize,
    group: usize,
    hw: [usize; 2],
    k: [usize; 2],
    s: [usize; 2],
    d: [usize; 2],
    pb: [usize; 2],
    pe: [usize; 2],
    seed: u64,
}

impl Case {
    fn out_hw(&self) -> [usize; 2] {
        core::array::from_fn(|a| {
            (self.hw[a] + self.pb[a] + self.pe[a] - (self.k[a] - 1) * self.d[a] - 1) / self.s[a] + 1
        })
    }
}

/// A random multiplier: mostly below 0.05 (the 32-bit form), sometimes
/// above 0.5 (the general form) or 0.
fn multiplier(r: &mut Rng) -> Requant {
    let m = match r.range(0, 9) {
        0 => 0.0,
        1 => r.range(1, 3000) as f64 * 1e-3,
        2 => r.range(1, 1000) as f64 * 1e-9,
        _ => r.range(1, 4000) as f64 * 1e-5,
    };
    if r.range(0, 1) == 0 {
        Requant::from_f32(m as f32).unwrap()
    } else {
        Requant::from_f64(m).unwrap()
    }
}

struct Data<X> {
    x: Vec<X>,
    w: Vec<i8>,
    wz: Vec<i32>,
    bias: Vec<i32>,
    rq: Vec<Requant>,
    xz: i32,
    out: QOut,
}

fn data<X: QuantInt>(c: &Case) -> Data<X> {
    let mut r = Rng(c.seed | 1);
    let n = c.cin * c.hw[0] * c.hw[1];
    let x = (0..n)
        .map(|_| X::from_i32(r.range(X::QMIN, X::QMAX)))
        .collect();
    let per = c.cin / c.group * c.k[0] * c.k[1];
    let w = (0..c.cout * per)
        .map(|_| r.range(-128, 127) as i8)
        .collect();
    let wz = (0..c.cout).map(|_| r.range(-3, 3)).collect();
    let bias = (0..c.cout).map(|_| r.range(-20_000, 20_000)).collect();
    let rq = (0..c.cout).map(|_| multiplier(&mut r)).collect();
    let xz = r.range(X::QMIN, X::QMAX);
    let (lo, hi) = (X::QMIN + r.range(0, 40), X::QMAX - r.range(0, 40));
    Data {
        x,
        w,
        wz,
        bias,
        rq,
        xz,
        out: QOut {
            zero_point: r.range(X::QMIN, X::QMAX),
            min: lo,
            max: hi,
        },
    }
}

fn reference<X: QuantInt>(c: &Case, d: &Data<X>) -> Vec<X> {
    let o = c.out_hw();
    let p = QConvParams {
        conv: ConvParams {
            batch: 1,
            in_channels: c.cin,
            out_channels: c.cout,
            group: c.group,
            in_spatial: [c.hw[0], c.hw[1], 1],
            out_spatial: [o[0], o[1], 1],
            kernel: [c.k[0], c.k[1], 1],
            strides: [c.s[0], c.s[1], 1],
            dilations: [c.d[0], c.d[1], 1],
            pads_begin: [c.pb[0], c.pb[1], 0],
            pads_end: [c.pe[0], c.pe[1], 0],
            activation: Activation::None,
        },
        x_zero_point: d.xz,
        out: d.out,
    };
    let mut y = vec![X::from_i32(0); c.cout * o[0] * o[1]];
    qconv(&d.x, &d.w, &d.wz, &d.bias, &d.rq, &mut y, &p);
    y
}

fn gemm_conv<M: QMac, X: QuantInt>(c: &Case, d: &Data<X>) -> Vec<X> {
    let k = c.cin * c.k[0] * c.k[1];
    let w: Vec<i32> =
        d.w.iter()
            .enumerate()
            .map(|(i, v)| *v as i32 - d.wz[i / k])
            .collect();
    let mut packed = vec![0u32; packed_len(c.cout, k)];
    pack_weights(&w, c.cout, k, &mut packed);
    let mut bias = vec![0i32; c.cout];
    fold_bias(&w, k, &d.bias, d.xz, &mut bias);
    let p = QConvGemmParams {
        in_channels: c.cin,
        out_channels: c.cout,
        in_hw: c.hw,
        out_hw: c.out_hw(),
        kernel: c.k,
        strides: c.s,
        dilations: c.d,
        pads_begin: c.pb,
        x_zero_point: d.xz,
        out: d.out,
    };
    let mut col = vec![0u32; p.col_len()];
    let o = c.out_hw();
    let mut y = vec![X::from_i32(0); c.cout * o[0] * o[1]];
    // As the compiler makes them: the fused form where the accumulator
    // bounds of the channel allow it.
    let rq: Vec<Rescale> = (0..c.cout)
        .map(|r| {
            let (lo, hi) =
                w[r * k..][..k]
                    .iter()
                    .fold((bias[r] as i64, bias[r] as i64), |(lo, hi), &v| {
                        let (a, b) = (v as i64 * X::QMIN as i64, v as i64 * X::QMAX as i64);
                        (lo + a.min(b), hi + a.max(b))
                    });
            Rescale::fused(d.rq[r], d.out.zero_point, lo, hi).unwrap_or(Rescale::new(d.rq[r]))
        })
        .collect();
    qconv_gemm::<M, X, X>(&d.x, &packed, &bias, &rq, &mut col, &mut y, &p);
    y
}

/// The `i8` matrix product ([`conv8::conv`]) with the dot products of `D`,
/// or `None` when a weight (zero point subtracted) does not fit `i8` (the
/// compiler then keeps the 16-bit layout).
fn gemm_conv8<D: Dot8, X: QuantInt>(c: &Case, d: &Data<X>) -> Option<Vec<X>> {
    let k = c.cin * c.k[0] * c.k[1];
    let w: Vec<i32> =
        d.w.iter()
            .enumerate()
            .map(|(i, v)| *v as i32 - d.wz[i / k])
            .collect();
    if !conv8::fits_i8(&w) {
        return None;
    }
    let mut packed = vec![0x55i8; conv8::packed_len8(c.cout, k)];
    conv8::pack_weights8(&w, c.cout, k, &mut packed);
    // The constants from the 16-bit path's bias (the same accumulator).
    let mut bias16 = vec![0i32; c.cout];
    fold_bias(&w, k, &d.bias, d.xz, &mut bias16);
    let rq = rescales(&w, k, &bias16, d, true);
    let mut bias = vec![0i32; c.cout];
    conv8::fold_bias8(&w, k, &d.bias, d.xz, conv8::x_offset::<X>(), &mut bias);
    let p = QConvGemmParams {
        in_channels: c.cin,
        out_channels: c.cout,
        in_hw: c.hw,
        out_hw: c.out_hw(),
        kernel: c.k,
        strides: c.s,
        dilations: c.d,
        pads_begin: c.pb,
        x_zero_point: d.xz,
        out: d.out,
    };
    // Scratch poisoned: the kernel writes every byte it reads.
    let mut col = vec![0x33i8; conv8::col_len8(k)];
    let o = c.out_hw();
    let mut y = vec![X::from_i32(0); c.cout * o[0] * o[1]];
    conv8::conv::<D, Portable, X, X>(&d.x, &packed, &bias, &rq, &mut col, &mut y, &p);
    Some(y)
}

/// [`Portable`]'s arithmetic announced as one instruction, so the host
/// runs the kernels' paired paths (the ones `arm::dsp::Dsp` takes).
#[derive(Clone, Copy, Debug)]
struct Paired;

impl QMac for Paired {
    const DUAL: bool = true;
    fn mac2(acc: i32, a: u32, b: u32) -> i32 {
        Portable::mac2(acc, a, b)
    }
}

/// Each channel's requantization as the compiler makes it: the fused form
/// where the accumulator bounds of the channel (`k` weights `w` from
/// `w[r·k]`, folded bias) allow it, unless `fuse` is false.
fn rescales<X: QuantInt>(
    w: &[i32],
    k: usize,
    bias: &[i32],
    d: &Data<X>,
    fuse: bool,
) -> Vec<Rescale> {
    (0..bias.len())
        .map(|r| {
            let (lo, hi) =
                w[r * k..][..k]
                    .iter()
                    .fold((bias[r] as i64, bias[r] as i64), |(lo, hi), &v| {
                        let (a, b) = (v as i64 * X::QMIN as i64, v as i64 * X::QMAX as i64);
                        (lo + a.min(b), hi + a.max(b))
                    });
            Rescale::fused(d.rq[r], d.out.zero_point, lo, hi)
                .filter(|_| fuse && lo >= i32::MIN as i64 && hi <= i32::MAX as i64)
                .unwrap_or(Rescale::new(d.rq[r]))
        })
        .collect()
}

fn dw<M: QMac, X: QuantInt>(c: &Case, d: &Data<X>) -> Vec<X> {
    dw_with::<M, X>(c, d, true)
}

fn dw_with<M: QMac, X: QuantInt>(c: &Case, d: &Data<X>, fuse: bool) -> Vec<X> {
    let taps = c.k[0] * c.k[1];
    let w: Vec<i32> =
        d.w.iter()
            .enumerate()
            .map(|(i, v)| *v as i32 - d.wz[i / taps])
            .collect();
    let p = QDepthwiseParams {
        in_channels: c.cin,
        out_channels: c.cout,
        in_hw: c.hw,
        out_hw: c.out_hw(),
        kernel: c.k,
        strides: c.s,
        dilations: c.d,
        pads_begin: c.pb,
        x_zero_point: d.xz,
        out: d.out,
    };
    let mut packed = vec![0u32; p.packed_len()];
    pack_depthwise(&w, &p, &mut packed);
    let mut bias = vec![0i32; c.cout];
    fold_bias(&w, taps, &d.bias, d.xz, &mut bias);
    // Scratch past its length poisoned: the kernel must not read it.
    let mut scratch = vec![i16::MIN; p.scratch_len() + 8];
    let o = c.out_hw();
    let mut y = vec![X::from_i32(0); c.cout * o[0] * o[1]];
    let rq = rescales(&w, taps, &bias, d, fuse);
    depthwise::<M, X, X>(&d.x, &packed, &bias, &rq, &mut scratch, &mut y, &p);
    y
}

/// Six pairs: sizes, kernel, strides, dilations, pads at the start and end.
type Geometry = (
    [usize; 2],
    [usize; 2],
    [usize; 2],
    [usize; 2],
    [usize; 2],
    [usize; 2],
);

fn geometry() -> impl Strategy<Value = Geometry> {
    (
        [1usize..12, 1..12],
        [1usize..5, 1..5],
        [1usize..4, 1..4],
        [1usize..3, 1..3],
        [0usize..3, 0..3],
        [0usize..3, 0..3],
    )
        .prop_filter("kernel fits", |(hw, k, _, d, pb, pe)| {
            (0..2).all(|a| hw[a] + pb[a] + pe[a] > (k[a] - 1) * d[a])
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn gemm_conv_equals_reference(
        cin in 1usize..20, cout in 1usize..11,
        (hw, k, s, d, pb, pe) in geometry(),
        seed in any::<u64>(),
    ) {
        let c = Case { cin, cout, group: 1, hw, k, s, d, pb, pe, seed };
        let du = data::<u8>(&c);
        prop_assert_eq!(gemm_conv::<Portable, u8>(&c, &du), reference(&c, &du));
        let di = data::<i8>(&c);
        prop_assert_eq!(gemm_conv::<Portable, i8>(&c, &di), reference(&c, &di));
    }

    #[test]
    fn pointwise_conv_equals_reference(
        cin in 1usize..70, cout in 1usize..40, h in 1usize..9, w in 1usize..9,
        seed in any::<u64>(),
    ) {
        let c = Case { cin, cout, group: 1, hw: [h, w], k: [1, 1], s: [1, 1], d: [1, 1],
            pb: [0, 0], pe: [0, 0], seed };
        let du = data::<u8>(&c);
        prop_assert_eq!(gemm_conv::<Portable, u8>(&c, &du), reference(&c, &du));
    }

    #[test]
    fn small_k_pointwise_equals_reference(
        cin in 1usize..18, cout in 1usize..50, h in 1usize..7, w in 1usize..11,
        seed in any::<u64>(),
    ) {
        let c = Case { cin, cout, group: 1, hw: [h, w], k: [1, 1], s: [1, 1], d: [1, 1],
            pb: [0, 0], pe: [0, 0], seed };
        let di = data::<i8>(&c);
        prop_assert_eq!(gemm_conv::<Portable, i8>(&c, &di), reference(&c, &di));
        let du = data::<u8>(&c);
        prop_assert_eq!(gemm_conv::<Portable, u8>(&c, &du), reference(&c, &du));
    }

    #[test]
    fn qadd_equals_reference(
        n in 0usize..70, seed in any::<u64>(), signed in any::<bool>(),
        ratio_a in 1u32..4000, ratio_b in 1u32..4000, scale in 0i32..6,
    ) {
        // Ratios a/y and b/y from 1e-5·4e3·10^scale, as the compiler's
        // QAdd::params makes them: one shift for the larger with 30 bits.
        let f = 10f64.powi(scale - 4);
        let (ra, rb) = (ratio_a as f64 * 1e-3 * f, ratio_b as f64 * 1e-3 * f);
        let shift = (30 - ra.max(rb).log2().ceil() as i32).clamp(1, 62) as u32;
        let m = |v: f64| (v * (1u64 << shift) as f64).round() as i32;
        let mut r = Rng(seed | 1);
        if signed {
            check_qadd::<i8>(&mut r, n, m(ra), m(rb), shift)?;
        } else {
            check_qadd::<u8>(&mut r, n, m(ra), m(rb), shift)?;
        }
    }

    #[test]
    fn depthwise_equals_reference(
        cin in 1usize..6, mult in 1usize..4,
        (hw, k, s, d, pb, pe) in geometry(),
        square in 0usize..3,
        seed in any::<u64>(),
    ) {
        // Half the cases on the 3×3 and 5×5 paths (dilation 1).
        let (k, d) = match square {
            1 => ([3, 3], [1, 1]),
            2 => ([5, 5], [1, 1]),
            _ => (k, d),
        };
        let hw = [hw[0].max(5), hw[1].max(5)];
        let c = Case { cin, cout: cin * mult, group: cin, hw, k, s, d, pb, pe, seed };
        let du = data::<u8>(&c);
        let want = reference(&c, &du);
        prop_assert_eq!(&dw::<Portable, u8>(&c, &du), &want);
        prop_assert_eq!(&dw::<Paired, u8>(&c, &du), &want);
        let di = data::<i8>(&c);
        let want = reference(&c, &di);
        prop_assert_eq!(&dw::<Portable, i8>(&c, &di), &want);
        prop_assert_eq!(&dw::<Paired, i8>(&c, &di), &want);
    }

    /// The specialised 3×3 paths: strides 1 and 2 (each axis), widths 1 to
    /// 9, every padding up to 2, channel multipliers, the fused
    /// requantization and the general one, narrow output ranges.
    #[test]
    fn depthwise_3x3_equals_reference(
        cin in 1usize..5, mult in 1usize..3,
        hw in [1usize..10, 1..10], s in [1usize..3, 1..3],
        pb in [0usize..3, 0..3], pe in [0usize..3, 0..3],
        fuse in any::<bool>(), seed in any::<u64>(),
    ) {
        prop_assume!((0..2).all(|a| hw[a] + pb[a] + pe[a] >= 3));
        let c = Case { cin, cout: cin * mult, group: cin, hw, k: [3, 3], s, d: [1, 1], pb, pe, seed };
        let du = data::<u8>(&c);
        let want = reference(&c, &du);
        prop_assert_eq!(&dw_with::<Portable, u8>(&c, &du, fuse), &want);
        prop_assert_eq!(&dw_with::<Paired, u8>(&c, &du, fuse), &want);
        let mut di = data::<i8>(&c);
        if seed % 3 == 0 {
            // The full output range: the single-saturation store.
            di.out.min = -128;
            di.out.max = 127;
        }
        let want = reference(&c, &di);
        prop_assert_eq!(&dw_with::<Portable, i8>(&c, &di, fuse), &want);
        prop_assert_eq!(&dw_with::<Paired, i8>(&c, &di, fuse), &want);
    }

    /// Wide 3×3 planes: several bands of rows at stride 1 (and rows wider
    /// than a band: the row path), several passes of pairs a row (more
    /// than `BAND / 2` = 128 pairs).
    #[test]
    fn depthwise_3x3_wide_equals_reference(
        h in 3usize..6, w in 40usize..600, s in 1usize..3, pad in 0usize..2,
        fuse in any::<bool>(), seed in any::<u64>(),
    ) {
        let c = Case { cin: 2, cout: 2, group: 2, hw: [h, w], k: [3, 3], s: [s, s], d: [1, 1],
            pb: [pad, pad], pe: [pad, pad], seed };
        let di = data::<i8>(&c);
        let want = reference(&c, &di);
        prop_assert_eq!(&dw_with::<Paired, i8>(&c, &di, fuse), &want);
        prop_assert_eq!(&dw_with::<Portable, i8>(&c, &di, fuse), &want);
    }

    /// The `i8` matrix product (the host twin of the Helium kernels):
    /// weights that fit `i8` (symmetric, or zero points that keep them in
    /// range) and weights that do not (refused), reductions not a multiple
    /// of 16, position counts not a multiple of the block, fully connected
    /// (one position) layers.
    #[test]
    fn gemm_conv8_equals_reference(
        cin in 1usize..40, cout in 1usize..11,
        (hw, k, s, d, pb, pe) in geometry(),
        symmetric in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let c = Case { cin, cout, group: 1, hw, k, s, d, pb, pe, seed };
        for signed in [false, true] {
            let (got, want) = if signed {
                let mut di = data::<i8>(&c);
                if symmetric {
                    di.wz.fill(0);
                }
                (gemm_conv8::<PortableDot, i8>(&c, &di).map(|y| y.iter().map(|v| *v as i32).collect::<Vec<_>>()),
                 reference(&c, &di).iter().map(|v| *v as i32).collect::<Vec<_>>())
            } else {
                let mut du = data::<u8>(&c);
                if symmetric {
                    du.wz.fill(0);
                }
                (gemm_conv8::<PortableDot, u8>(&c, &du).map(|y| y.iter().map(|v| *v as i32).collect::<Vec<_>>()),
                 reference(&c, &du).iter().map(|v| *v as i32).collect::<Vec<_>>())
            };
            match got {
                Some(got) => prop_assert_eq!(got, want),
                None => prop_assert!(!symmetric, "symmetric weights always fit i8"),
            }
        }
    }

    /// Pointwise and fully connected shapes on the `i8` matrix product.
    #[test]
    fn pointwise_conv8_equals_reference(
        cin in 1usize..100, cout in 1usize..40, h in 1usize..6, w in 1usize..6,
        seed in any::<u64>(),
    ) {
        let c = Case { cin, cout, group: 1, hw: [h, w], k: [1, 1], s: [1, 1], d: [1, 1],
            pb: [0, 0], pe: [0, 0], seed };
        let mut du = data::<u8>(&c);
        du.wz.fill(0);
        prop_assert_eq!(gemm_conv8::<PortableDot, u8>(&c, &du).unwrap(), reference(&c, &du));
        let mut di = data::<i8>(&c);
        di.wz.fill(0);
        prop_assert_eq!(gemm_conv8::<PortableDot, i8>(&c, &di).unwrap(), reference(&c, &di));
    }

    /// One input channel, many outputs, tall kernels (DS-CNN's 10×4 first
    /// layer): the depthwise kernel with one group.
    #[test]
    fn first_layer_conv_equals_reference(
        cout in 1usize..10, h in 4usize..24, w in 2usize..10,
        kh in 1usize..11, kw in 1usize..6, s in [1usize..3, 1..3],
        pb in [0usize..5, 0..3], pe in [0usize..5, 0..3],
        seed in any::<u64>(),
    ) {
        let (kh, kw) = (kh.min(h), kw.min(w));
        let c = Case { cin: 1, cout, group: 1, hw: [h, w], k: [kh, kw], s, d: [1, 1], pb, pe, seed };
        let di = data::<i8>(&c);
        let want = reference(&c, &di);
        prop_assert_eq!(&dw::<Portable, i8>(&c, &di), &want);
        prop_assert_eq!(&dw::<Paired, i8>(&c, &di), &want);
        let du = data::<u8>(&c);
        prop_assert_eq!(&dw::<Paired, u8>(&c, &du), &reference(&c, &du));
    }
}

fn check_qadd<X: QuantInt + PartialEq + std::fmt::Debug>(
    r: &mut Rng,
    n: usize,
    a_mult: i32,
    b_mult: i32,
    shift: u32,
) -> Result<(), TestCaseError> {
    let a: Vec<X> = (0..n)
        .map(|_| X::from_i32(r.range(X::QMIN, X::QMAX)))
        .collect();
    let b: Vec<X> = (0..n)
        .map(|_| X::from_i32(r.range(X::QMIN, X::QMAX)))
        .collect();
    let (lo, hi) = (X::QMIN + r.range(0, 60), X::QMAX - r.range(0, 60));
    let p = QAddParams {
        a_zero_point: r.range(X::QMIN, X::QMAX),
        a_mult,
        b_zero_point: r.range(X::QMIN, X::QMAX),
        b_mult,
        shift,
        out: QOut {
            zero_point: r.range(X::QMIN, X::QMAX),
            min: lo,
            max: hi,
        },
    };
    let mut want = vec![X::from_i32(0); n];
    qadd(&a, &b, &mut want, &p);
    let f = QAddFast::new(&p, X::QMIN, X::QMAX);
    // Shifts of 10 and more (every ratio below 2^20) take the fast form.
    prop_assert!(f.is_some() || shift < 10, "{p:?}");
    if let Some(f) = f {
        let mut got = vec![X::from_i32(0); n];
        fast_qadd::<Portable, X, X>(&a, &b, &mut got, &f);
        prop_assert_eq!(got, want);
    }
    Ok(())
}
