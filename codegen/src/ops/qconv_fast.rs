//! `QConvFast`: not an ONNX operator but what [`qfast_conv`] turns a
//! `QLinearConv` (2-D, batch 1, 8-bit, constant weights and quantization
//! parameters) into, so that it runs on the fast integer kernels
//! (`zant_kernels::qfast`) instead of the reference loops:
//!
//! - [`QFastKind::Gemm`]: one group (1×1 and general kernels) — a matrix
//!   product on weights re-laid here at compile time (zero point subtracted,
//!   widened to `i16`, paired along the reduction, two output channels
//!   interleaved) with the input-offset term folded into the bias, through
//!   the kernel set's dual multiply-accumulate (`SMLAD` on cores with the
//!   DSP extension, plain Rust elsewhere); on cores with an 8-bit dot
//!   product ([`KernelSet::dot8`]: Helium) and weights that fit `i8` once
//!   their zero point is subtracted, rows of `i8` instead, for
//!   `zk::qfast::conv8` (16 multiply-accumulates an instruction);
//! - [`QFastKind::Depthwise`]: one input channel per group (so also one
//!   input channel and one group, a first layer on a mono image or
//!   spectrogram) — weights with the zero point subtracted, re-laid two taps
//!   a word per kernel row, the input-offset term folded into the bias, each
//!   channel's requantization constants computed here as for the matrix
//!   product (the fused form where the channel's accumulator bounds allow
//!   it); the kernel reads a ring (3×3 at stride 1: a band) of padded `i16`
//!   input rows on the stack.
//!
//! A one-row `QGemm` or `QLinearMatMul` with constant `B` (the fully
//! connected layers of quantized MLPs and classifier heads) is a 1×1
//! convolution of one pixel and takes [`QFastKind::Gemm`] the same way.
//!
//! Inputs: 0 the activation, 1 the re-laid weights. The per-channel bias and
//! requantization (fixed-point multiplier and shift, computed here) are
//! emitted as statics of the node.

use std::any::Any;
use std::sync::Arc;

use proc_macro2::{Literal, TokenStream};
use quote::quote;
use zant_kernels::qfast;
use zant_kernels::reference::qint::{QOut, Requant};

use super::qcontrib::QGemm;
use super::qlinear::{
    clip_name, const_scales, const_zero_points, per_channel, qout_tokens, requants, QLinearConv,
    QLinearMatMul, ScaleMath,
};
use super::{InputInfo, Op, OpError, OutputInfo};
use crate::emit::{arr_usize, lit_usize, NodeCx};
use crate::ir::{numel, DType, Graph, Node, Tensor, TensorData, TensorId};
use crate::kernel_set::KernelSet;

/// Largest reduction (`in_channels · kh · kw`) [`QFastKind::Gemm`] takes:
/// its column buffer (`4·k` bytes) lives on the stack.
pub const MAX_K: usize = 1024;

/// Which fast integer kernel a [`QConvFast`] calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QFastKind {
    /// Single-group convolution as a packed integer matrix product.
    Gemm,
    /// Depthwise convolution.
    Depthwise,
}

/// A `QLinearConv` on the fast integer kernels.
#[derive(Debug, Clone)]
pub struct QConvFast {
    /// Kernel.
    pub kind: QFastKind,
    /// Name shown in reports (`QLinearConv+Relu`, …).
    pub label: String,
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Input height and width.
    pub in_hw: [usize; 2],
    /// Output height and width.
    pub out_hw: [usize; 2],
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Strides.
    pub strides: [usize; 2],
    /// Dilations.
    pub dilations: [usize; 2],
    /// Padding at the top and left.
    pub pads_begin: [usize; 2],
    /// Zero point of the input.
    pub x_zero_point: i32,
    /// Output zero point and range.
    pub out: QOut,
    /// Output element type.
    pub y_dtype: DType,
    /// Per-channel bias, folded with the input offset.
    pub bias: Vec<i32>,
    /// [`QFastKind::Gemm`] on the `i8` layout (`qfast::conv8`, the kernel
    /// set's [`KernelSet::dot8`]) rather than the 16-bit one.
    pub int8: bool,
    /// Per-channel requantization.
    pub requant: Vec<Requant>,
    /// Its precomputed constants: the fused form with the output zero
    /// point where the channel's accumulator bounds allow it.
    pub rescale: Vec<qfast::Rescale>,
    /// Shape of the output: `[1, out_channels, h, w]` for a convolution,
    /// `[1, out_channels]` for a one-row `QGemm`/`QLinearMatMul`.
    pub y_shape: Vec<usize>,
}

