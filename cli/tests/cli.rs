//! CLI behaviour, tested by running the `zant` binary.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn zant() -> Command {
    let mut c = Command::cargo_bin("zant").unwrap();
    c.current_dir(root()).env("NO_COLOR", "1");
    c
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn inspect_mnist_table() {
    let out = zant()
        .args(["inspect", "examples/mnist-8.onnx"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    insta::assert_snapshot!(text(&out.stdout));
}

#[test]
fn inspect_mnist_json_carries_the_figures() {
    let out = zant()
        .args(["inspect", "examples/mnist-8.onnx", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is one JSON object");
    assert_eq!(v["macs"], 786_560);
    assert_eq!(v["params"], 5_994);
    assert_eq!(v["weight_bytes"], 23_976);
    assert_eq!(v["activation_lower_bound_bytes"], 50_176);
    assert!(v["arena_bytes"].as_u64().unwrap() >= v["arena_lower_bound_bytes"].as_u64().unwrap());
    let nodes = v["nodes"].as_array().unwrap();
    let macs: Vec<u64> = nodes.iter().map(|n| n["macs"].as_u64().unwrap()).collect();
    assert_eq!(macs.iter().sum::<u64>(), 786_560);
    assert!(macs.contains(&156_800) && macs.contains(&627_200) && macs.contains(&2_560));
    for n in nodes {
        assert!(n["name"].is_string() && n["op"].is_string() && n["output_shapes"].is_array());
    }
    assert_eq!(v["unsupported"].as_array().unwrap().len(), 0);
}

#[test]
fn inspect_lists_every_unsupported_node_and_exits_1() {
    // mnist-8 with its two Relu nodes renamed to operators zant does not
    // support (beer, the int8 model this test used, now compiles).
    let f = "cli/tests/data/unsupported-ops.onnx";
    let out = zant().args(["inspect", "--json"]).arg(f).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is one JSON object");
    let list = v["unsupported"].as_array().unwrap();
    let ops: Vec<&str> = list
        .iter()
        .map(|u| u["op_type"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["TopK", "NonMaxSuppression"], "{list:?}");
    for u in list {
        assert!(u["node"].is_string() && u["opset"] == 8, "{u}");
    }
    let err = text(&out.stderr);
    assert!(err.contains("operators zant does not support"), "{err}");
}

#[test]
fn not_onnx_is_an_input_error() {
    let dir = tempdir();
    let f = dir.join("notes.onnx");
    std::fs::write(&f, "hello, not a model").unwrap();
    let out = zant().arg("inspect").arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(text(&out.stderr).replace(&f.display().to_string(), "FILE"));
}

/// An error with advice: the message on the `error:` line, the advice on its
/// own `help:` line; with `--json` the advice is the `help` key, apart from
/// the message.
#[test]
fn help_is_kept_apart_from_the_message() {
    let dir = tempdir();
    let model = dir.join("m.onnx");
    std::fs::copy(root().join("examples/mnist-8.onnx"), &model).unwrap();
    let taken = dir.join("taken");
    std::fs::create_dir_all(&taken).unwrap();
    std::fs::write(taken.join("mine.txt"), "not zant's").unwrap();
    let out = zant()
        .arg("compile")
        .arg(&model)
        .arg("-o")
        .arg(&taken)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let dir_text = taken.display().to_string();
    insta::assert_snapshot!(
        "help_apart_stderr",
        text(&out.stderr).replace(&dir_text, "DIR")
    );
    let out = zant()
        .arg("compile")
        .arg(&model)
        .arg("-o")
        .arg(&taken)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    insta::assert_snapshot!(
        "help_apart_json",
        serde_json::to_string_pretty(&v)
            .unwrap()
            .replace(&dir_text, "DIR")
    );
}

#[test]
fn missing_file_and_bad_flag_exit_2() {
    let out = zant().args(["inspect", "nope.onnx"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("nope.onnx"));
    let out = zant().args(["inspect", "--frobnicate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = zant()
        .args(["inspect", "examples/mnist-8.onnx", "--shape", "Input3=1,x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn every_subcommand_has_help() {
    for sub in [
        "inspect", "compile", "boards", "build", "size", "run", "bench", "deploy", "budget",
        "doctor",
    ] {
        let out = zant().args([sub, "--help"]).output().unwrap();
        assert!(out.status.success(), "{sub} --help");
        assert!(text(&out.stdout).contains("Usage: zant"), "{sub}");
    }
}

#[test]
fn compile_refuses_a_directory_it_did_not_make() {
    let dir = tempdir();
    std::fs::write(dir.join("mine.txt"), "user data").unwrap();
    let out = zant()
        .args(["compile", "examples/mnist-8.onnx", "-o"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(dir.join("mine.txt")).unwrap(),
        "user data"
    );
    // A directory zant made is rewritten without --force, byte for byte the same.
    let made = dir.join("model");
    let ok = zant()
        .args(["compile", "examples/mnist-8.onnx", "-o"])
        .arg(&made)
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let first = std::fs::read(made.join("src/lib.rs")).unwrap();
    let again = zant()
        .args(["compile", "examples/mnist-8.onnx", "-o"])
        .arg(&made)
        .output()
        .unwrap();
    assert!(again.status.success());
    assert_eq!(
        first,
        std::fs::read(made.join("src/lib.rs")).unwrap(),
        "generated code is deterministic"
    );
}

fn tempdir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "cli-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn ci_workflow_example_uses_only_existing_zant_commands() {
    let yml = std::fs::read_to_string(root().join("ci/github/zant-budget.yml")).unwrap();
    let mut seen = 0;
    for line in yml.lines() {
        let Some(i) = line.find("zant ") else {
            continue;
        };
        let rest = &line[i + 5..];
        let sub = rest.split_whitespace().next().unwrap_or("");
        if sub.is_empty() || sub.starts_with('-') || !sub.chars().all(|c| c.is_ascii_lowercase()) {
            continue;
        }
        let out = zant().args([sub, "--help"]).output().unwrap();
        assert!(
            out.status.success(),
            "`zant {sub}` (from the workflow) does not exist"
        );
        seen += 1;
    }
    assert!(seen >= 2, "the workflow should run zant commands");
}

#[test]
fn an_input_can_be_bound_as_a_constant() {
    let dir = tempdir();
    let shape = dir.join("shape.bin");
    let bytes: Vec<u8> = [3i64, 2].iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(&shape, bytes).unwrap();
    let model = "cli/tests/data/reshape_input.onnx";
    let out = zant().args(["inspect", model]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--const NAME=FILE"),
        "{}",
        text(&out.stderr)
    );
    let out = zant()
        .args(["inspect", model, "--json", "--const"])
        .arg(format!("shape={}", shape.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["nodes"][0]["output_shapes"][0], serde_json::json!([3, 2]));
}
