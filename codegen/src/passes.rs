//! Graph passes: each takes a graph and returns a new one.
//!
//! - activation fusion: a Relu/Clip/LeakyRelu/… that is the only reader of a
//!   Conv or Gemm output is applied inside that Conv/Gemm;
//! - BatchNormalization after a Conv/Gemm with constant parameters is folded
//!   into its weights and bias (`ops::batch_norm::fold_batch_norm`);
//!
//! - QDQ: float islands of quantized graphs onto integer kernels (`crate::qdq`);
//!
//! Constant folding happens during import; views (Reshape, Flatten, Squeeze,
//! Unsqueeze, Identity, Dropout) cost nothing because the planner aliases them.

use std::sync::Arc;

use zant_kernels::fused::conv2d::{self as conv2d_k, MaxPoolFuse};

use crate::ir::{DType, Graph, Node, Tensor, TensorData, TensorId};
use crate::kernel_set::KernelSet;
use crate::ops::binary::{Binary, BinaryKind};
use crate::ops::conv::Conv;
use crate::ops::conv_direct::ConvDirect;
use crate::ops::conv_fast::{ConvFast, FastKind};
use crate::ops::conv_residual::ConvResidual;
use crate::ops::gemm::{Gemm, GemmFast};
use crate::ops::pool::{Pool, PoolKind};
use crate::ops::unary::{Unary, UnaryKind};
use crate::ops::{Activation, Op};
use zant_kernels::reference::binary::BinaryOp;

/// Options of the pass pipeline.
#[derive(Debug, Clone, Copy)]
pub struct PassOptions {
    /// Fuse activations into Conv/Gemm.
    pub fuse_activations: bool,
    /// Turn suitable Convs into fast convolutions with weights re-laid for
    /// their kernel (depthwise, 1×1, strided: [`fast_conv`]; stride 1:
    /// [`direct_conv`]) and fuse a following MaxPool into the stride-1 ones.
    pub direct_conv: bool,
    /// Put Gemms with constant weights on the packed kernels ([`fast_gemm`]).
    pub fast_gemm: bool,
    /// The kernel set of the build (its tuning, e.g. the stride-1 direct
    /// convolution's output positions per pass).
    pub kernels: KernelSet,
}

impl Default for PassOptions {
    fn default() -> Self {
        PassOptions {
            fuse_activations: true,
            direct_conv: true,
            fast_gemm: true,
            kernels: KernelSet::portable(),
        }
    }
}

/// Runs the pass pipeline.
pub fn run(graph: &Graph, opts: &PassOptions) -> Graph {
    // BatchNormalization after a Conv/Gemm with constant parameters becomes
    // part of that node's weights and bias.
    let mut g = crate::ops::batch_norm::fold_batch_norm(graph);
    // Quantized graphs: float islands between integer operators become
    // integer operators (`crate::qdq`).
    g = crate::qdq::run(&g);
    if opts.direct_conv {
        g = crate::ops::qconv_fast::qfast_conv(&g, &opts.kernels);
    }
    if opts.fuse_activations {
        g = fuse_activations(&g);
    }
    if opts.direct_conv {
        g = fast_conv(&g);
        if opts.fast_gemm {
            g = fast_gemm(&g);
        }
        g = direct_conv_for(&g, &opts.kernels);
        g = fuse_max_pool(&g);
        if opts.fuse_activations {
            g = fuse_residual_add(&g);
        }
    }
    g
}

/// Adds a constant tensor to `g`; returns its id.
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

/// Replaces 2-D, batch-1, undilated f32 Convs with constant weights that the
/// stride-1 [`direct_conv`] does not take by a [`ConvFast`]: depthwise
/// convolutions (`group = C = M`), 1×1 stride-1 unpadded convolutions (a
/// packed matrix product) and strided single-group convolutions (the indirect
/// direct convolution, with a table of tap offsets).
pub fn fast_conv(graph: &Graph) -> Graph {
    let mut g = graph.clone();
    let mut nodes = Vec::with_capacity(g.nodes.len());
    for n in &graph.nodes {
        match fast_conv_node(graph, &mut g, n) {
            Some(node) => nodes.push(node),
            None => nodes.push(n.clone()),
        }
    }
    Graph { nodes, ..g }
}