/// Replaces the `QLinearConv`s the fast integer kernels take by
/// [`QConvFast`]; the others stay on the reference kernel. The weight
/// layout of the matrix products follows the kernel set `set`.
pub fn qfast_conv(graph: &Graph, set: &KernelSet) -> Graph {
    let mut g = graph.clone();
    let mut nodes = Vec::with_capacity(g.nodes.len());
    for n in &graph.nodes {
        match qfast_node(graph, &mut g, n, set).or_else(|| qfast_fc_node(graph, &mut g, n, set)) {
            Some(node) => nodes.push(node),
            None => nodes.push(n.clone()),
        }
    }
    Graph { nodes, ..g }
}

fn push_const(g: &mut Graph, name: String, data: TensorData) -> TensorId {
    let id = TensorId(g.tensors.len());
    g.tensors.push(Tensor {
        name,
        dtype: data.dtype,
        shape: data.shape.clone(),
        data: Some(Arc::new(data)),
    });
    id
}

fn input_infos<'g>(graph: &'g Graph, n: &Node) -> Vec<Option<InputInfo<'g>>> {
    n.inputs
        .iter()
        .map(|id| {
            id.map(|id| {
                let t = graph.tensor(id);
                InputInfo {
                    dtype: t.dtype,
                    shape: &t.shape,
                    data: t.data.as_deref(),
                }
            })
        })
        .collect()
}

/// Weights `[m][k]` (zero points subtracted) packed for the integer matrix
/// product, the bias with the input-offset term folded in, and whether the
/// layout is the `i8` one: taken when the kernel set has an 8-bit dot
/// product and every weight fits `i8` (columns of an input of type
/// `x_dtype` offset to `i8`), else the 16-bit one.
#[allow(clippy::too_many_arguments)]
fn pack_gemm(
    g: &mut Graph,
    name: &str,
    wv: &[i32],
    m: usize,
    k: usize,
    bias: &[i32],
    x_zero_point: i32,
    x_dtype: DType,
    set: &KernelSet,
) -> (TensorId, Vec<i32>, bool) {
    if set.dot8().is_some() && qfast::conv8::fits_i8(wv) {
        let mut packed = vec![0i8; qfast::conv8::packed_len8(m, k)];
        qfast::conv8::pack_weights8(wv, m, k, &mut packed);
        let offset = match x_dtype {
            DType::U8 => qfast::conv8::x_offset::<u8>(),
            _ => qfast::conv8::x_offset::<i8>(),
        };
        let mut folded = vec![0i32; m];
        qfast::conv8::fold_bias8(wv, k, bias, x_zero_point, offset, &mut folded);
        let len = packed.len();
        let id = push_const(
            g,
            format!("{name}:qpacked8"),
            TensorData::from_i8(vec![len], &packed),
        );
        return (id, folded, true);
    }
    let mut packed = vec![0u32; qfast::packed_len(m, k)];
    qfast::pack_weights(wv, m, k, &mut packed);
    let mut folded = vec![0i32; m];
    qfast::fold_bias(wv, k, bias, x_zero_point, &mut folded);
    let len = packed.len();
    let id = push_const(
        g,
        format!("{name}:qpacked"),
        TensorData::from_u32(vec![len], &packed),
    );
    (id, folded, false)
}

