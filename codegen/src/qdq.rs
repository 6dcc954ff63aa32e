//! The QDQ pass: quantized graphs onto integer kernels.
//!
//! Quantized ONNX graphs (QDQ format, or QOperator format with float
//! operators between `QuantizeLinear`/`DequantizeLinear` pairs, like
//! `beer.onnx`) compute in float between their integer operators. This pass
//! rewrites the float islands that have an integer equivalent:
//!
//! - `QLinearConv`/`QLinearMatMul → DequantizeLinear → [Relu | Clip] →
//!   QuantizeLinear`: the operator requantizes straight to the
//!   QuantizeLinear's scale and zero point, the activation narrows its output
//!   range (no float, one rounding instead of two);
//! - `DequantizeLinear(a), DequantizeLinear(b) → Add → QuantizeLinear`:
//!   an integer [`QAdd`]; when the float sum is also read elsewhere, those
//!   readers get `DequantizeLinear` of the integer sum (the quantized value
//!   stands for the float one, as in the integer runtimes);
//! - `DequantizeLinear → op → QuantizeLinear` islands (QDQ format, as
//!   onnxruntime's quantizer writes it): Conv (optionally followed by a
//!   Relu/Clip) becomes `QLinearConv`, MatMul `QLinearMatMul`, Gemm `QGemm`,
//!   GlobalAveragePool / AveragePool / Sigmoid / Softmax / Mul / Concat their
//!   `com.microsoft` QLinear operators, MaxPool an integer max pool and
//!   Reshape/Flatten/Squeeze/Unsqueeze views of the integer tensor (these
//!   last two only when the QuantizeLinear repeats the DequantizeLinear's
//!   scale and zero point);
//! - `DequantizeLinear → QuantizeLinear` with the same scale and zero point:
//!   both disappear;
//! - nodes whose outputs nobody reads any more are removed.
//!
//! The requantization multipliers of the integer Conv and MatMul nodes
//! made here are computed from the scales in `f64`
//! ([`ScaleMath::Exact`]): a QDQ graph means the real-number product, which
//! the `f32` product onnxruntime's QLinear kernels use can misround by a
//! step at a near tie.
//!
//! Float graph inputs and outputs keep their single QuantizeLinear /
//! DequantizeLinear at the edge. Everything not matched stays as it was, so
//! the graph computes the same function either way.

use std::collections::HashMap;
use std::sync::Arc;

use crate::ir::{numel, DType, Graph, Node, TensorId};
use crate::ops::concat::Concat;
use crate::ops::conv::Conv;
use crate::ops::gemm::Gemm;
use crate::ops::pool::{Pool, PoolKind};
use crate::ops::qcontrib::{
    QBinaryKind, QGemm, QLinearAveragePool, QLinearBinary, QLinearConcat, QLinearGlobalAveragePool,
    QLinearLookup, QLinearSoftmax, QLookupKind, QMaxPool,
};
use crate::ops::qlinear::{QAdd, QLinearConv, QLinearMatMul, QParam, ScaleMath};
use crate::ops::quant::{QuantKind, QuantLinear};
use crate::ops::softmax::Softmax;
use crate::ops::{Activation, Op};
use crate::passes::activation_of;

/// Runs the QDQ rewrites (a no-op on graphs without quantized operators).
pub fn run(graph: &Graph) -> Graph {
    let has_quant = graph
        .nodes
        .iter()
        .any(|n| n.op.as_any().downcast_ref::<QuantLinear>().is_some());
    if !has_quant {
        return graph.clone();
    }
    let g = integer_islands(graph);
    let g = fold_activations(&g);
    let g = integer_add(&g);
    let g = drop_requant_pairs(&g);
    remove_dead(&g)
}

fn quant_of(n: &Node) -> Option<&QuantLinear> {
    n.op.as_any().downcast_ref::<QuantLinear>()
}

