//! Memory planning: where every tensor lives while the model runs.
//!
//! Three parts kept apart, as TFLite Micro and TVM do: [`Liveness`] turns the
//! graph into buffers with lifetimes (views share their source's buffer,
//! in-place ops share their input's), a [`Planner`] assigns offsets to those
//! buffers, and [`Plan`] is the result the emitter reads. Planners are named
//! and interchangeable (`--planner greedy-by-size`).
//!
//! In-place rules come from the operators ([`Op::inplace_forms`]): a node may
//! declare that output 0 may alias input `k`, possibly smaller than it, with
//! a scratch of some bytes. The planner takes the first form whose input is an
//! arena buffer no later node reads; the scratch becomes a buffer of its own,
//! live for that one step, so every arena byte is still a named buffer.
//!
//! [`Op::inplace_forms`]: crate::ops::Op::inplace_forms

use crate::ir::{Graph, TensorId};
use crate::ops::InPlace;

/// Alignment of every arena buffer, in bytes (enough for f32/i32 kernels and
/// for 64-bit loads).
pub const ARENA_ALIGN: usize = 8;

/// Where a tensor's bytes are while the model runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// The caller's input buffer number `k`.
    Input(usize),
    /// The caller's output buffer number `k`.
    Output(usize),
    /// A constant in flash.
    Const,
    /// An arena buffer: region index and byte offset.
    Arena {
        /// Region (index into [`Plan::regions`]).
        region: usize,
        /// Byte offset in that region's arena.
        offset: usize,
    },
}

/// One buffer with a lifetime in node steps (inclusive).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interval {
    /// Bytes.
    pub size: usize,
    /// First step it is live (the step of its producing node).
    pub start: usize,
    /// Last step it is read.
    pub end: usize,
}

impl Interval {
    fn overlaps(&self, o: &Interval) -> bool {
        self.start <= o.end && o.start <= self.end
    }
}

/// Liveness analysis of a graph.
#[derive(Clone, Debug)]
pub struct Liveness {
    /// Arena buffers.
    pub buffers: Vec<Interval>,
    /// Per tensor: its storage class before placement, and for arena tensors
    /// the buffer index.
    pub tensor_buffer: Vec<Option<usize>>,
    /// Per tensor: caller-provided or constant storage.
    pub fixed: Vec<Option<Storage>>,
    /// Per node: true when output 0 is computed in place over its input.
    pub inplace: Vec<bool>,
    /// Per node: the in-place form taken, if any.
    pub inplace_form: Vec<Option<InPlace>>,
    /// Per node: the buffer of its in-place scratch, if it has one.
    pub scratch_buffer: Vec<Option<usize>>,
    /// Per node: true when output 0 is a zero-copy view of input 0.
    pub aliased_view: Vec<bool>,
    /// Per tensor: the tensor whose storage it shares (itself if none).
    pub root: Vec<TensorId>,
}

