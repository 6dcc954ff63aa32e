//! Fuzz target: the ONNX loader, planner and emitter must never panic.
//!
//! Run with `cargo +nightly fuzz run load` from `codegen/` (seed the corpus
//! with `examples/*.onnx`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use zant_codegen::{load_bytes, plan::GreedyBySize, LoadOptions};

fuzz_target!(|data: &[u8]| {
    if let Ok(g) = load_bytes(data, "fuzz", &LoadOptions::default()) {
        let (c, p) = zant_codegen::compile(&g, &GreedyBySize);
        let _ = zant_codegen::krate::crate_files(&c, &p);
    }
});