fn fast_conv_node(graph: &Graph, g: &mut Graph, n: &Node) -> Option<Node> {
    let c = n.op.as_any().downcast_ref::<Conv>()?;
    let (x, w) = (n.input(0)?, n.input(1)?);
    let (xt, wt) = (graph.tensor(x), graph.tensor(w));
    let wd = wt.data.as_ref()?;
    if xt.shape.len() != 4 || xt.shape[0] != 1 || xt.dtype != DType::F32 || wt.dtype != DType::F32 {
        return None;
    }
    if let Some(b) = n.input(2) {
        if graph.tensor(b).dtype != DType::F32 {
            return None;
        }
    }
    let geo = c.geometry(&xt.shape, &wt.shape).ok()?;
    if geo.dilations.iter().any(|&d| d != 1) {
        return None;
    }
    let (m, ci, kh, kw) = (wt.shape[0], xt.shape[1], wt.shape[2], wt.shape[3]);
    let strides = [geo.strides[0], geo.strides[1]];
    let pads_begin = [geo.pads_begin[0], geo.pads_begin[1]];
    let depthwise = c.group == ci && m == ci && wt.shape[1] == 1 && ci > 1;
    let pointwise = c.group == 1
        && [kh, kw] == [1, 1]
        && strides == [1, 1]
        && geo.pads_begin.iter().chain(&geo.pads_end).all(|&p| p == 0);
    let kind = if depthwise {
        FastKind::Depthwise
    } else if pointwise {
        FastKind::Pointwise
    } else if c.group == 1 && strides != [1, 1] {
        FastKind::Direct
    } else {
        return None;
    };
    let mut inputs = vec![Some(x)];
    match kind {
        // Depthwise weights are read as ONNX lays them out.
        FastKind::Depthwise => inputs.push(Some(w)),
        FastKind::Pointwise | FastKind::Direct => {
            let k = ci * kh * kw;
            let mut packed = vec![0f32; zant_kernels::fast::packed_len(m, k, 4)];
            zant_kernels::fast::pack_rows::<4>(&wd.as_f32(), m, k, k, 1, &mut packed);
            let len = packed.len();
            inputs.push(Some(push_const(
                g,
                format!("{}:packed", wt.name),
                TensorData::from_f32(vec![len], &packed),
            )));
        }
    }
    inputs.push(n.input(2));
    if kind == FastKind::Direct {
        let k = ci * kh * kw;
        let mut offs = vec![0u32; k];
        zant_kernels::fast::conv::offsets(ci, [xt.shape[2], xt.shape[3]], [kh, kw], &mut offs);
        inputs.push(Some(push_const(
            g,
            format!("{}:offsets", wt.name),
            TensorData::from_u32(vec![k], &offs),
        )));
    }
    let op = ConvFast {
        kind,
        in_channels: ci,
        out_channels: m,
        in_hw: [xt.shape[2], xt.shape[3]],
        out_hw: [geo.out[0], geo.out[1]],
        kernel: [kh, kw],
        strides,
        pads_begin,
        activation: c.activation,
    };
    Some(Node {
        inputs,
        op: Arc::new(op),
        ..n.clone()
    })
}

/// Smallest Gemm (in MACs) that [`fast_gemm`] moves to the packed kernels.
/// Below it the packed kernel's code costs more flash than its speed is
/// worth: mnist-8's 256×10 Gemm (2,560 MACs) on the Cortex-M4F saves 3,246
/// instructions per inference there and costs 6,156 B of flash.
pub const FAST_GEMM_MIN_MACS: usize = 16 * 1024;

/// Replaces f32 Gemms of at least [`FAST_GEMM_MIN_MACS`] with a constant `B`
/// and a constant `C` that is the same for every row (or no `C`) by
/// [`GemmFast`]: `alpha · op(B)` re-laid for the packed kernels, `beta · C`
/// as a bias vector.
pub fn fast_gemm(graph: &Graph) -> Graph {
    let mut g = graph.clone();
    let mut nodes = Vec::with_capacity(g.nodes.len());
    for n in &graph.nodes {
        match fast_gemm_node(graph, &mut g, n) {
            Some(node) => nodes.push(node),
            None => nodes.push(n.clone()),
        }
    }
    Graph { nodes, ..g }
}

