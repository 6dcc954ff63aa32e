//! Per-layer profiles: where the instructions (QEMU) or cycles (hardware)
//! of one inference go, node by node.
//!
//! A profiling build ([`build_profiling`](crate::build_profiling)) calls the
//! firmware's `zant_profile_mark` before each node that runs code and once
//! after the last. Under QEMU zant's plugin records the running instruction
//! count each time the marker is entered; on hardware the marker reads the
//! cycle counter into a table the firmware reports. A node's figure is the
//! difference between its marker and the next, so the nodes and the work
//! outside them (entering and leaving the model, copying outputs) add up
//! exactly to the whole inference of the profiling build. The normal build
//! has no markers: its figures are unchanged and reported apart.

use serde::Serialize;
use zant_codegen::report::node_reports;
use zant_runner::report::{CountUnit, MarkCounts};
use zant_runner::TargetOutcome;

use crate::{Built, PipelineError};

/// One node of a profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeProfile {
    /// Position in execution order among the profiled nodes.
    pub index: usize,
    /// Node name (of the compiled graph).
    pub name: String,
    /// Operator, with fused activations (`Conv+Relu`).
    pub op: String,
    /// Kernel variant the node calls (`fast::conv::conv<Dsp>`, `reference`).
    pub kernel: String,
    /// Multiply-accumulates of the node.
    pub macs: u64,
    /// Instructions (QEMU) or cycles (hardware) of the node.
    pub count: u64,
    /// `count` per MAC; `None` for a node without MACs.
    pub per_mac: Option<f64>,
    /// Share of the whole inference, 0..=1.
    pub share: f64,
}

/// The per-layer profile of one inference.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    /// Board.
    pub board: String,
    /// Model.
    pub model: String,
    /// `instructions` (QEMU, exact) or `cycles` (hardware counter).
    pub unit: &'static str,
    /// The whole inference of the profiling build: the sum of every node's
    /// `count` and `outside_nodes`.
    pub total: u64,
    /// Multiply-accumulates of one inference.
    pub macs: u64,
    /// `total` per MAC.
    pub per_mac: Option<f64>,
    /// Counted outside every node: entering the model before the first
    /// node, leaving it after the last, copying outputs no node writes.
    pub outside_nodes: u64,
    /// The nodes, in execution order.
    pub nodes: Vec<NodeProfile>,
}

/// How to order a profile's nodes for display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    /// Execution order.
    #[default]
    Order,
    /// Largest share first (ties in execution order).
    Share,
}

impl Profile {
    /// The nodes in the order asked for.
    pub fn sorted(&self, by: SortBy) -> Vec<&NodeProfile> {
        let mut v: Vec<&NodeProfile> = self.nodes.iter().collect();
        if by == SortBy::Share {
            v.sort_by(|a, b| b.count.cmp(&a.count).then(a.index.cmp(&b.index)));
        }
        v
    }

    /// The count of the node named `name`.
    pub fn node(&self, name: &str) -> Option<&NodeProfile> {
        self.nodes.iter().find(|n| n.name == name)
    }
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// Splits the marker counts of a run among the nodes `marked` (the nodes a
/// marker precedes, in call order; one more marker follows the last).
/// `info(name)` gives a node's op, kernel and MACs.
pub fn split(
    marks: &MarkCounts,
    marked: &[String],
    info: impl Fn(&str) -> (String, String, u64),
) -> Result<(Vec<NodeProfile>, u64), PipelineError> {
    let m = &marks.marks;
    if m.len() != marked.len() + 1 {
        return Err(PipelineError::Profile(format!(
            "the firmware passed {} profile markers, the model has {} (one per node and one after the last)",
            m.len(),
            marked.len() + 1
        )));
    }
    if m.windows(2).any(|w| w[0] > w[1]) || m[m.len() - 1] > marks.total {
        return Err(PipelineError::Profile(format!(
            "profile counts out of order: {m:?} (total {})",
            marks.total
        )));
    }
    let total = marks.total;
    let nodes = marked
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let (op, kernel, macs) = info(name);
            let count = m[i + 1] - m[i];
            NodeProfile {
                index: i,
                name: name.clone(),
                op,
                kernel,
                macs,
                count,
                per_mac: ratio(count, macs),
                share: ratio(count, total).unwrap_or(0.0),
            }
        })
        .collect();
    let outside = m[0] + (total - m[m.len() - 1]);
    Ok((nodes, outside))
}

