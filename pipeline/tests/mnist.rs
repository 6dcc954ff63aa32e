//! The pipeline through the library only: mnist-8 built for an emulated
//! Cortex-M4F (mps2-an386), run under QEMU, checked against the onnxruntime reference, and
//! its instruction count held to the regression suite's baseline.

use std::path::{Path, PathBuf};

use zant_pipeline::{Check, PipelineError, Request, RunOptions, Silent};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn tmp(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("pipeline-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn request(board: &str, dir: &Path) -> Request {
    let board = zant_boards::resolve(board).unwrap();
    let mut req = Request::new(root().join("examples/mnist-8.onnx"), board);
    req.out = Some(dir.to_path_buf());
    req.input = Some(root().join("tests/data/ref/mnist-8/input.bin"));
    req
}

/// The baseline of one figure of one entry of the QEMU regression suite.
fn baseline(entry: &str, key: &str) -> u64 {
    let path = root().join("ci/baselines/qemu-suite.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["entries"][entry][key]
        .as_u64()
        .unwrap_or_else(|| panic!("{}: no {key} for {entry}", path.display()))
}

#[test]
fn mnist_on_qemu_matches_the_reference_with_the_baseline_count() {
    let dir = tmp("mnist-an386");
    let req = request("qemu-mps2-an386", &dir);
    let built = zant_pipeline::build(&req, &Silent).unwrap();
    zant_pipeline::check_limits(&built).unwrap();
    assert!(built.elf().is_file(), "{}", built.elf().display());
    assert!(built.flash_image.is_none());
    let check = Check {
        expect: Some(root().join("tests/data/ref/mnist-8/output.bin")),
        tolerance: 1e-4,
    };
    let fig = zant_pipeline::run(&built, &check, &RunOptions::default(), &Silent).unwrap();
    assert!(fig.outputs_match, "max abs error {}", fig.max_abs_error);
    let entry = "mnist-8@qemu-mps2-an386";
    assert_eq!(
        fig.instructions_per_inference,
        Some(baseline(entry, "instructions"))
    );
    assert_eq!(fig.arena_bytes, baseline(entry, "arena_bytes"));
    assert_eq!(fig.ram_bytes, baseline(entry, "ram_bytes"));
    assert!(fig
        .stack_peak_bytes
        .is_some_and(|p| p > 0 && p <= fig.stack_bytes));
    assert_eq!(fig.cycles_per_inference, None);

    // The same firmware against the host build's outputs instead of a file.
    let fig =
        zant_pipeline::run(&built, &Check::default(), &RunOptions::default(), &Silent).unwrap();
    assert!(fig.outputs_match, "max abs error {}", fig.max_abs_error);
    assert!(fig.reference.contains("host build"), "{}", fig.reference);
}

#[test]
fn an_input_of_the_wrong_size_is_an_input_error() {
    let dir = tmp("short-input");
    std::fs::create_dir_all(&dir).unwrap();
    let short = dir.join("short.bin");
    std::fs::write(&short, [0u8; 12]).unwrap();
    let c = zant_pipeline::compile(&request("qemu-mps2-an386", &dir.join("fw"))).unwrap();
    let e = zant_pipeline::inputs_for(&c.graph, Some(&short)).unwrap_err();
    assert!(matches!(e, PipelineError::InputSize { got: 12, .. }), "{e}");
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("1×1×28×28"), "{e}");
}

#[test]
fn a_directory_zant_did_not_create_is_refused_before_anything_is_built() {
    let dir = tmp("not-ours");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let e = zant_pipeline::build(&request("qemu-mps2-an386", &dir), &Silent).unwrap_err();
    assert!(matches!(e, PipelineError::Firmware(_)), "{e}");
    assert_eq!(e.exit_code(), 2);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}

#[test]
fn a_model_too_large_for_the_board_fails_the_job_with_the_planner_cause() {
    let mut board = zant_boards::resolve("qemu-mps2-an386").unwrap();
    for r in &mut board.memory {
        r.size = r.size.min(8 * 1024);
    }
    let mut req = Request::new(root().join("examples/mnist-8.onnx"), board);
    req.out = Some(tmp("too-small"));
    let e = zant_pipeline::compile(&req).unwrap_err();
    assert!(matches!(e, PipelineError::DoesNotFit { .. }), "{e}");
    assert_eq!(e.exit_code(), 1);
    assert!(std::error::Error::source(&e).is_some());
}
