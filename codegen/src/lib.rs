//! zant-codegen: ONNX model → typed IR → passes → memory plan → `no_std` Rust.
//!
//! The path of a model is `load → passes → plan → emit`; each stage is one
//! module with one public entry point.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod attrs;
pub mod builder;
pub mod emit;
mod exit;
pub mod hostrun;
pub mod ir;
pub mod kernel_set;
pub mod krate;
pub mod load;
pub mod ops;
pub mod passes;
pub mod plan;
pub mod qdq;
pub mod report;

/// Rust types generated from the vendored official `onnx.proto` (Apache-2.0).
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/onnx.rs"));
}

pub use builder::Builder;
pub use ir::{DType, Graph, Node, Tensor, TensorData, TensorId};
pub use kernel_set::{Isa, KernelSet};
pub use load::{load_bytes, load_file, LoadError, LoadOptions};

/// Runs the passes and the planner with the portable kernel set: the
/// compiled graph and its memory plan.
pub fn compile(graph: &Graph, planner: &dyn plan::Planner) -> (Graph, plan::Plan) {
    compile_for(graph, planner, &kernel_set::KernelSet::portable())
}

/// Runs the passes for the kernel set `set`, then the planner.
pub fn compile_for(
    graph: &Graph,
    planner: &dyn plan::Planner,
    set: &kernel_set::KernelSet,
) -> (Graph, plan::Plan) {
    let opts = passes::PassOptions {
        kernels: *set,
        ..Default::default()
    };
    let compiled = passes::run(graph, &opts);
    let p = plan::plan(&compiled, planner);
    (compiled, p)
}
