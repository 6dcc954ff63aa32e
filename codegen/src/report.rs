//! Figures about a model: per-node shapes, parameters and MACs, totals,
//! activation-memory bounds and the planned arena. What `zant inspect` shows.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::emit::NodeKernel;
use crate::ir::{Graph, TensorId};
use crate::load::{Survey, UnsupportedOp};
use crate::ops::InputInfo;
use crate::plan::{graph_order_lower_bound, Plan};

/// One node of the report.
#[derive(Debug, Clone, Serialize)]
pub struct NodeReport {
    /// Node name.
    pub name: String,
    /// Operator (with fused activations, e.g. `Conv+Relu`).
    pub op: String,
    /// Shapes of the present inputs.
    pub input_shapes: Vec<Vec<usize>>,
    /// Shapes of the outputs.
    pub output_shapes: Vec<Vec<usize>>,
    /// Elements of the constant inputs (weights) the node reads.
    pub params: usize,
    /// Multiply-accumulates.
    pub macs: u64,
    /// Bytes of all outputs.
    pub output_bytes: usize,
    /// Kernel the compiled node calls (see [`NodeKernel`]); `fused into X`
    /// for a node the passes merged into node `X`; `None` in a survey.
    pub kernel: Option<String>,
}

/// Parameters of one element type.
#[derive(Debug, Clone, Serialize)]
pub struct TypeBytes {
    /// Element count.
    pub params: usize,
    /// Bytes.
    pub bytes: usize,
}

/// Figures of a whole model.
#[derive(Debug, Clone, Serialize)]
pub struct ModelReport {
    /// Model name.
    pub model: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Default-domain opset.
    pub opset: i64,
    /// Nodes.
    pub nodes: Vec<NodeReport>,
    /// Total multiply-accumulates.
    pub macs: u64,
    /// Total parameters (elements of constants read by computing nodes).
    pub params: usize,
    /// Total bytes of those parameters.
    pub weight_bytes: usize,
    /// Parameters and bytes by element type.
    pub weight_bytes_by_type: BTreeMap<String, TypeBytes>,
    /// Activation memory of the graph-order schedule when every node writes a
    /// fresh output (inputs and outputs included).
    pub activation_lower_bound_bytes: usize,
    /// Lower bound of the arena for the compiled graph (after passes; caller
    /// inputs and outputs excluded).
    pub arena_lower_bound_bytes: usize,
    /// Planned arena bytes.
    pub arena_bytes: usize,
    /// Planner that made the arena.
    pub planner: String,
    /// Kernel set the kernels were chosen from (empty in a survey).
    pub kernel_set: String,
    /// Operators zant cannot compile (empty here; see [`survey_report`]).
    pub unsupported: Vec<UnsupportedOp>,
    /// Every arena buffer: which tensor (views and in-place outputs share it),
    /// where, and how big — the whole arena accounted for.
    pub arena_buffers: Vec<ArenaBuffer>,
}

/// One buffer of the arena.
#[derive(Debug, Clone, Serialize)]
pub struct ArenaBuffer {
    /// Tensors stored there (the producer first, then views and in-place
    /// outputs), or `scratch of NODE` for a node's in-place scratch.
    pub tensors: Vec<String>,
    /// Memory region.
    pub region: String,
    /// Byte offset in the region's arena.
    pub offset: usize,
    /// Bytes.
    pub bytes: usize,
}

/// The arena layout of a compiled graph.
pub fn arena_buffers(compiled: &Graph, plan: &Plan) -> Vec<ArenaBuffer> {
    use crate::plan::Storage;
    let consumers = compiled.consumers();
    let producers = compiled.producers();
    let mut out: Vec<ArenaBuffer> = Vec::new();
    let mut index: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for (i, t) in compiled.tensors.iter().enumerate() {
        let used = producers[i].is_some() || !consumers[i].is_empty();
        let Some(Storage::Arena { region, offset }) = plan.storage[i] else {
            continue;
        };
        if !used {
            continue;
        }
        let root = plan.root[i].0;
        match index.get(&root) {
            Some(&k) => {
                out[k].tensors.push(t.name.clone());
                // An in-place output may be larger than its input.
                out[k].bytes = out[k].bytes.max(t.bytes());
            }
            None => {
                index.insert(root, out.len());
                out.push(ArenaBuffer {
                    tensors: vec![t.name.clone()],
                    region: plan
                        .regions
                        .get(region)
                        .map(|r| r.region.clone())
                        .unwrap_or_default(),
                    offset,
                    bytes: compiled.tensor(crate::ir::TensorId(root)).bytes(),
                });
            }
        }
    }
    // In-place scratches: live for their node's step only.
    for (step, node) in compiled.nodes.iter().enumerate() {
        let (Some(Storage::Arena { region, offset }), Some(form)) =
            (plan.scratch[step], plan.inplace_form[step])
        else {
            continue;
        };
        out.push(ArenaBuffer {
            tensors: vec![format!("scratch of {}", node.name)],
            region: plan
                .regions
                .get(region)
                .map(|r| r.region.clone())
                .unwrap_or_default(),
            offset,
            bytes: form.scratch,
        });
    }
    out.sort_by(|a, b| a.region.cmp(&b.region).then(a.offset.cmp(&b.offset)));
    out
}

fn infos<'a>(graph: &'a Graph, ids: &[Option<TensorId>]) -> Vec<Option<InputInfo<'a>>> {
    ids.iter()
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