fn fast_gemm_node(graph: &Graph, g: &mut Graph, n: &Node) -> Option<Node> {
    let gm = n.op.as_any().downcast_ref::<Gemm>()?;
    let (a, b) = (n.input(0)?, n.input(1)?);
    let (at, bt) = (graph.tensor(a), graph.tensor(b));
    let bd = bt.data.as_ref()?;
    if at.dtype != DType::F32 || bt.dtype != DType::F32 {
        return None;
    }
    let c = n.input(2).map(|c| graph.tensor(c));
    let p = gm
        .params(&at.shape, &bt.shape, c.map(|c| c.shape.as_slice()))
        .ok()?;
    if p.m * p.k * p.n < FAST_GEMM_MIN_MACS {
        return None;
    }
    let bias = match c {
        None => None,
        Some(ct) => {
            let cd = ct.data.as_ref()?;
            if ct.dtype != DType::F32 || p.c_stride_m != 0 {
                return None;
            }
            let cv = cd.as_f32();
            let bias: Vec<f32> = (0..p.n).map(|j| p.beta * cv[j * p.c_stride_n]).collect();
            Some(push_const(
                g,
                format!("{}:bias", ct.name),
                TensorData::from_f32(vec![p.n], &bias),
            ))
        }
    };
    let op = GemmFast {
        m: p.m,
        k: p.k,
        n: p.n,
        trans_a: p.trans_a,
        activation: gm.activation,
    };
    // Row j of the packed matrix is column j of op(B), times alpha.
    let bv: Vec<f32> = bd.as_f32().iter().map(|v| p.alpha * v).collect();
    let (rs, cs) = if p.trans_b { (p.k, 1) } else { (1, p.n) };
    let r = op.panel();
    let mut packed = vec![0f32; zant_kernels::fast::packed_len(p.n, p.k, r)];
    if r == 8 {
        zant_kernels::fast::pack_rows::<8>(&bv, p.n, p.k, rs, cs, &mut packed);
    } else {
        zant_kernels::fast::pack_rows::<4>(&bv, p.n, p.k, rs, cs, &mut packed);
    }
    let len = packed.len();
    let w = push_const(
        g,
        format!("{}:packed", bt.name),
        TensorData::from_f32(vec![len], &packed),
    );
    Some(Node {
        inputs: vec![Some(a), Some(w), bias],
        op: Arc::new(op),
        ..n.clone()
    })
}

/// Replaces 2-D, batch-1, single-group, stride-1, undilated f32 Convs with
/// constant weights by [`ConvDirect`] with weights packed for it.
pub fn direct_conv(graph: &Graph, positions: usize) -> Graph {
    direct_conv_with(graph, positions, false)
}

/// [`direct_conv`] for a kernel set: where the set has an FPU micro-kernel
/// ([`KernelSet::indirect_conv`]) each [`ConvDirect`] also gets its table of
/// tap offsets and runs on that micro-kernel.
pub fn direct_conv_for(graph: &Graph, set: &KernelSet) -> Graph {
    direct_conv_with(graph, set.conv_positions, set.indirect_conv())
}