/// Scale, zero point and integer type of a per-tensor Q/DQ node with constant
/// parameters. A QuantizeLinear needs its zero point (it fixes the type).
fn per_tensor(graph: &Graph, n: &Node) -> Option<(QParam, DType)> {
    let q = quant_of(n)?;
    if q.block_size != 0 {
        return None;
    }
    let s = graph.tensor(n.input(1)?);
    let scale = s.data.as_ref()?.to_f64();
    if scale.len() != 1 {
        return None;
    }
    let (zero_point, dtype) = match n.input(2) {
        Some(z) => {
            let t = graph.tensor(z);
            let v = t.data.as_ref()?.to_i64()?;
            if v.len() != 1 {
                return None;
            }
            (v[0] as i32, t.dtype)
        }
        None if q.kind == QuantKind::Dequantize => (0, graph.tensor(n.input(0)?).dtype),
        None => return None,
    };
    if !matches!(dtype, DType::I8 | DType::U8) {
        return None;
    }
    Some((
        QParam {
            scale: scale[0] as f32,
            zero_point,
        },
        dtype,
    ))
}

fn is_kind(n: &Node, kind: QuantKind) -> bool {
    quant_of(n).is_some_and(|q| q.kind == kind)
}

/// Float bounds of a Relu or a Clip with constant bounds.
fn activation_bounds(graph: &Graph, n: &Node) -> Option<(f32, f32)> {
    match activation_of(graph, n)? {
        Activation::Relu => Some((0.0, f32::INFINITY)),
        Activation::Clip { min, max } => Some((min, max)),
        _ => None,
    }
}

fn intersect(a: Option<(f32, f32)>, b: (f32, f32)) -> (f32, f32) {
    match a {
        None => b,
        Some((lo, hi)) => (lo.max(b.0), hi.min(b.1)),
    }
}

/// The only reader of `t`, if it has exactly one and is not a graph output.
fn sole_reader(graph: &Graph, consumers: &[Vec<usize>], t: TensorId) -> Option<usize> {
    match consumers[t.0].as_slice() {
        [j] if !graph.outputs.contains(&t) => Some(*j),
        _ => None,
    }
}

/// What a DequantizeLinear feeding an island gives: the integer tensor and
/// its scale and zero-point tensors.
#[derive(Clone, Copy)]
struct Dq {
    x: TensorId,
    scale: Option<TensorId>,
    zero_point: Option<TensorId>,
}

/// The DequantizeLinear (among `nodes`) producing `t`, per tensor when
/// `per_tensor_only`, else per tensor or per `axis` of a constant input.
fn dq_input(
    g: &Graph,
    nodes: &[Node],
    producer: &HashMap<TensorId, usize>,
    t: TensorId,
    axis: Option<usize>,
) -> Option<Dq> {
    let dq = &nodes[*producer.get(&t)?];
    let q = quant_of(dq)?;
    if q.kind != QuantKind::Dequantize {
        return None;
    }
    let x = dq.input(0)?;
    if per_tensor(g, dq).is_none() {
        // Per-axis weights: a constant 8-bit tensor quantized along `axis`.
        let ax = axis?;
        let xt = g.tensor(x);
        let rank = xt.shape.len() as i64;
        let qa = if q.axis < 0 { q.axis + rank } else { q.axis };
        if q.block_size != 0 || qa != ax as i64 || xt.data.is_none() {
            return None;
        }
        if !matches!(xt.dtype, DType::I8 | DType::U8) {
            return None;
        }
        g.tensor(dq.input(1)?).data.as_ref()?;
        if let Some(z) = dq.input(2) {
            g.tensor(z).data.as_ref()?;
        }
    }
    Some(Dq {
        x,
        scale: dq.input(1),
        zero_point: dq.input(2),
    })
}