impl Liveness {
    /// Analyses a graph in its execution order.
    pub fn of(graph: &Graph) -> Liveness {
        let nt = graph.tensors.len();
        let mut fixed: Vec<Option<Storage>> = vec![None; nt];
        for (i, t) in graph.tensors.iter().enumerate() {
            if t.is_const() {
                fixed[i] = Some(Storage::Const);
            }
        }
        for (k, id) in graph.inputs.iter().enumerate() {
            fixed[id.0] = Some(Storage::Input(k));
        }
        // A tensor listed as output twice, or also an input/constant, is copied.
        for (k, id) in graph.outputs.iter().enumerate() {
            if fixed[id.0].is_none() {
                fixed[id.0] = Some(Storage::Output(k));
            }
        }
        // Last step each tensor is read (graph outputs live to the end).
        let last_node = graph.nodes.len();
        let mut last_use = vec![0usize; nt];
        for (step, n) in graph.nodes.iter().enumerate() {
            for t in n.inputs.iter().flatten() {
                last_use[t.0] = last_use[t.0].max(step);
            }
        }
        for id in &graph.outputs {
            last_use[id.0] = last_node;
        }

        let mut buffers: Vec<Interval> = Vec::new();
        let mut tensor_buffer: Vec<Option<usize>> = vec![None; nt];
        // Root of every tensor: views and in-place outputs point at the tensor
        // whose storage they share.
        let mut root: Vec<TensorId> = (0..nt).map(TensorId).collect();
        let mut inplace = vec![false; graph.nodes.len()];
        let mut inplace_form: Vec<Option<InPlace>> = vec![None; graph.nodes.len()];
        let mut scratch_buffer: Vec<Option<usize>> = vec![None; graph.nodes.len()];
        let mut aliased_view = vec![false; graph.nodes.len()];
        // Last step any alias of a root is read.
        let mut root_last = last_use.clone();

        for (step, n) in graph.nodes.iter().enumerate() {
            let out0 = n.outputs[0];
            let x0 = n.input(0);
            if n.op.is_view() && n.outputs.len() == 1 && fixed[out0.0].is_none() {
                if let Some(x) = x0 {
                    let r = root[x.0];
                    root[out0.0] = r;
                    aliased_view[step] = true;
                    root_last[r.0] = root_last[r.0].max(last_use[out0.0]);
                    if let Some(b) = tensor_buffer[r.0] {
                        buffers[b].end = buffers[b].end.max(last_use[out0.0]);
                    }
                    tensor_buffer[out0.0] = tensor_buffer[r.0];
                    continue;
                }
            }
            let ot = graph.tensor(out0);
            let form = n.op.inplace_forms().into_iter().find(|f| {
                let Some(x) = n.input(f.input) else {
                    return false;
                };
                let r = root[x.0];
                let xt = graph.tensor(x);
                let fits = match ot.bytes().cmp(&xt.bytes()) {
                    std::cmp::Ordering::Equal => true,
                    std::cmp::Ordering::Less => f.shrink,
                    std::cmp::Ordering::Greater => f.grow,
                };
                // The input's storage must be an arena buffer that dies here.
                xt.dtype == ot.dtype
                    && fits
                    && fixed[out0.0].is_none()
                    && root_last[r.0] <= step
                    && tensor_buffer[r.0].is_some()
            });
            if let Some(f) = form {
                let x = n.input(f.input).expect("checked above");
                let r = root[x.0];
                let b = tensor_buffer[r.0].expect("checked above");
                inplace[step] = true;
                inplace_form[step] = Some(f);
                buffers[b].size = buffers[b].size.max(ot.bytes());
                root[out0.0] = r;
                tensor_buffer[out0.0] = Some(b);
                buffers[b].end = buffers[b].end.max(last_use[out0.0]).max(step);
                root_last[r.0] = root_last[r.0].max(last_use[out0.0]);
                if f.scratch > 0 {
                    buffers.push(Interval {
                        size: f.scratch,
                        start: step,
                        end: step,
                    });
                    scratch_buffer[step] = Some(buffers.len() - 1);
                }
                for o in &n.outputs[1..] {
                    Self::fresh(
                        graph,
                        &fixed,
                        &last_use,
                        step,
                        *o,
                        &mut buffers,
                        &mut tensor_buffer,
                    );
                }
                continue;
            }
            for o in &n.outputs {
                Self::fresh(
                    graph,
                    &fixed,
                    &last_use,
                    step,
                    *o,
                    &mut buffers,
                    &mut tensor_buffer,
                );
            }
        }
        Liveness {
            buffers,
            tensor_buffer,
            fixed,
            inplace,
            inplace_form,
            scratch_buffer,
            aliased_view,
            root,
        }
    }

