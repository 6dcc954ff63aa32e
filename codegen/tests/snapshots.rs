//! Generated code is deterministic and reviewed: snapshots of the generated
//! `lib.rs` of small models (insta). A change to emission shows up as a diff
//! here; accept it with `cargo insta review` (or INSTA_UPDATE=always).

use std::path::Path;

use zant_codegen::krate::crate_files;
use zant_codegen::{load_file, plan, LoadOptions};

fn lib_rs(model: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(model);
    let g = load_file(&path, &LoadOptions::default()).unwrap();
    let (c, p) = zant_codegen::compile(&g, &plan::GreedyBySize);
    let files = crate_files(&c, &p).unwrap();
    let (_, text) = files
        .files
        .iter()
        .find(|(p, _)| p.ends_with("src/lib.rs"))
        .unwrap();
    text.clone()
}

#[test]
fn debug_model_lib_rs() {
    let a = lib_rs("debug_model.onnx");
    assert_eq!(
        a,
        lib_rs("debug_model.onnx"),
        "emission must be deterministic"
    );
    insta::assert_snapshot!(a);
}

#[test]
fn mnist_8_lib_rs_without_weights() {
    let a = lib_rs("mnist-8.onnx");
    assert_eq!(a, lib_rs("mnist-8.onnx"), "emission must be deterministic");
    // The weights are thousands of numbers; snapshot the code around them.
    let code: Vec<&str> = a
        .lines()
        .filter(|l| {
            !l.trim_start()
                .starts_with(|c: char| c == '-' || c.is_ascii_digit())
        })
        .collect();
    insta::assert_snapshot!(code.join("\n"));
}