/// A DequantizeLinear of a constant `int32` bias with zero point 0.
fn dq_bias(
    g: &Graph,
    nodes: &[Node],
    producer: &HashMap<TensorId, usize>,
    t: TensorId,
) -> Option<TensorId> {
    let dq = &nodes[*producer.get(&t)?];
    if !is_kind(dq, QuantKind::Dequantize) {
        return None;
    }
    let b = dq.input(0)?;
    let bt = g.tensor(b);
    if bt.dtype != DType::I32 || bt.data.is_none() {
        return None;
    }
    if let Some(z) = dq.input(2) {
        if g.tensor(z).data.as_ref()?.to_i64()?.iter().any(|&v| v != 0) {
            return None;
        }
    }
    Some(b)
}

/// `DequantizeLinear → op → QuantizeLinear` into integer operators.
fn integer_islands(graph: &Graph) -> Graph {
    let consumers = graph.consumers();
    let g = graph;
    let mut skip = vec![false; graph.nodes.len()];
    let mut nodes: Vec<Node> = Vec::with_capacity(graph.nodes.len());
    let mut producer: HashMap<TensorId, usize> = HashMap::new();
    for (i, n) in graph.nodes.iter().enumerate() {
        if skip[i] {
            continue;
        }
        let rewritten = (|| {
            if n.outputs.len() != 1 {
                return None;
            }
            // The op's sole reader: a QuantizeLinear, maybe after a Relu/Clip
            // (folded into the output range of Conv and MatMul).
            let mut j = sole_reader(g, &consumers, n.outputs[0])?;
            let mut act = None;
            let mut clip = None;
            if matches!(n.op_type.as_str(), "Conv" | "MatMul") {
                if let Some(b) = activation_bounds(g, &g.nodes[j]) {
                    clip = Some(b);
                    act = Some(j);
                    j = sole_reader(g, &consumers, g.nodes[j].outputs[0])?;
                }
            }
            if skip[j] || !is_kind(&g.nodes[j], QuantKind::Quantize) {
                return None;
            }
            let q = &g.nodes[j];
            let (qy, yt) = per_tensor(g, q)?;
            let (ys, yz) = (q.input(1), q.input(2));
            let dq =
                |k: usize, axis: Option<usize>| dq_input(g, &nodes, &producer, n.input(k)?, axis);
            let same = |d: &Dq| -> bool {
                let p = &nodes[producer[&n.input(0).unwrap()]];
                per_tensor(g, p).is_some_and(|(pp, pt)| pp == qy && pt == yt)
                    && g.tensor(d.x).dtype == yt
            };
            let un = |d: Dq| vec![Some(d.x), d.scale, d.zero_point, ys, yz];
            let any = n.op.as_any();
            let (op, inputs): (Arc<dyn Op>, Vec<Option<TensorId>>) = match n.op_type.as_str() {
                "Conv" => {
                    let c = any.downcast_ref::<Conv>()?;
                    let (x, w) = (dq(0, None)?, dq(1, Some(0))?);
                    let b = match n.input(2) {
                        Some(t) => Some(dq_bias(g, &nodes, &producer, t)?),
                        None => None,
                    };
                    let op = QLinearConv {
                        conv: c.clone(),
                        clip,
                        scales: ScaleMath::Exact,
                    };
                    let ins = vec![
                        Some(x.x),
                        x.scale,
                        x.zero_point,
                        Some(w.x),
                        w.scale,
                        w.zero_point,
                        ys,
                        yz,
                        b,
                    ];
                    (Arc::new(op), ins)
                }
                "MatMul" => {
                    let a = dq(0, None)?;
                    let rank = g.tensor(n.input(1)?).shape.len();
                    let b = dq(1, Some(rank.checked_sub(1)?))?;
                    let ins = vec![
                        Some(a.x),
                        a.scale,
                        a.zero_point,
                        Some(b.x),
                        b.scale,
                        b.zero_point,
                        ys,
                        yz,
                    ];
                    let op = QLinearMatMul {
                        clip,
                        scales: ScaleMath::Exact,
                    };
                    (Arc::new(op), ins)
                }
                "Gemm" => {
                    let gm = any.downcast_ref::<Gemm>()?;
                    if gm.trans_a
                        || gm.alpha != 1.0
                        || gm.beta != 1.0
                        || gm.activation != Activation::None
                    {
                        return None;
                    }
                    let a = dq(0, None)?;
                    let b = dq(1, Some(if gm.trans_b { 0 } else { 1 }))?;
                    let c = match n.input(2) {
                        Some(t) => Some(dq_bias(g, &nodes, &producer, t)?),
                        None => None,
                    };
                    let ins = vec![
                        Some(a.x),
                        a.scale,
                        a.zero_point,
                        Some(b.x),
                        b.scale,
                        b.zero_point,
                        c,
                        ys,
                        yz,
                    ];
                    let op = QGemm {
                        trans_b: gm.trans_b,
                        alpha: 1.0,
                    };
                    (Arc::new(op), ins)
                }
                "GlobalAveragePool" => {
                    let op = QLinearGlobalAveragePool {
                        channels_last: false,
                    };
                    (Arc::new(op), un(dq(0, None)?))
                }
                "AveragePool" => {
                    let pool = any.downcast_ref::<Pool>()?.clone();
                    (Arc::new(QLinearAveragePool { pool }), un(dq(0, None)?))
                }
                "MaxPool" => {
                    let pool = any.downcast_ref::<Pool>()?.clone();
                    let x = dq(0, None)?;
                    if pool.kind != PoolKind::Max || pool.global || !same(&x) {
                        return None;
                    }
                    (Arc::new(QMaxPool { pool }), vec![Some(x.x)])
                }
                "Sigmoid" => {
                    let op = QLinearLookup {
                        kind: QLookupKind::Sigmoid,
                    };
                    (Arc::new(op), un(dq(0, None)?))
                }
                "Softmax" => {
                    let softmax = any.downcast_ref::<Softmax>()?.clone();
                    if softmax.log {
                        return None;
                    }
                    (Arc::new(QLinearSoftmax { softmax }), un(dq(0, None)?))
                }
                "Mul" => {
                    let (a, b) = (dq(0, None)?, dq(1, None)?);
                    let (sa, sb) = (&g.tensor(a.x).shape, &g.tensor(b.x).shape);
                    if !(sa == sb || numel(sa) == 1 || numel(sb) == 1) {
                        return None;
                    }
                    let op = QLinearBinary {
                        kind: QBinaryKind::Mul,
                    };
                    let ins = vec![
                        Some(a.x),
                        a.scale,
                        a.zero_point,
                        Some(b.x),
                        b.scale,
                        b.zero_point,
                        ys,
                        yz,
                    ];
                    (Arc::new(op), ins)
                }
                "Concat" => {
                    let axis = any.downcast_ref::<Concat>()?.axis;
                    let mut ins = vec![ys, yz];
                    for k in 0..n.inputs.len() {
                        let d = dq(k, None)?;
                        if g.tensor(d.x).dtype != yt {
                            return None;
                        }
                        ins.extend([Some(d.x), d.scale, d.zero_point]);
                    }
                    (Arc::new(QLinearConcat { axis }), ins)
                }
                "Reshape" | "Flatten" | "Squeeze" | "Unsqueeze" => {
                    let x = dq(0, None)?;
                    if !n.op.is_view() || !same(&x) {
                        return None;
                    }
                    let mut ins = n.inputs.clone();
                    ins[0] = Some(x.x);
                    (n.op.clone(), ins)
                }
                _ => return None,
            };
            let node = Node {
                inputs,
                outputs: q.outputs.clone(),
                op,
                ..n.clone()
            };
            Some((node, [act, Some(j)]))
        })();
        let node = match rewritten {
            Some((node, gone)) => {
                for k in gone.into_iter().flatten() {
                    skip[k] = true;
                }
                node
            }
            None => n.clone(),
        };
        for o in &node.outputs {
            producer.insert(*o, nodes.len());
        }
        nodes.push(node);
    }
    Graph {
        nodes,
        ..graph.clone()
    }
}