/// Per-node rows and totals for a graph.
pub fn node_reports(graph: &Graph) -> Vec<NodeReport> {
    graph
        .nodes
        .iter()
        .map(|n| {
            let ins = infos(graph, &n.inputs);
            let outs: Vec<crate::ops::OutputInfo> = n
                .outputs
                .iter()
                .map(|&o| {
                    let t = graph.tensor(o);
                    crate::ops::OutputInfo::new(t.dtype, t.shape.clone())
                })
                .collect();
            let params = n
                .inputs
                .iter()
                .enumerate()
                .filter(|(i, _)| n.op.reads_input(*i))
                .filter_map(|(_, id)| id.map(|id| graph.tensor(id)))
                .filter(|t| t.is_const())
                .map(|t| t.numel())
                .sum();
            NodeReport {
                name: n.name.clone(),
                op: n.op.name(),
                input_shapes: ins.iter().flatten().map(|i| i.shape.to_vec()).collect(),
                output_shapes: outs.iter().map(|o| o.shape.clone()).collect(),
                params,
                macs: n.op.macs(&ins, &outs),
                output_bytes: n.outputs.iter().map(|&o| graph.tensor(o).bytes()).sum(),
                kernel: None,
            }
        })
        .collect()
}

/// Fills in the kernel of every node of `report` (its nodes are the imported
/// graph's) from the kernels of the compiled graph: a node keeps its name
/// through the passes, and a node merged into another (an activation, a
/// MaxPool, a folded BatchNormalization) shows `fused into <node>`.
pub fn set_kernels(report: &mut ModelReport, kernel_set: &str, kernels: &[NodeKernel]) {
    report.kernel_set = kernel_set.to_string();
    let by_name: std::collections::HashMap<&str, &str> = kernels
        .iter()
        .map(|k| (k.node.as_str(), k.kernel.as_str()))
        .collect();
    let absorbed: std::collections::HashMap<&str, &str> = kernels
        .iter()
        .flat_map(|k| k.absorbs.iter().map(|a| (a.as_str(), k.node.as_str())))
        .collect();
    let mut last = String::new();
    for n in &mut report.nodes {
        n.kernel = Some(match by_name.get(n.name.as_str()) {
            Some(k) => {
                last = n.name.clone();
                k.to_string()
            }
            None => match absorbed.get(n.name.as_str()) {
                Some(owner) => format!("fused into {owner}"),
                None if last.is_empty() => "fused".to_string(),
                None => format!("fused into {last}"),
            },
        });
    }
}

/// The full report of an imported graph, its compiled form and its plan.
pub fn model_report(imported: &Graph, compiled: &Graph, plan: &Plan) -> ModelReport {
    let nodes = node_reports(imported);
    // Weights: constants read by computing nodes, each counted once.
    let mut seen = std::collections::HashSet::new();
    let mut by_type: BTreeMap<String, TypeBytes> = BTreeMap::new();
    for n in &imported.nodes {
        for (i, id) in n.inputs.iter().enumerate() {
            let Some(id) = *id else { continue };
            if !n.op.reads_input(i) {
                continue;
            }
            let t = imported.tensor(id);
            if t.is_const() && seen.insert(id) {
                let e = by_type.entry(t.dtype.to_string()).or_insert(TypeBytes {
                    params: 0,
                    bytes: 0,
                });
                e.params += t.numel();
                e.bytes += t.bytes();
            }
        }
    }
    ModelReport {
        model: imported.name.clone(),
        sha256: imported.model_hash.clone(),
        opset: imported.opset,
        macs: nodes.iter().map(|n| n.macs).sum(),
        params: by_type.values().map(|t| t.params).sum(),
        weight_bytes: by_type.values().map(|t| t.bytes).sum(),
        weight_bytes_by_type: by_type,
        nodes,
        activation_lower_bound_bytes: graph_order_lower_bound(imported),
        arena_lower_bound_bytes: plan.lower_bound,
        arena_bytes: plan.arena_bytes(),
        planner: plan.planner.to_string(),
        kernel_set: String::new(),
        unsupported: Vec::new(),
        arena_buffers: arena_buffers(compiled, plan),
    }
}

/// A report for a model zant cannot compile: the nodes as written, the
/// unsupported operators, and weights from the initializers.
pub fn survey_report(name: &str, sha256: &str, s: &Survey) -> ModelReport {
    let mut by_type: BTreeMap<String, TypeBytes> = BTreeMap::new();
    for (_, dt, n) in &s.initializers {
        let e = by_type.entry(dt.to_string()).or_insert(TypeBytes {
            params: 0,
            bytes: 0,
        });
        e.params += n;
        e.bytes += n * dt.size();
    }
    ModelReport {
        model: name.to_string(),
        sha256: sha256.to_string(),
        opset: s.opset,
        nodes: s
            .nodes
            .iter()
            .map(|(name, op, _)| NodeReport {
                name: name.clone(),
                op: op.clone(),
                input_shapes: vec![],
                output_shapes: vec![],
                params: 0,
                macs: 0,
                output_bytes: 0,
                kernel: None,
            })
            .collect(),
        macs: 0,
        params: by_type.values().map(|t| t.params).sum(),
        weight_bytes: by_type.values().map(|t| t.bytes).sum(),
        weight_bytes_by_type: by_type,
        activation_lower_bound_bytes: 0,
        arena_lower_bound_bytes: 0,
        arena_bytes: 0,
        planner: String::new(),
        kernel_set: String::new(),
        unsupported: s.unsupported.clone(),
        arena_buffers: Vec::new(),
    }
}