    fn fresh(
        graph: &Graph,
        fixed: &[Option<Storage>],
        last_use: &[usize],
        step: usize,
        o: TensorId,
        buffers: &mut Vec<Interval>,
        tensor_buffer: &mut [Option<usize>],
    ) {
        if fixed[o.0].is_some() {
            return;
        }
        let size = graph.tensor(o).bytes();
        buffers.push(Interval {
            size,
            start: step,
            end: last_use[o.0].max(step),
        });
        tensor_buffer[o.0] = Some(buffers.len() - 1);
    }

    /// The largest sum of live arena buffers at any step (in-place outputs
    /// share their input's buffer, scratches count at their node's step): no
    /// placement of these buffers can use less arena than this.
    pub fn lower_bound(&self) -> usize {
        let steps = self.buffers.iter().map(|b| b.end + 1).max().unwrap_or(0);
        (0..steps)
            .map(|s| {
                self.buffers
                    .iter()
                    .filter(|b| b.start <= s && s <= b.end)
                    .map(|b| align_up(b.size, ARENA_ALIGN))
                    .sum::<usize>()
            })
            .max()
            .unwrap_or(0)
    }
}

/// Bytes of activation memory the graph-order schedule needs at its peak when
/// every node writes a fresh output: the largest sum of the live non-constant
/// tensors (graph inputs and outputs included) at any node.
pub fn graph_order_lower_bound(graph: &Graph) -> usize {
    let nt = graph.tensors.len();
    let mut first = vec![usize::MAX; nt];
    let mut last = vec![0usize; nt];
    for id in &graph.inputs {
        first[id.0] = 0;
    }
    for (step, n) in graph.nodes.iter().enumerate() {
        for t in n.inputs.iter().flatten() {
            last[t.0] = last[t.0].max(step);
        }
        for o in &n.outputs {
            first[o.0] = first[o.0].min(step);
            last[o.0] = last[o.0].max(step);
        }
    }
    for id in &graph.outputs {
        last[id.0] = graph.nodes.len().saturating_sub(1);
    }
    (0..graph.nodes.len().max(1))
        .map(|s| {
            graph
                .tensors
                .iter()
                .enumerate()
                .filter(|(i, t)| !t.is_const() && first[*i] <= s && s <= last[*i])
                .map(|(_, t)| t.bytes())
                .sum::<usize>()
        })
        .max()
        .unwrap_or(0)
}

/// Rounds `v` up to a multiple of `a`.
pub fn align_up(v: usize, a: usize) -> usize {
    v.div_ceil(a) * a
}

/// Assigns offsets to buffers so that buffers live at the same time never overlap.
pub trait Planner: std::fmt::Debug {
    /// Name used on the command line and in reports.
    fn name(&self) -> &'static str;
    /// Offsets (aligned to [`ARENA_ALIGN`]) for each buffer.
    fn place(&self, buffers: &[Interval]) -> Vec<usize>;
}

/// One buffer after another: the arena is the sum of all buffers. For comparison.
#[derive(Debug, Clone, Copy, Default)]
pub struct Naive;

impl Planner for Naive {
    fn name(&self) -> &'static str {
        "naive"
    }
    fn place(&self, buffers: &[Interval]) -> Vec<usize> {
        let mut off = 0;
        buffers
            .iter()
            .map(|b| {
                let o = off;
                off += align_up(b.size, ARENA_ALIGN);
                o
            })
            .collect()
    }
}

/// Largest buffers first, each at the best-fitting gap among the buffers
/// already placed that are live at the same time (TFLite Micro's greedy planner
/// with best fit).
#[derive(Debug, Clone, Copy, Default)]
pub struct GreedyBySize;