/// The requantization constants of each channel of a [`QFastKind::Gemm`]:
/// the half-up form with the output zero point folded in
/// ([`qfast::Rescale::fused`]) where the channel's accumulator bounds allow
/// it, else the exact form. The accumulator of channel `r` is
/// `folded[r] + Σ_i w[r·k + i] · x_i` with every raw input `x_i` (and the
/// padding, the zero point) in the input type's range and `folded` the bias
/// with `x_zero_point · Σ_i w[r·k + i]` taken off: the same value in either
/// weight layout.
fn rescales(
    wv: &[i32],
    k: usize,
    bias: &[i32],
    x_zero_point: i32,
    x_dtype: DType,
    requant: &[Requant],
    y_zero_point: i32,
) -> Vec<qfast::Rescale> {
    let mut folded = vec![0i32; bias.len()];
    qfast::fold_bias(wv, k, bias, x_zero_point, &mut folded);
    let (xmin, xmax) = match x_dtype {
        DType::I8 => (i8::MIN as i64, i8::MAX as i64),
        _ => (0, u8::MAX as i64),
    };
    requant
        .iter()
        .zip(&folded)
        .enumerate()
        .map(|(r, (rq, &b))| {
            let (lo, hi) = wv[r * k..][..k]
                .iter()
                .fold((b as i64, b as i64), |(lo, hi), &w| {
                    let (a, c) = (w as i64 * xmin, w as i64 * xmax);
                    (lo + a.min(c), hi + a.max(c))
                });
            // The kernel's accumulator is an `i32`: wider bounds take the
            // exact form (`fused` then fails on them too).
            qfast::Rescale::fused(*rq, y_zero_point, lo, hi)
                .filter(|_| lo >= i32::MIN as i64 && hi <= i32::MAX as i64)
                .unwrap_or(qfast::Rescale::new(*rq))
        })
        .collect()
}

/// A one-row `QGemm` (`alpha = 1`) or `QLinearMatMul` of at least
/// [`FAST_GEMM_MIN_MACS`](crate::passes::FAST_GEMM_MIN_MACS) with constant 8-bit
/// `B` and constant quantization parameters, as a 1×1 [`QFastKind::Gemm`]
/// of one pixel: `B` re-laid `[N][K]`, per-column scales and zero points
/// per output channel.
fn qfast_fc_node(graph: &Graph, g: &mut Graph, n: &Node, set: &KernelSet) -> Option<Node> {
    let any = n.op.as_any();
    // Input positions of (y_scale, y_zero_point, C) and B's layout and clip.
    // QGemm's own kernel computes its multipliers in f32 (onnxruntime's order).
    let (ys_at, c_at, trans_b, clip, math, base) = if let Some(q) = any.downcast_ref::<QGemm>() {
        if q.alpha != 1.0 {
            return None;
        }
        (7, Some(6), q.trans_b, None, ScaleMath::F32, "QGemm")
    } else if let Some(q) = any.downcast_ref::<QLinearMatMul>() {
        (6, None, false, q.clip, q.scales, "QLinearMatMul")
    } else {
        return None;
    };
    let infos = input_infos(graph, n);
    let a = infos.first()?.as_ref()?;
    let b = infos.get(3)?.as_ref()?;
    let yt = graph.tensor(*n.outputs.first()?);
    let q8 = |d: DType| matches!(d, DType::I8 | DType::U8);
    if a.shape.len() != 2 || a.shape[0] != 1 || b.shape.len() != 2 {
        return None;
    }
    if !q8(a.dtype) || !q8(b.dtype) || !q8(yt.dtype) {
        return None;
    }
    let (k, nn) = if trans_b {
        (b.shape[1], b.shape[0])
    } else {
        (b.shape[0], b.shape[1])
    };
    // Small layers (classifier heads) stay on QGemm's own loop, as float
    // Gemms do: a second call site of the matrix product changes LLVM's
    // inlining of the model's other layers (DS-CNN int8 on the M55 took
    // 6.6% more instructions with its 768-MAC head moved here).
    if a.shape[1] != k || k > MAX_K || k * nn < crate::passes::FAST_GEMM_MIN_MACS {
        return None;
    }
    let bd = b.data?.to_i64()?;
    let xs = const_scales(&infos, 1, "a_scale").ok()?;
    let xz = const_zero_points(&infos, 2, "a_zero_point").ok()?;
    let ws = per_channel(&const_scales(&infos, 4, "b_scale").ok()?, nn, "b_scale").ok()?;
    let wz = per_channel(
        &const_zero_points(&infos, 5, "b_zero_point").ok()?,
        nn,
        "b_zero_point",
    )
    .ok()?;
    let ys = const_scales(&infos, ys_at, "y_scale").ok()?;
    let yz = const_zero_points(&infos, ys_at + 1, "y_zero_point").ok()?;
    if xs.len() != 1 || xz.len() != 1 || ys.len() != 1 || yz.len() != 1 {
        return None;
    }
    let bias = match c_at.and_then(|i| infos.get(i)?.as_ref()) {
        None => vec![0; nn],
        Some(c) if c.dtype == DType::I32 => per_channel(&c.data?.as_i32(), nn, "C").ok()?,
        Some(_) => return None,
    };
    let requant = requants(xs[0], &ws, ys[0], math).ok()?;
    // Row j of the weights is column j of B.
    let wv: Vec<i32> = (0..nn * k)
        .map(|i| {
            let (j, q) = (i / k, i % k);
            let v = if trans_b {
                bd[j * k + q]
            } else {
                bd[q * nn + j]
            };
            v as i32 - wz[j]
        })
        .collect();
    let wname = graph.tensor(n.input(3)?).name.clone();
    let rescale = rescales(&wv, k, &bias, xz[0], a.dtype, &requant, yz[0]);
    let (weights, bias, int8) = pack_gemm(g, &wname, &wv, nn, k, &bias, xz[0], a.dtype, set);
    let op = QConvFast {
        kind: QFastKind::Gemm,
        label: clip_name(base, clip),
        in_channels: k,
        out_channels: nn,
        in_hw: [1, 1],
        out_hw: [1, 1],
        kernel: [1, 1],
        strides: [1, 1],
        dilations: [1, 1],
        pads_begin: [0, 0],
        x_zero_point: xz[0],
        out: super::qlinear::q_out(yt.dtype, ys[0], yz[0], clip),
        y_dtype: yt.dtype,
        bias,
        int8,
        requant,
        rescale,
        y_shape: vec![1, nn],
    };
    Some(Node {
        inputs: vec![n.input(0), Some(weights)],
        op: Arc::new(op),
        ..n.clone()
    })
}