/// `QLinearConv/QLinearMatMul → DQ → [Relu|Clip] → Q` into one integer node.
fn fold_activations(graph: &Graph) -> Graph {
    let consumers = graph.consumers();
    let mut skip = vec![false; graph.nodes.len()];
    let mut nodes = Vec::with_capacity(graph.nodes.len());
    for (i, n) in graph.nodes.iter().enumerate() {
        if skip[i] {
            continue;
        }
        let fused = (|| {
            let conv = n.op.as_any().downcast_ref::<QLinearConv>();
            let mm = n.op.as_any().downcast_ref::<QLinearMatMul>();
            let clip0 = conv.map(|c| c.clip).or(mm.map(|m| m.clip))?;
            // The DQ must undo exactly the operator's own output quantization.
            let d = sole_reader(graph, &consumers, n.outputs[0])?;
            let dq = &graph.nodes[d];
            if !is_kind(dq, QuantKind::Dequantize) {
                return None;
            }
            let (dp, _) = per_tensor(graph, dq)?;
            let ys = graph.tensor(n.input(6)?).data.as_ref()?.to_f64();
            let yz = match n.input(7) {
                Some(z) => graph.tensor(z).data.as_ref()?.to_i64()?,
                None => vec![0],
            };
            if ys != [dp.scale as f64] || yz != [dp.zero_point as i64] {
                return None;
            }
            let mut j = sole_reader(graph, &consumers, dq.outputs[0])?;
            let mut clip = clip0;
            let mut act = None;
            if let Some(b) = activation_bounds(graph, &graph.nodes[j]) {
                clip = Some(intersect(clip, b));
                act = Some(j);
                j = sole_reader(graph, &consumers, graph.nodes[j].outputs[0])?;
            }
            let q = &graph.nodes[j];
            if !is_kind(q, QuantKind::Quantize) {
                return None;
            }
            per_tensor(graph, q)?;
            let op: Arc<dyn Op> = match (conv, mm) {
                (Some(c), _) => Arc::new(QLinearConv {
                    conv: c.conv.clone(),
                    clip,
                    scales: c.scales,
                }),
                _ => Arc::new(QLinearMatMul {
                    clip,
                    scales: mm.map_or(ScaleMath::F32, |m| m.scales),
                }),
            };
            let mut inputs = n.inputs.clone();
            inputs.resize(inputs.len().max(8), None);
            inputs[6] = q.input(1);
            inputs[7] = q.input(2);
            Some((
                Node {
                    inputs,
                    outputs: q.outputs.clone(),
                    op,
                    ..n.clone()
                },
                [Some(d), act, Some(j)],
            ))
        })();
        match fused {
            Some((node, gone)) => {
                for k in gone.into_iter().flatten() {
                    skip[k] = true;
                }
                nodes.push(node);
            }
            None => nodes.push(n.clone()),
        }
    }
    Graph {
        nodes,
        ..graph.clone()
    }
}