impl Planner for GreedyBySize {
    fn name(&self) -> &'static str {
        "greedy-by-size"
    }
    fn place(&self, buffers: &[Interval]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..buffers.len()).collect();
        // Stable, deterministic: size desc, then earlier start, then index.
        order.sort_by(|&a, &b| {
            buffers[b]
                .size
                .cmp(&buffers[a].size)
                .then(buffers[a].start.cmp(&buffers[b].start))
                .then(a.cmp(&b))
        });
        let mut offsets = vec![usize::MAX; buffers.len()];
        let mut placed: Vec<usize> = Vec::new();
        for &i in &order {
            let need = align_up(buffers[i].size, ARENA_ALIGN);
            let mut busy: Vec<(usize, usize)> = placed
                .iter()
                .filter(|&&j| buffers[j].overlaps(&buffers[i]))
                .map(|&j| {
                    (
                        offsets[j],
                        offsets[j] + align_up(buffers[j].size, ARENA_ALIGN),
                    )
                })
                .collect();
            busy.sort();
            let mut best: Option<(usize, usize)> = None; // (gap size, offset)
            let mut cursor = 0;
            for &(s, e) in &busy {
                if s > cursor && s - cursor >= need {
                    let gap = s - cursor;
                    if best.is_none_or(|(g, _)| gap < g) {
                        best = Some((gap, cursor));
                    }
                }
                cursor = cursor.max(e);
            }
            offsets[i] = match best {
                Some((_, o)) => o,
                None => cursor,
            };
            placed.push(i);
        }
        offsets
    }
}

/// Every planner zant knows, by name.
pub fn planners() -> Vec<Box<dyn Planner>> {
    vec![Box::new(GreedyBySize), Box::new(Naive)]
}

/// Finds a planner by name.
pub fn planner_by_name(name: &str) -> Option<Box<dyn Planner>> {
    planners().into_iter().find(|p| p.name() == name)
}

/// One arena in one memory region.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RegionArena {
    /// Memory region name (from the board), or `"default"`.
    pub region: String,
    /// Arena bytes in that region.
    pub bytes: usize,
}

/// The memory plan of a graph.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The planner that made it.
    pub planner: &'static str,
    /// Arenas, one per memory region used.
    pub regions: Vec<RegionArena>,
    /// Storage of every tensor (`None` for tensors no node reads or writes).
    pub storage: Vec<Option<Storage>>,
    /// Per node: output 0 computed in place over its input.
    pub inplace: Vec<bool>,
    /// Per node: the in-place form taken (which input output 0 aliases, and
    /// the scratch), if any.
    pub inplace_form: Vec<Option<InPlace>>,
    /// Per node: where its in-place scratch is, if it has one.
    pub scratch: Vec<Option<Storage>>,
    /// Per node: output 0 aliases input 0 (no code emitted).
    pub aliased_view: Vec<bool>,
    /// Liveness lower bound of the arena.
    pub lower_bound: usize,
    /// Per tensor: the tensor whose storage it shares (views, in-place outputs).
    pub root: Vec<TensorId>,
    /// Flash regions of the weights ([`place_weights`]); empty: every
    /// weight in the default read-only data, where the code is.
    pub weights: WeightPlacement,
}

impl Plan {
    /// Total arena bytes over all regions.
    pub fn arena_bytes(&self) -> usize {
        self.regions.iter().map(|r| r.bytes).sum()
    }
}

/// A memory region the arena may use, in order of preference (fastest first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionBudget {
    /// Region name (from the board).
    pub name: String,
    /// Bytes available for the arena there; `None` = unbounded.
    pub capacity: Option<usize>,
}

/// The arena does not fit the regions given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the activation arena does not fit: {needed} bytes are needed but {available} bytes are available in {regions} ({} bytes short); the arena cannot go below its lower bound of {lower_bound} bytes", needed - available)]
pub struct PlanError {
    /// Bytes the buffers that did not fit need, plus what was placed.
    pub needed: usize,
    /// Bytes available over all regions.
    pub available: usize,
    /// Region names.
    pub regions: String,
    /// The liveness lower bound.
    pub lower_bound: usize,
}

