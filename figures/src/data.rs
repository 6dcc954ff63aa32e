//! The data behind each figure: plain serializable structs, made from what
//! the pipeline already has (a [`Profile`], a compiled graph and its
//! [`Plan`], a [`Footprint`]). The drawing code reads only these.

use serde::Serialize;
use zant_codegen::plan::{Plan, Storage};
use zant_codegen::Graph;
use zant_firmware::Footprint;
use zant_pipeline::Profile;

/// Per-layer instructions (QEMU) or cycles (hardware), one bar per node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerBars {
    /// Model.
    pub model: String,
    /// Board.
    pub board: String,
    /// `instructions` or `cycles`.
    pub unit: String,
    /// The whole inference of the profiling build.
    pub total: u64,
    /// Counted outside every node (entering and leaving the model).
    pub outside_nodes: u64,
    /// The nodes, in execution order.
    pub bars: Vec<LayerBar>,
}

/// One node's bar.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerBar {
    /// Node name.
    pub name: String,
    /// Operator (`Conv+Relu`); the bar's colour.
    pub op: String,
    /// Instructions or cycles of the node.
    pub count: u64,
    /// `count` per MAC (`None` without MACs).
    pub per_mac: Option<f64>,
    /// Share of the whole inference, 0..=1.
    pub share: f64,
}

impl LayerBars {
    /// The bars of a per-layer profile.
    pub fn from_profile(p: &Profile) -> LayerBars {
        LayerBars {
            model: p.model.clone(),
            board: p.board.clone(),
            unit: p.unit.to_string(),
            total: p.total,
            outside_nodes: p.outside_nodes,
            bars: p
                .nodes
                .iter()
                .map(|n| LayerBar {
                    name: n.name.clone(),
                    op: n.op.clone(),
                    count: n.count,
                    per_mac: n.per_mac.map(round3),
                    share: round3(n.share * 100.0) / 100.0,
                })
                .collect(),
        }
    }
}

/// Rounds to three decimals (stable snapshots, readable labels).
fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// How a tensor came to occupy its arena bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SpanKind {
    /// Written into bytes of its own.
    Fresh,
    /// Written in place over an input, whose bytes it takes over at the node
    /// that writes it (the input's last read is that same node).
    InPlace {
        /// The input it overwrites.
        over: String,
    },
    /// A node's in-place scratch, live for that node only.
    Scratch,
}

/// One tensor's life in the arena: the nodes from the one that writes it to
/// the last that reads it (views of it included), at its offset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArenaSpan {
    /// Tensor name (or `scratch of NODE`).
    pub tensor: String,
    /// Operator of the node that writes it (the rectangle's colour).
    pub op: String,
    /// How it got its bytes.
    #[serde(flatten)]
    pub kind: SpanKind,
    /// Step (node index in execution order) that writes it.
    pub first: usize,
    /// Last step that reads it.
    pub last: usize,
    /// Byte offset in its region's arena.
    pub offset: u64,
    /// Bytes.
    pub bytes: u64,
}

/// One memory region's arena.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArenaLane {
    /// Region name (from the board).
    pub region: String,
    /// The planned arena bytes in that region.
    pub arena_bytes: u64,
    /// The tensors placed there.
    pub spans: Vec<ArenaSpan>,
}

/// The arena over time: every arena tensor as a rectangle in (step, offset).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArenaTimeline {
    /// Model.
    pub model: String,
    /// Board.
    pub board: String,
    /// Planner that made the plan.
    pub planner: String,
    /// Node names of the compiled graph, in execution order (the steps).
    pub steps: Vec<String>,
    /// The liveness lower bound of the whole arena (all regions).
    pub lower_bound: u64,
    /// One lane per region the arena uses.
    pub lanes: Vec<ArenaLane>,
}