/// `DQ(a) + DQ(b) → Q` into an integer [`QAdd`].
fn integer_add(graph: &Graph) -> Graph {
    let consumers = graph.consumers();
    let mut g = graph.clone();
    let mut skip = vec![false; graph.nodes.len()];
    let mut nodes: Vec<Node> = Vec::with_capacity(graph.nodes.len());
    // Producer (in `nodes`) of each tensor, to see DQs this pass inserted.
    let mut producer: HashMap<TensorId, usize> = HashMap::new();
    for (i, n) in graph.nodes.iter().enumerate() {
        if skip[i] {
            continue;
        }
        let rewritten = (|| {
            if n.op_type != "Add" || n.inputs.len() != 2 || n.outputs.len() != 1 {
                return None;
            }
            let repr = |t: TensorId| -> Option<(TensorId, QParam)> {
                let dq = &nodes[*producer.get(&t)?];
                if !is_kind(dq, QuantKind::Dequantize) {
                    return None;
                }
                Some((dq.input(0)?, per_tensor(&g, dq)?.0))
            };
            let (qa, pa) = repr(n.input(0)?)?;
            let (qb, pb) = repr(n.input(1)?)?;
            if g.tensor(qa).shape != g.tensor(qb).shape {
                return None;
            }
            let out = n.outputs[0];
            let j = consumers[out.0].iter().copied().find(|&j| {
                !skip[j]
                    && is_kind(&graph.nodes[j], QuantKind::Quantize)
                    && per_tensor(graph, &graph.nodes[j]).is_some()
            })?;
            let q = &graph.nodes[j];
            let (py, yt) = per_tensor(graph, q)?;
            let add = Node {
                inputs: vec![Some(qa), Some(qb)],
                outputs: q.outputs.clone(),
                op: Arc::new(QAdd {
                    a: pa,
                    b: pb,
                    y: py,
                    y_dtype: yt,
                    clip: None,
                }),
                ..n.clone()
            };
            let others = graph.outputs.contains(&out) || consumers[out.0].len() > 1;
            let dq = others.then(|| Node {
                name: format!("{}:dequantized", n.name),
                op_type: "DequantizeLinear".into(),
                opset: q.opset,
                inputs: vec![Some(q.outputs[0]), q.input(1), q.input(2)],
                outputs: vec![out],
                op: Arc::new(QuantLinear {
                    kind: QuantKind::Dequantize,
                    axis: 1,
                    block_size: 0,
                    output_dtype: None,
                }),
            });
            Some((j, add, dq))
        })();
        let mut push = |n: Node, nodes: &mut Vec<Node>| {
            for o in &n.outputs {
                producer.insert(*o, nodes.len());
            }
            nodes.push(n);
        };
        match rewritten {
            Some((j, add, dq)) => {
                skip[j] = true;
                push(add, &mut nodes);
                if let Some(dq) = dq {
                    push(dq, &mut nodes);
                }
            }
            None => push(n.clone(), &mut nodes),
        }
    }
    g.nodes = nodes;
    g
}