fn extent(buffers: &[Interval], offsets: &[usize]) -> usize {
    buffers
        .iter()
        .zip(offsets)
        .map(|(b, &o)| o + align_up(b.size, ARENA_ALIGN))
        .max()
        .unwrap_or(0)
}

/// Plans a graph with one planner into one unbounded arena region.
pub fn plan(graph: &Graph, planner: &dyn Planner) -> Plan {
    let budget = [RegionBudget {
        name: "default".into(),
        capacity: None,
    }];
    plan_in_regions(graph, planner, &budget).expect("an unbounded region always fits")
}

/// Plans a graph into several memory regions (for example DTCM, then SRAM):
/// buffers go to the first region while it has room, smallest first, the rest
/// to the next region, each region laid out by `planner`.
pub fn plan_in_regions(
    graph: &Graph,
    planner: &dyn Planner,
    regions: &[RegionBudget],
) -> Result<Plan, PlanError> {
    let unbounded = [RegionBudget {
        name: "default".into(),
        capacity: None,
    }];
    let regions = if regions.is_empty() {
        &unbounded[..]
    } else {
        regions
    };
    let live = Liveness::of(graph);
    let n = live.buffers.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| (live.buffers[i].size, i));
    let mut region_of = vec![usize::MAX; n];
    let mut remaining: Vec<usize> = order;
    let mut placed_sizes = Vec::new();
    let mut region_offsets: Vec<Vec<(usize, usize)>> = Vec::new();
    for (r, budget) in regions.iter().enumerate() {
        let last = r + 1 == regions.len();
        let mut members: Vec<usize> = Vec::new();
        let mut rest = Vec::new();
        for &i in &remaining {
            members.push(i);
            let fits = match budget.capacity {
                None => true,
                // The last region takes everything left; checked below.
                Some(_) if last => true,
                Some(cap) => {
                    let bufs: Vec<Interval> =
                        members.iter().map(|&j| live.buffers[j].clone()).collect();
                    extent(&bufs, &planner.place(&bufs)) <= cap
                }
            };
            if !fits {
                members.pop();
                rest.push(i);
            }
        }
        let bufs: Vec<Interval> = members.iter().map(|&j| live.buffers[j].clone()).collect();
        let offs = planner.place(&bufs);
        let size = extent(&bufs, &offs);
        if let (true, Some(cap)) = (last, budget.capacity) {
            if size > cap {
                let available: usize = regions.iter().filter_map(|r| r.capacity).sum();
                let used_before: usize = placed_sizes.iter().sum();
                return Err(PlanError {
                    needed: used_before + size,
                    available,
                    regions: regions
                        .iter()
                        .map(|r| r.name.as_str())
                        .collect::<Vec<_>>()
                        .join(" + "),
                    lower_bound: live.lower_bound(),
                });
            }
        }
        for &j in &members {
            region_of[j] = r;
        }
        region_offsets.push(members.iter().copied().zip(offs).collect());
        placed_sizes.push(size);
        remaining = rest;
        if remaining.is_empty() {
            break;
        }
    }
    let mut offset_of = vec![0usize; n];
    for list in &region_offsets {
        for &(j, o) in list {
            offset_of[j] = o;
        }
    }
    let own = |i: usize| {
        live.fixed[i].or_else(|| {
            live.tensor_buffer[i].map(|b| Storage::Arena {
                region: region_of[b],
                offset: offset_of[b],
            })
        })
    };
    // A view shares its root's storage, whatever it is (arena, a caller's
    // input, a constant).
    let storage = (0..graph.tensors.len())
        .map(|i| own(i).or_else(|| own(live.root[i].0)))
        .collect();
    let used_regions = placed_sizes.len().max(1);
    Ok(Plan {
        planner: planner.name(),
        regions: (0..used_regions)
            .map(|r| RegionArena {
                region: regions[r].name.clone(),
                bytes: placed_sizes.get(r).copied().unwrap_or(0),
            })
            .collect(),
        storage,
        inplace: live.inplace.clone(),
        inplace_form: live.inplace_form.clone(),
        scratch: live
            .scratch_buffer
            .iter()
            .map(|b| {
                b.map(|b| Storage::Arena {
                    region: region_of[b],
                    offset: offset_of[b],
                })
            })
            .collect(),
        aliased_view: live.aliased_view.clone(),
        lower_bound: live.lower_bound(),
        root: live.root.clone(),
        weights: WeightPlacement::default(),
    })
}