fn direct_conv_with(graph: &Graph, positions: usize, offsets: bool) -> Graph {
    let mut g = graph.clone();
    let mut nodes = Vec::with_capacity(g.nodes.len());
    for n in &graph.nodes {
        let Some(c) = n.op.as_any().downcast_ref::<Conv>() else {
            nodes.push(n.clone());
            continue;
        };
        let (Some(x), Some(w)) = (n.input(0), n.input(1)) else {
            nodes.push(n.clone());
            continue;
        };
        let (xt, wt) = (graph.tensor(x), graph.tensor(w));
        let suitable = xt.shape.len() == 4
            && xt.shape[0] == 1
            && c.group == 1
            && wt.data.is_some()
            && xt.dtype == DType::F32;
        let geo = if suitable {
            c.geometry(&xt.shape, &wt.shape).ok()
        } else {
            None
        };
        let Some(geo) = geo
            .filter(|g| g.strides.iter().all(|&s| s == 1) && g.dilations.iter().all(|&d| d == 1))
        else {
            nodes.push(n.clone());
            continue;
        };
        let (m, ci, kh, kw) = (wt.shape[0], wt.shape[1], wt.shape[2], wt.shape[3]);
        let mut packed = vec![0f32; conv2d_k::packed_len(m, ci, kh, kw)];
        conv2d_k::pack_weights(
            &wt.data.as_ref().expect("checked").as_f32(),
            m,
            ci,
            kh,
            kw,
            &mut packed,
        );
        let pid = TensorId(g.tensors.len());
        g.tensors.push(Tensor {
            name: format!("{}:packed", wt.name),
            dtype: DType::F32,
            shape: vec![packed.len()],
            data: Some(Arc::new(TensorData::from_f32(vec![packed.len()], &packed))),
        });
        let op = ConvDirect {
            out_channels: m,
            kernel: [kh, kw],
            pads_begin: [geo.pads_begin[0], geo.pads_begin[1]],
            conv_hw: [geo.out[0], geo.out[1]],
            activation: c.activation,
            pool: None,
            positions,
            offsets,
        };
        let mut inputs = vec![Some(x), Some(pid)];
        if offsets {
            // Packed as `fast::pack_rows::<4>` packs `[M][C·kH·kW]`: the same
            // layout, so the micro-kernel driver reads these weights as they are.
            let k = ci * kh * kw;
            let mut offs = vec![0u32; k];
            zant_kernels::fast::conv::offsets(ci, [xt.shape[2], xt.shape[3]], [kh, kw], &mut offs);
            let oid = push_const(
                &mut g,
                format!("{}:offsets", wt.name),
                TensorData::from_u32(vec![k], &offs),
            );
            inputs.extend([n.input(2), Some(oid)]);
        } else if let Some(b) = n.input(2) {
            inputs.push(Some(b));
        }
        nodes.push(Node {
            inputs,
            op: Arc::new(op),
            ..n.clone()
        });
    }
    Graph { nodes, ..g }
}

/// Fuses a MaxPool with non-overlapping windows (strides ≥ kernel, no
/// dilation) that is the only reader of a [`ConvDirect`] output.
pub fn fuse_max_pool(graph: &Graph) -> Graph {
    let consumers = graph.consumers();
    let mut nodes: Vec<Node> = Vec::with_capacity(graph.nodes.len());
    let mut skip = vec![false; graph.nodes.len()];
    for (i, n) in graph.nodes.iter().enumerate() {
        if skip[i] {
            continue;
        }
        let fused = (|| {
            let c = n.op.as_any().downcast_ref::<ConvDirect>()?;
            if c.pool.is_some() {
                return None;
            }
            let out = n.outputs[0];
            if graph.outputs.contains(&out) || consumers[out.0].len() != 1 {
                return None;
            }
            let j = consumers[out.0][0];
            let next = &graph.nodes[j];
            let pool = next.op.as_any().downcast_ref::<Pool>()?;
            if pool.kind != PoolKind::Max || pool.global || next.outputs.len() != 1 {
                return None;
            }
            let t = graph.tensor(out);
            let geo = pool.geometry(&t.shape).ok()?;
            let ok = geo.dilations.iter().all(|&d| d == 1)
                && geo.strides.iter().zip(&geo.kernel).all(|(s, k)| s >= k);
            if !ok {
                return None;
            }
            let mut c = c.clone();
            c.pool = Some(MaxPoolFuse {
                kernel: [geo.kernel[0], geo.kernel[1]],
                strides: [geo.strides[0], geo.strides[1]],
                pads_begin: [geo.pads_begin[0], geo.pads_begin[1]],
                out: [geo.out[0], geo.out[1]],
            });
            Some((j, c))
        })();
        match fused {
            Some((j, c)) => {
                skip[j] = true;
                nodes.push(Node {
                    outputs: graph.nodes[j].outputs.clone(),
                    op: Arc::new(c),
                    ..n.clone()
                });
            }
            None => nodes.push(n.clone()),
        }
    }
    Graph {
        nodes,
        ..graph.clone()
    }
}