/// `Q(DQ(x))` with the same scale, zero point and type reads `x` directly.
fn drop_requant_pairs(graph: &Graph) -> Graph {
    let producers = graph.producers();
    let mut subst: HashMap<TensorId, TensorId> = HashMap::new();
    let mut nodes = Vec::with_capacity(graph.nodes.len());
    for n in &graph.nodes {
        let mut n = n.clone();
        for t in n.inputs.iter_mut().flatten() {
            if let Some(s) = subst.get(t) {
                *t = *s;
            }
        }
        let pair = (|| {
            if !is_kind(&n, QuantKind::Quantize) || graph.outputs.contains(&n.outputs[0]) {
                return None;
            }
            let d = &graph.nodes[producers[n.input(0)?.0]?];
            if !is_kind(d, QuantKind::Dequantize) {
                return None;
            }
            let (qp, qt) = per_tensor(graph, &n)?;
            let (dp, dt) = per_tensor(graph, d)?;
            (qp == dp && qt == dt).then_some(d.input(0)?)
        })();
        match pair {
            Some(x) => {
                subst.insert(n.outputs[0], x);
            }
            None => nodes.push(n),
        }
    }
    Graph {
        nodes,
        ..graph.clone()
    }
}

/// Removes nodes none of whose outputs is read or returned.
fn remove_dead(graph: &Graph) -> Graph {
    let mut live = vec![false; graph.tensors.len()];
    for o in &graph.outputs {
        live[o.0] = true;
    }
    let mut keep = vec![false; graph.nodes.len()];
    for (i, n) in graph.nodes.iter().enumerate().rev() {
        if n.outputs.iter().any(|o| live[o.0]) {
            keep[i] = true;
            for t in n.inputs.iter().flatten() {
                live[t.0] = true;
            }
        }
    }
    Graph {
        nodes: graph
            .nodes
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(n, _)| n.clone())
            .collect(),
        ..graph.clone()
    }
}