fn qfast_node(graph: &Graph, g: &mut Graph, n: &Node, set: &KernelSet) -> Option<Node> {
    let qc = n.op.as_any().downcast_ref::<QLinearConv>()?;
    let infos = input_infos(graph, n);
    let x = infos.first()?.as_ref()?;
    let w = infos.get(3)?.as_ref()?;
    let yt = graph.tensor(*n.outputs.first()?);
    let q8 = |d: DType| matches!(d, DType::I8 | DType::U8);
    if x.shape.len() != 4 || x.shape[0] != 1 || !q8(x.dtype) || !q8(w.dtype) || !q8(yt.dtype) {
        return None;
    }
    let wd = w.data?;
    let geo = qc.conv.geometry(x.shape, w.shape).ok()?;
    let (m, ci, kh, kw) = (w.shape[0], x.shape[1], w.shape[2], w.shape[3]);
    let group = qc.conv.group;
    let taps = kh * kw;
    // A one-input-channel convolution with several outputs (the first
    // layer on a mono image or spectrogram) is a matrix product too: its
    // column is built once per position for every output channel, where the
    // depthwise kernel would widen the input once per output channel. A 3×3
    // one stays on the depthwise kernel's specialised 3×3 loop, unless the
    // core has the 8-bit dot product (measured on beer's first layer: 4% of
    // the model faster on the M4F and M3 as depthwise, 7% slower on the M55).
    let first_layer = ci == 1
        && group == 1
        && m >= 4
        && taps <= MAX_K
        && ([kh, kw] != [3, 3] || set.dot8().is_some());
    let kind = if group == ci
        && w.shape[1] == 1
        && m % ci == 0
        && taps <= qfast::depthwise::MAX_TAPS
        && !first_layer
    {
        QFastKind::Depthwise
    } else if group == 1 && ci * taps <= MAX_K {
        QFastKind::Gemm
    } else {
        return None;
    };
    let xs = const_scales(&infos, 1, "x_scale").ok()?;
    let xz = const_zero_points(&infos, 2, "x_zero_point").ok()?;
    let ws = per_channel(&const_scales(&infos, 4, "w_scale").ok()?, m, "w_scale").ok()?;
    let wz = per_channel(
        &const_zero_points(&infos, 5, "w_zero_point").ok()?,
        m,
        "w_zero_point",
    )
    .ok()?;
    let ys = const_scales(&infos, 6, "y_scale").ok()?;
    let yz = const_zero_points(&infos, 7, "y_zero_point").ok()?;
    if xs.len() != 1 || xz.len() != 1 || ys.len() != 1 || yz.len() != 1 {
        return None;
    }
    let bias = match infos.get(8).and_then(|b| b.as_ref()) {
        None => vec![0; m],
        Some(b) if b.dtype == DType::I32 && b.shape == [m] => b.data?.as_i32(),
        Some(_) => return None,
    };
    let requant = requants(xs[0], &ws, ys[0], qc.scales).ok()?;
    let k = wd.numel() / m;
    let wv: Vec<i32> = wd
        .to_i64()?
        .into_iter()
        .enumerate()
        .map(|(i, v)| v as i32 - wz[i / k])
        .collect();
    let wname = &graph.tensor(n.input(3)?).name;
    // Per channel from the accumulator bounds, for either kernel (`k` is a
    // channel's reduction: the taps of a depthwise channel).
    let rescale = rescales(&wv, k, &bias, xz[0], x.dtype, &requant, yz[0]);
    let (weights, bias, int8) = match kind {
        QFastKind::Gemm => pack_gemm(g, wname, &wv, m, k, &bias, xz[0], x.dtype, set),
        QFastKind::Depthwise => {
            let p = depthwise_params(ci, m, x.shape, &geo, [kh, kw], xz[0]);
            let mut packed = vec![0u32; p.packed_len()];
            qfast::depthwise::pack_depthwise(&wv, &p, &mut packed);
            let mut folded = vec![0i32; m];
            qfast::fold_bias(&wv, taps, &bias, xz[0], &mut folded);
            let id = push_const(
                g,
                format!("{wname}:qdw"),
                TensorData::from_u32(vec![packed.len()], &packed),
            );
            (id, folded, false)
        }
    };
    let out = super::qlinear::q_out(yt.dtype, ys[0], yz[0], qc.clip);
    let base = match kind {
        QFastKind::Gemm if taps == 1 => "QLinearConv(1x1)",
        QFastKind::Gemm => "QLinearConv",
        QFastKind::Depthwise => "QLinearConv(depthwise)",
    };
    let op = QConvFast {
        kind,
        label: clip_name(base, qc.clip),
        in_channels: ci,
        out_channels: m,
        in_hw: [x.shape[2], x.shape[3]],
        out_hw: [geo.out[0], geo.out[1]],
        kernel: [kh, kw],
        strides: [geo.strides[0], geo.strides[1]],
        dilations: [geo.dilations[0], geo.dilations[1]],
        pads_begin: [geo.pads_begin[0], geo.pads_begin[1]],
        x_zero_point: xz[0],
        out,
        y_dtype: yt.dtype,
        bias,
        int8,
        requant,
        rescale,
        y_shape: vec![1, m, geo.out[0], geo.out[1]],
    };
    Some(Node {
        inputs: vec![n.input(0), Some(weights)],
        op: Arc::new(op),
        ..n.clone()
    })
}