/// Alignment assumed for each weight array when filling a flash region (the
/// largest any weight type needs), so the placement never overfills one.
pub const WEIGHT_ALIGN: usize = 8;

/// The weights of a graph in one or more flash regions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WeightPlacement {
    /// The regions in the order given, with what was placed in each.
    pub regions: Vec<RegionWeights>,
    /// Region (index into `regions`) of each weight tensor, by the index of
    /// the tensor holding its data ([`weight_tensors`]).
    pub region_of: std::collections::BTreeMap<usize, usize>,
}

impl WeightPlacement {
    /// More than one region: the emitter gives every weight the linker
    /// section of its region ([`weights_section`]).
    pub fn is_split(&self) -> bool {
        self.regions.len() > 1
    }
}

/// The weights placed in one flash region.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RegionWeights {
    /// Region name (from the board).
    pub region: String,
    /// Bytes of weights placed there.
    pub bytes: usize,
    /// Weight arrays placed there.
    pub tensors: usize,
    /// Bytes the region had for weights; `None` = unbounded.
    pub capacity: Option<usize>,
}

/// The weights do not fit the flash regions given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("weight `{tensor}` ({bytes} B) fits in none of the flash regions {regions} after the larger weights were placed (weights {total} B in all)")]
pub struct WeightsError {
    /// The first weight (largest first) that found no room.
    pub tensor: String,
    /// Its bytes.
    pub bytes: usize,
    /// Bytes of every weight.
    pub total: usize,
    /// `NAME (free B of capacity B)` per region when it was refused.
    pub regions: String,
    /// Per region: name, capacity, bytes placed before the refusal.
    pub free: Vec<(String, usize, usize)>,
}

/// The tensors holding the model's weights, as the emitter makes them
/// `static`s, in that order: the constants that nodes read or that are
/// outputs, each once (by the tensor holding its data).
pub fn weight_tensors(graph: &Graph, plan: &Plan) -> Vec<TensorId> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    let mut need = |id: TensorId| {
        let id = plan.root[id.0];
        if graph.tensor(id).data.is_some() && seen.insert(id.0) {
            out.push(id);
        }
    };
    for (step, n) in graph.nodes.iter().enumerate() {
        if plan.aliased_view[step] {
            continue;
        }
        for (i, id) in n.inputs.iter().enumerate() {
            if let Some(id) = id {
                if n.op.reads_input(i) {
                    need(*id);
                }
            }
        }
    }
    for id in &graph.outputs {
        need(*id);
    }
    out
}

/// The linker section of the weights placed in flash region `region`.
pub use zant_common::names::weights_section;

