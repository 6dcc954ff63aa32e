//! zant-codegen: ONNX model → typed IR → passes → memory plan → `no_std` Rust.
//!
//! The path of a model is `load → passes → plan → emit`; each stage is one
//! module with one public entry point.

#![warn(missing_docs)]

pub mod attrs;
pub mod emit;
pub mod hostrun;
pub mod ir;
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

pub use ir::{DType, Graph, Node, Tensor, TensorData, TensorId};
pub use load::{load_bytes, load_file, LoadError, LoadOptions};

/// Runs the passes and the planner: the compiled graph and its memory plan.
pub fn compile(graph: &Graph, planner: &dyn plan::Planner) -> (Graph, plan::Plan) {
    let compiled = passes::run(graph, &passes::PassOptions::default());
    let p = plan::plan(&compiled, planner);
    (compiled, p)
}