/// The activation a `Unary` node computes (a Clip's bounds resolved from its
/// constant inputs); `None` for other nodes. Shared with the QDQ pass.
pub(crate) fn activation_of(graph: &Graph, node: &Node) -> Option<Activation> {
    let u = node.op.as_any().downcast_ref::<Unary>()?;
    match u.resolved(&graph.input_infos(node)).ok()? {
        // Softplus was never fused; it stays a node of its own.
        UnaryKind::Act(a) if a != Activation::Softplus => Some(a),
        _ => None,
    }
}

fn with_activation(op: &Arc<dyn Op>, a: Activation) -> Option<Arc<dyn Op>> {
    if let Some(c) = op.as_any().downcast_ref::<Conv>() {
        if c.activation == Activation::None {
            let mut c = c.clone();
            c.activation = a;
            return Some(Arc::new(c));
        }
    }
    if let Some(gm) = op.as_any().downcast_ref::<Gemm>() {
        if gm.activation == Activation::None {
            let mut gm = gm.clone();
            gm.activation = a;
            return Some(Arc::new(gm));
        }
    }
    None
}

/// Fuses single-consumer activations into the Conv/Gemm producing their input.
pub fn fuse_activations(graph: &Graph) -> Graph {
    let consumers = graph.consumers();
    let is_output = |t: TensorId| graph.outputs.contains(&t);
    let mut nodes: Vec<Node> = Vec::with_capacity(graph.nodes.len());
    let mut skip = vec![false; graph.nodes.len()];
    for (i, n) in graph.nodes.iter().enumerate() {
        if skip[i] {
            continue;
        }
        let out = n.outputs[0];
        let mut fused = None;
        if n.outputs.len() == 1 && !is_output(out) && consumers[out.0].len() == 1 {
            let j = consumers[out.0][0];
            let next = &graph.nodes[j];
            if next.input(0) == Some(out)
                && graph.tensor(next.outputs[0]).dtype == graph.tensor(out).dtype
            {
                if let Some(a) = activation_of(graph, next) {
                    if let Some(op) = with_activation(&n.op, a) {
                        fused = Some((j, op));
                    }
                }
            }
        }
        match fused {
            Some((j, op)) => {
                skip[j] = true;
                let next = &graph.nodes[j];
                nodes.push(Node {
                    name: n.name.clone(),
                    op_type: n.op_type.clone(),
                    opset: n.opset,
                    inputs: n.inputs.clone(),
                    outputs: next.outputs.clone(),
                    op,
                });
            }
            None => nodes.push(n.clone()),
        }
    }
    Graph {
        nodes,
        ..graph.clone()
    }
}

/// The micro-kernel parameters of a direct convolution node that can take a
/// residual Add: single group, no activation, no pooling.
fn residual_conv(graph: &Graph, n: &Node) -> Option<zant_kernels::fast::conv::DirectConvParams> {
    let x = graph.tensor(n.input(0)?);
    if let Some(c) = n.op.as_any().downcast_ref::<ConvDirect>() {
        // Without the offsets (cores whose stride-1 convolution is
        // `fused::conv2d`) the fused node gets a table of its own: the
        // packed weights are the same.
        if c.pool.is_none() && c.activation == Activation::None {
            return Some(c.direct(&x.shape));
        }
    }
    if let Some(c) = n.op.as_any().downcast_ref::<ConvFast>() {
        if c.kind == FastKind::Direct && c.activation == Activation::None {
            return Some(c.direct());
        }
    }
    None
}

/// One residual fusion found by [`fuse_residual_add`], kept at the Add's
/// index: the convolution's index, the skip operand, and the activation
/// after the Add (its index and kind), if fused too.
type ResidualFusion = (usize, TensorId, Option<(usize, Activation)>);