/// The depthwise kernel's shapes of a node (its output range is not needed
/// for the weight layout and scratch size and is left at the int8 one).
fn depthwise_params(
    ci: usize,
    m: usize,
    x_shape: &[usize],
    geo: &super::conv::Resolved,
    kernel: [usize; 2],
    x_zero_point: i32,
) -> qfast::depthwise::QDepthwiseParams {
    qfast::depthwise::QDepthwiseParams {
        in_channels: ci,
        out_channels: m,
        in_hw: [x_shape[2], x_shape[3]],
        out_hw: [geo.out[0], geo.out[1]],
        kernel,
        strides: [geo.strides[0], geo.strides[1]],
        dilations: [geo.dilations[0], geo.dilations[1]],
        pads_begin: [geo.pads_begin[0], geo.pads_begin[1]],
        x_zero_point,
        out: QOut {
            zero_point: 0,
            min: -128,
            max: 127,
        },
    }
}

/// A [`qfast::Rescale`] as a constant expression of the firmware.
fn rescale_tokens(q: &qfast::Rescale) -> TokenStream {
    let [m, s, rh] = [q.mult, q.shift_hi as i32, q.round_hi].map(lit_i32);
    let rl = Literal::u32_unsuffixed(q.round_lo);
    let z = q.with_zero_point;
    quote!(zk::qfast::Rescale {
        mult: #m, shift_hi: #s, round_lo: #rl, round_hi: #rh, with_zero_point: #z,
    })
}