/// The model crate's manifest of a profiling build; an error for any other.
pub fn profiling_manifest(b: &Built) -> Result<zant_firmware::ModelSurface, PipelineError> {
    let model_dir = b.dir.join("model");
    let manifest = zant_firmware::ModelSurface::read(&model_dir)
        .map_err(|e| PipelineError::Profile(e.to_string()))?;
    if manifest.profile_marks.is_empty() {
        return Err(PipelineError::Profile(format!(
            "the firmware in {} is not a profiling build (its model has no profile markers; build it with build_profiling)",
            b.dir.display()
        )));
    }
    Ok(manifest)
}

/// The profile of a run of a profiling build.
pub fn profile(b: &Built, o: &TargetOutcome) -> Result<Profile, PipelineError> {
    let manifest = profiling_manifest(b)?;
    let Some(marks) = &o.marks else {
        return Err(PipelineError::Profile(match b.board.is_qemu() {
            true => "QEMU's plugin recorded no profile markers".into(),
            false => format!(
                "the firmware reported no profile table (board `{}` has no cycle counter zant reads)",
                b.board.name
            ),
        }));
    };
    let reports = node_reports(&b.compiled);
    let info = |name: &str| {
        let r = reports.iter().find(|r| r.name == name);
        let kernel = manifest
            .kernels
            .iter()
            .find(|k| k.node == name)
            .map(|k| k.kernel.clone())
            .unwrap_or_default();
        (
            r.map(|r| r.op.clone()).unwrap_or_default(),
            kernel,
            r.map(|r| r.macs).unwrap_or(0),
        )
    };
    let (nodes, outside) = split(marks, &manifest.profile_marks, info)?;
    Ok(Profile {
        board: b.board.name.clone(),
        model: b.graph.name.clone(),
        unit: match marks.unit {
            CountUnit::Instructions => "instructions",
            CountUnit::Cycles => "cycles",
        },
        total: marks.total,
        macs: b.macs,
        per_mac: ratio(marks.total, b.macs),
        outside_nodes: outside,
        nodes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks(m: &[u64], total: u64) -> MarkCounts {
        MarkCounts {
            unit: CountUnit::Instructions,
            marks: m.to_vec(),
            total,
        }
    }

    #[test]
    fn nodes_and_outside_sum_to_the_total() {
        let names: Vec<String> = ["conv", "relu", "fc"].map(String::from).to_vec();
        let info = |n: &str| {
            (
                n.to_uppercase(),
                "reference".to_string(),
                if n == "relu" { 0 } else { 100 },
            )
        };
        let (nodes, outside) = split(&marks(&[7, 507, 527, 827], 840), &names, info).unwrap();
        let counts: Vec<u64> = nodes.iter().map(|n| n.count).collect();
        assert_eq!(counts, vec![500, 20, 300]);
        assert_eq!(outside, 7 + 13);
        assert_eq!(counts.iter().sum::<u64>() + outside, 840);
        assert_eq!(nodes[0].per_mac, Some(5.0));
        assert_eq!(nodes[1].per_mac, None);
        let p = Profile {
            board: "b".into(),
            model: "m".into(),
            unit: "instructions",
            total: 840,
            macs: 200,
            per_mac: Some(4.2),
            outside_nodes: outside,
            nodes,
        };
        let order: Vec<&str> = p
            .sorted(SortBy::Share)
            .iter()
            .map(|n| n.name.as_str())
            .collect();
        assert_eq!(order, vec!["conv", "fc", "relu"]);
        assert_eq!(p.node("fc").map(|n| n.count), Some(300));
    }

    #[test]
    fn wrong_marker_counts_are_errors() {
        let names: Vec<String> = vec!["a".into()];
        let info = |_: &str| (String::new(), String::new(), 0);
        assert!(split(&marks(&[1], 5), &names, info).is_err());
        assert!(split(&marks(&[3, 2], 5), &names, info).is_err());
        assert!(split(&marks(&[1, 6], 5), &names, info).is_err());
    }
}