/// Fuses a residual `Add(skip, conv)` (either order, same shapes, float)
/// into the direct convolution producing one operand, when the Add is that
/// output's only reader, together with an activation that is the Add's only
/// reader: one [`ConvResidual`] node at the Add's place computes
/// `act(conv + bias + skip)` over the skip tensor, so the planner can give
/// the sum the skip's buffer. Skips that are the convolution's own input are
/// left alone (the sum would overwrite what the convolution reads).
pub fn fuse_residual_add(graph: &Graph) -> Graph {
    let mut g = graph.clone();
    let consumers = graph.consumers();
    let producers = graph.producers();
    let is_output = |t: TensorId| graph.outputs.contains(&t);
    let mut at_add: Vec<Option<ResidualFusion>> = vec![None; graph.nodes.len()];
    let mut gone = vec![false; graph.nodes.len()];
    for (j, add) in graph.nodes.iter().enumerate() {
        let Some(b) = add.op.as_any().downcast_ref::<Binary>() else {
            continue;
        };
        if b.variadic
            || b.kind != BinaryKind::Arith(BinaryOp::Add)
            || add.inputs.len() != 2
            || add.outputs.len() != 1
        {
            continue;
        }
        let (Some(a0), Some(a1)) = (add.input(0), add.input(1)) else {
            continue;
        };
        let out = graph.tensor(add.outputs[0]);
        let same = |t: TensorId| {
            let t = graph.tensor(t);
            t.dtype == DType::F32 && t.shape == out.shape
        };
        if a0 == a1 || !same(a0) || !same(a1) || out.dtype != DType::F32 {
            continue;
        }
        let found = [(a1, a0), (a0, a1)]
            .into_iter()
            .find_map(|(conv_out, skip)| {
                let i = producers[conv_out.0]?;
                let conv = &graph.nodes[i];
                let ok = !gone[i]
                    && at_add[i].is_none()
                    && conv.outputs.len() == 1
                    && !is_output(conv_out)
                    && consumers[conv_out.0] == [j]
                    && conv.input(0) != Some(skip)
                    && residual_conv(graph, conv).is_some();
                ok.then_some((i, skip))
            });
        let Some((i, skip)) = found else {
            continue;
        };
        let sum = add.outputs[0];
        let act = (!is_output(sum) && consumers[sum.0].len() == 1)
            .then(|| consumers[sum.0][0])
            .and_then(|r| {
                let next = &graph.nodes[r];
                (next.input(0) == Some(sum) && graph.tensor(next.outputs[0]).dtype == DType::F32)
                    .then_some(())?;
                Some((r, activation_of(graph, next)?))
            });
        gone[i] = true;
        if let Some((r, _)) = act {
            gone[r] = true;
        }
        at_add[j] = Some((i, skip, act));
    }
    let mut nodes: Vec<Node> = Vec::with_capacity(graph.nodes.len());
    for (j, n) in graph.nodes.iter().enumerate() {
        if gone[j] {
            continue;
        }
        let Some((i, skip, act)) = at_add[j] else {
            nodes.push(n.clone());
            continue;
        };
        let conv = &graph.nodes[i];
        let mut params = residual_conv(graph, conv).expect("checked above");
        params.activation = act.map_or(Activation::None, |(_, a)| a);
        let mut inputs: Vec<Option<TensorId>> = (0..4).map(|k| conv.input(k)).collect();
        if inputs[3].is_none() {
            let k = params.in_channels * params.kernel[0] * params.kernel[1];
            let mut offs = vec![0u32; k];
            zant_kernels::fast::conv::offsets(
                params.in_channels,
                params.in_hw,
                params.kernel,
                &mut offs,
            );
            let name = format!("{}:offsets", conv.name);
            inputs[3] = Some(push_const(
                &mut g,
                name,
                TensorData::from_u32(vec![k], &offs),
            ));
        }
        inputs.push(Some(skip));
        let outputs = match act {
            Some((r, _)) => graph.nodes[r].outputs.clone(),
            None => n.outputs.clone(),
        };
        let mut absorbs = vec![n.name.clone()];
        absorbs.extend(act.map(|(r, _)| graph.nodes[r].name.clone()));
        nodes.push(Node {
            name: conv.name.clone(),
            op_type: conv.op_type.clone(),
            opset: conv.opset,
            inputs,
            outputs,
            op: Arc::new(ConvResidual { params, absorbs }),
        });
    }
    Graph { nodes, ..g }
}
