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
use crate::ops::conv::Conv;
use crate::ops::conv_direct::ConvDirect;
use crate::ops::gemm::Gemm;
use crate::ops::pool::{Pool, PoolKind};
use crate::ops::unary::{Unary, UnaryKind};
use crate::ops::{Activation, InputInfo, Op};

/// Options of the pass pipeline.
#[derive(Debug, Clone, Copy)]
pub struct PassOptions {
    /// Fuse activations into Conv/Gemm.
    pub fuse_activations: bool,
    /// Turn suitable Convs into direct convolutions with packed weights and
    /// fuse a following MaxPool into them.
    pub direct_conv: bool,
    /// Output positions per pass of the direct convolution: 3 for scalar
    /// FPUs (the default), 2 for cores with vector units (Helium).
    pub conv_positions: usize,
}

impl Default for PassOptions {
    fn default() -> Self {
        PassOptions {
            fuse_activations: true,
            direct_conv: true,
            conv_positions: 3,
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
    if opts.fuse_activations {
        g = fuse_activations(&g);
    }
    if opts.direct_conv {
        g = direct_conv(&g, opts.conv_positions);
        g = fuse_max_pool(&g);
    }
    g
}

/// Replaces 2-D, batch-1, single-group, stride-1, undilated f32 Convs with
/// constant weights by [`ConvDirect`] with weights packed for it.
pub fn direct_conv(graph: &Graph, positions: usize) -> Graph {
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
        };
        let mut inputs = vec![Some(x), Some(pid)];
        if let Some(b) = n.input(2) {
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

fn activation_of(graph: &Graph, node: &Node) -> Option<Activation> {
    let u = node.op.as_any().downcast_ref::<Unary>()?;
    let infos: Vec<Option<InputInfo<'_>>> = node
        .inputs
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
        .collect();
    match u.resolved(&infos).ok()? {
        UnaryKind::Act(a) => Some(a),
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