impl ArenaTimeline {
    /// The timeline of a compiled graph's plan.
    pub fn from_plan(model: &str, board: &str, g: &Graph, plan: &Plan) -> ArenaTimeline {
        let producers = g.producers();
        let consumers = g.consumers();
        let last_step = g.nodes.len().saturating_sub(1);
        // The tensor whose rectangle a tensor's reads extend: views belong to
        // what they view; everything else is its own.
        let owner = |mut t: usize| {
            while let Some(p) = producers[t] {
                let n = &g.nodes[p];
                if plan.aliased_view[p] && n.outputs[0].0 == t {
                    match n.input(0) {
                        Some(x) => t = x.0,
                        None => break,
                    }
                } else {
                    break;
                }
            }
            t
        };
        let mut lanes: Vec<ArenaLane> = plan
            .regions
            .iter()
            .map(|r| ArenaLane {
                region: r.region.clone(),
                arena_bytes: r.bytes as u64,
                spans: Vec::new(),
            })
            .collect();
        let mut last_read = vec![None::<usize>; g.tensors.len()];
        for (i, readers) in consumers.iter().enumerate() {
            let o = owner(i);
            let mut end = readers.iter().copied().max();
            if g.outputs.iter().any(|t| t.0 == i) {
                end = Some(last_step);
            }
            if let Some(e) = end {
                last_read[o] = Some(last_read[o].map_or(e, |l: usize| l.max(e)));
            }
        }
        for (i, t) in g.tensors.iter().enumerate() {
            let Some(Storage::Arena { region, offset }) = plan.storage[i] else {
                continue;
            };
            let Some(p) = producers[i] else { continue };
            if owner(i) != i {
                continue;
            }
            let node = &g.nodes[p];
            let kind = match (
                plan.inplace[p] && node.outputs[0].0 == i,
                plan.inplace_form[p],
            ) {
                (true, Some(f)) => SpanKind::InPlace {
                    over: node
                        .input(f.input)
                        .map(|x| g.tensor(x).name.clone())
                        .unwrap_or_default(),
                },
                _ => SpanKind::Fresh,
            };
            if let Some(lane) = lanes.get_mut(region) {
                lane.spans.push(ArenaSpan {
                    tensor: t.name.clone(),
                    op: node.op.name(),
                    kind,
                    first: p,
                    last: last_read[i].unwrap_or(p).max(p),
                    offset: offset as u64,
                    bytes: t.bytes() as u64,
                });
            }
        }
        for (step, node) in g.nodes.iter().enumerate() {
            let (Some(Storage::Arena { region, offset }), Some(form)) =
                (plan.scratch[step], plan.inplace_form[step])
            else {
                continue;
            };
            if let Some(lane) = lanes.get_mut(region) {
                lane.spans.push(ArenaSpan {
                    tensor: format!("scratch of {}", node.name),
                    op: node.op.name(),
                    kind: SpanKind::Scratch,
                    first: step,
                    last: step,
                    offset: offset as u64,
                    bytes: form.scratch as u64,
                });
            }
        }
        for lane in &mut lanes {
            lane.spans
                .sort_by(|a, b| a.first.cmp(&b.first).then(a.offset.cmp(&b.offset)));
        }
        ArenaTimeline {
            model: model.to_string(),
            board: board.to_string(),
            planner: plan.planner.to_string(),
            steps: g.nodes.iter().map(|n| n.name.clone()).collect(),
            lower_bound: plan.lower_bound as u64,
            lanes,
        }
    }
}

/// One part of a flash or RAM total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Part {
    /// `model code`, `runtime code`, `weights`, `other`, `arena`, `stack`.
    pub kind: String,
    /// Bytes.
    pub bytes: u64,
}

/// One memory region's use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegionBar {
    /// Region name.
    pub name: String,
    /// `flash` or `ram`.
    pub kind: String,
    /// Bytes used.
    pub used: u64,
    /// Region size.
    pub size: u64,
}

/// Flash and RAM by kind and by region, as `zant size` measures them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemoryBreakdown {
    /// Model.
    pub model: String,
    /// Board.
    pub board: String,
    /// Flash bytes in all.
    pub flash_bytes: u64,
    /// Flash by kind: model code, runtime code, weights, other.
    pub flash: Vec<Part>,
    /// RAM bytes in all (with the reserved stack).
    pub ram_bytes: u64,
    /// RAM by kind: arena, stack, other.
    pub ram: Vec<Part>,
    /// Each region of the board that holds something.
    pub regions: Vec<RegionBar>,
}

impl MemoryBreakdown {
    /// The breakdown of a measured firmware.
    pub fn from_footprint(model: &str, board: &str, f: &Footprint) -> MemoryBreakdown {
        let part = |kind: &str, bytes: u64| Part {
            kind: kind.into(),
            bytes,
        };
        MemoryBreakdown {
            model: model.to_string(),
            board: board.to_string(),
            flash_bytes: f.flash_bytes,
            flash: vec![
                part("model code", f.model_code_bytes),
                part("runtime code", f.runtime_code_bytes),
                part("weights", f.weights_bytes),
                part("other", f.other_flash_bytes),
            ],
            ram_bytes: f.ram_bytes,
            ram: vec![
                part("arena", f.arena_bytes),
                part("stack", f.stack_bytes),
                part("other", f.other_ram_bytes),
            ],
            regions: f
                .regions
                .iter()
                .filter(|r| r.used > 0)
                .map(|r| RegionBar {
                    name: r.name.clone(),
                    kind: r.kind.clone(),
                    used: r.used,
                    size: r.size,
                })
                .collect(),
        }
    }
}