fn lit_i32(v: i32) -> Literal {
    Literal::i64_unsuffixed(v as i64)
}

impl Op for QConvFast {
    fn name(&self) -> String {
        self.label.clone()
    }

    fn infer(&self, _inputs: &[Option<InputInfo<'_>>]) -> Result<Vec<OutputInfo>, OpError> {
        Ok(vec![OutputInfo::new(self.y_dtype, self.y_shape.clone())])
    }

    fn macs(&self, _inputs: &[Option<InputInfo<'_>>], _outputs: &[OutputInfo]) -> u64 {
        let per_out = match self.kind {
            QFastKind::Depthwise => 1,
            QFastKind::Gemm => self.in_channels,
        };
        (numel(&self.out_hw) * self.out_channels * per_out * self.kernel[0] * self.kernel[1]) as u64
    }

    fn emit(&self, cx: &NodeCx<'_>) -> Result<TokenStream, OpError> {
        let k = quote!(zk::reference);
        let n = lit_usize(self.out_channels);
        let b = self.bias.iter().map(|&v| lit_i32(v));
        let out = qout_tokens(&self.out, &k);
        let [cin, cout] = [self.in_channels, self.out_channels].map(lit_usize);
        let [ihw, ohw, ker, st, dil, pb] = [
            self.in_hw,
            self.out_hw,
            self.kernel,
            self.strides,
            self.dilations,
            self.pads_begin,
        ]
        .map(|v| arr_usize(&v));
        let xz = lit_i32(self.x_zero_point);
        let (x0, x1, y0) = (cx.x(0), cx.x(1), cx.y(0));
        let bias = quote!(static ZANT_BIAS: [i32; #n] = [#(#b),*];);
        Ok(match self.kind {
            QFastKind::Gemm => {
                // The rounding constants of each channel, computed here.
                let rq = self.rescale.iter().map(|q| {
                    let [m, s, rh] = [q.mult, q.shift_hi as i32, q.round_hi].map(lit_i32);
                    let rl = Literal::u32_unsuffixed(q.round_lo);
                    let z = q.with_zero_point;
                    quote!(zk::qfast::Rescale {
                        mult: #m, shift_hi: #s, round_lo: #rl, round_hi: #rh, with_zero_point: #z,
                    })
                });
                let statics = quote! {
                    #bias
                    static ZANT_RQ: [zk::qfast::Rescale; #n] = [#(#rq),*];
                };
                let p = qfast::conv::QConvGemmParams {
                    in_channels: self.in_channels,
                    out_channels: self.out_channels,
                    in_hw: self.in_hw,
                    out_hw: self.out_hw,
                    kernel: self.kernel,
                    strides: self.strides,
                    dilations: self.dilations,
                    pads_begin: self.pads_begin,
                    x_zero_point: self.x_zero_point,
                    out: self.out,
                };
                let (f, col) = if self.int8 {
                    let f = cx.dot8_kernel("qfast::conv8::conv");
                    let col = lit_usize(qfast::conv8::col_len8(p.k()));
                    (f, quote!(let mut col = [0i8; #col];))
                } else {
                    let f = cx.qmac_kernel("qfast::conv::conv");
                    let col = lit_usize(p.col_len());
                    (f, quote!(let mut col = [0u32; #col];))
                };
                quote! {
                    #statics
                    #col
                    #f(#x0, #x1, &ZANT_BIAS, &ZANT_RQ, &mut col, #y0, &zk::qfast::conv::QConvGemmParams {
                        in_channels: #cin, out_channels: #cout, in_hw: #ihw, out_hw: #ohw,
                        kernel: #ker, strides: #st, dilations: #dil, pads_begin: #pb,
                        x_zero_point: #xz, out: #out,
                    });
                }
            }
            QFastKind::Depthwise => {
                let rq = self.rescale.iter().map(rescale_tokens);
                let statics = quote! {
                    #bias
                    static ZANT_RQ: [zk::qfast::Rescale; #n] = [#(#rq),*];
                };
                let f = cx.qmac_kernel("qfast::depthwise::depthwise");
                let p = qfast::depthwise::QDepthwiseParams {
                    in_channels: self.in_channels,
                    out_channels: self.out_channels,
                    in_hw: self.in_hw,
                    out_hw: self.out_hw,
                    kernel: self.kernel,
                    strides: self.strides,
                    dilations: self.dilations,
                    pads_begin: self.pads_begin,
                    x_zero_point: self.x_zero_point,
                    out: self.out,
                };
                let scratch = lit_usize(p.scratch_len());
                quote! {
                    #statics
                    let mut ring = [0i16; #scratch];
                    #f(#x0, #x1, &ZANT_BIAS, &ZANT_RQ, &mut ring, #y0, &zk::qfast::depthwise::QDepthwiseParams {
                        in_channels: #cin, out_channels: #cout, in_hw: #ihw, out_hw: #ohw,
                        kernel: #ker, strides: #st, dilations: #dil, pads_begin: #pb,
                        x_zero_point: #xz, out: #out,
                    });
                }
            }
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel_set::Isa;

    fn empty() -> Graph {
        Graph {
            name: "t".into(),
            model_hash: String::new(),
            opset: 21,
            tensors: Vec::new(),
            nodes: Vec::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
        }
    }

    /// The `i8` layout on Helium when every weight fits `i8`, else (and on
    /// every other core) the 16-bit one; both fold the same accumulator.
    #[test]
    fn helium_takes_the_i8_layout_when_the_weights_fit() {
        let (m, k) = (3, 5);
        let fits: Vec<i32> = (0..m * k).map(|i| (i as i32 * 37) % 255 - 127).collect();
        let bias = [10, -20, 30];
        let helium = KernelSet::for_isa(Isa::Helium);
        let m4 = KernelSet::for_isa(Isa::CortexMFpu);

        let mut g = empty();
        let (id, b8, int8) = pack_gemm(&mut g, "w", &fits, m, k, &bias, 200, DType::U8, &helium);
        assert!(int8);
        let t = g.tensor(id);
        assert_eq!(t.dtype, DType::I8);
        assert_eq!(t.shape, [qfast::conv8::packed_len8(m, k)]);
        let packed = t.data.as_ref().unwrap().as_i8();
        assert_eq!(
            &packed[..k],
            &fits[..k].iter().map(|&v| v as i8).collect::<Vec<_>>()[..]
        );
        assert!(packed[k..16].iter().all(|&v| v == 0));
        // Columns of u8 inputs are offset by 128: bias - (200 - 128) · Σw.
        let s0: i32 = fits[..k].iter().sum();
        assert_eq!(b8[0], 10 - 72 * s0);

        let mut g = empty();
        let (id, b16, int8) = pack_gemm(&mut g, "w", &fits, m, k, &bias, 200, DType::U8, &m4);
        assert!(!int8);
        assert_eq!(g.tensor(id).dtype, DType::U32);
        assert_eq!(b16[0], 10 - 200 * s0);

        // A weight outside i8 (an asymmetric zero point): the 16-bit layout.
        let mut wide = fits.clone();
        wide[4] = 200;
        let mut g = empty();
        let (_, _, int8) = pack_gemm(&mut g, "w", &wide, m, k, &bias, 0, DType::I8, &helium);
        assert!(!int8);
    }
}