/// Places every weight of `graph` in the flash `regions`, first fit, the
/// largest weights first (ties in graph order): each goes to the first
/// region, in the order given, with room left for it. Region capacities
/// count each weight rounded up to [`WEIGHT_ALIGN`]. With one region or
/// none, everything is in it and nothing is checked (the linker is the
/// judge of a single region).
pub fn place_weights(
    graph: &Graph,
    plan: &Plan,
    regions: &[RegionBudget],
) -> Result<WeightPlacement, WeightsError> {
    let tensors = weight_tensors(graph, plan);
    let bytes = |id: TensorId| graph.tensor(id).data.as_ref().map_or(0, |d| d.bytes.len());
    let total: usize = tensors.iter().map(|&t| bytes(t)).sum();
    let mut placed: Vec<RegionWeights> = regions
        .iter()
        .map(|r| RegionWeights {
            region: r.name.clone(),
            bytes: 0,
            tensors: 0,
            capacity: r.capacity,
        })
        .collect();
    let mut used = vec![0usize; regions.len()];
    let mut region_of = std::collections::BTreeMap::new();
    if regions.len() <= 1 {
        for &t in &tensors {
            region_of.insert(t.0, 0);
        }
        if let Some(p) = placed.first_mut() {
            p.bytes = total;
            p.tensors = tensors.len();
        }
        return Ok(WeightPlacement {
            regions: placed,
            region_of,
        });
    }
    let mut order: Vec<(usize, TensorId)> = tensors.iter().copied().enumerate().collect();
    order.sort_by_key(|&(i, t)| (std::cmp::Reverse(bytes(t)), i));
    for (_, t) in order {
        let b = bytes(t);
        let need = b.div_ceil(WEIGHT_ALIGN) * WEIGHT_ALIGN;
        let Some(r) = regions
            .iter()
            .enumerate()
            .position(|(r, budget)| budget.capacity.is_none_or(|c| used[r] + need <= c))
        else {
            let free: Vec<(String, usize, usize)> = regions
                .iter()
                .enumerate()
                .map(|(r, budget)| (budget.name.clone(), budget.capacity.unwrap_or(0), used[r]))
                .collect();
            return Err(WeightsError {
                tensor: graph.tensor(t).name.clone(),
                bytes: b,
                total,
                regions: free
                    .iter()
                    .map(|(n, c, u)| format!("{n} ({} B free of {c} B)", c.saturating_sub(*u)))
                    .collect::<Vec<_>>()
                    .join(", "),
                free,
            });
        };
        used[r] += need;
        placed[r].bytes += b;
        placed[r].tensors += 1;
        region_of.insert(t.0, r);
    }
    Ok(WeightPlacement {
        regions: placed,
        region_of,
    })
}

/// Checks that no two buffers live at the same time overlap in memory.
pub fn verify(buffers: &[Interval], offsets: &[usize]) -> Result<(), String> {
    for i in 0..buffers.len() {
        for j in i + 1..buffers.len() {
            if buffers[i].overlaps(&buffers[j]) {
                let (a0, a1) = (offsets[i], offsets[i] + buffers[i].size);
                let (b0, b1) = (offsets[j], offsets[j] + buffers[j].size);
                if a0 < b1 && b0 < a1 && buffers[i].size > 0 && buffers[j].size > 0 {
                    return Err(format!("buffers {i} and {j} overlap"));
                }
            }
        }
        if !offsets[i].is_multiple_of(ARENA_ALIGN) {
            return Err(format!("buffer {i} is misaligned"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(size: usize, start: usize, end: usize) -> Interval {
        Interval { size, start, end }
    }

    #[test]
    fn greedy_reuses_dead_buffers() {
        let b = vec![iv(100, 0, 1), iv(100, 1, 2), iv(100, 2, 3)];
        let off = GreedyBySize.place(&b);
        verify(&b, &off).unwrap();
        let size = b
            .iter()
            .zip(&off)
            .map(|(b, o)| o + align_up(b.size, 8))
            .max()
            .unwrap();
        assert_eq!(size, 208);
        let naive = Naive.place(&b);
        verify(&b, &naive).unwrap();
    }

    #[test]
    fn greedy_is_valid_on_random_intervals() {
        // Deterministic LCG; no external RNG needed.
        let mut s: u64 = 12345;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 33) as usize
        };
        for _ in 0..200 {
            let n = 1 + next() % 30;
            let b: Vec<Interval> = (0..n)
                .map(|_| {
                    let st = next() % 20;
                    iv(1 + next() % 500, st, st + next() % 6)
                })
                .collect();
            let off = GreedyBySize.place(&b);
            verify(&b, &off).unwrap();
        }
    }
}
