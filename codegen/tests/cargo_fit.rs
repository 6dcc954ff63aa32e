//! The generated crate fits cargo: a valid package name from any file name,
//! no `[workspace]` table (it builds on its own and as a member of a user's
//! workspace), and the `build.rs` API (`Builder`) used by a real project,
//! `examples/build-rs`, built and run against the reference outputs.

use std::path::{Path, PathBuf};
use std::process::Command;

use zant_codegen::krate::{self, check_package_name, package_name};
use zant_codegen::{load_bytes, plan, LoadOptions};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.env_remove("CARGO_BUILD_TARGET").env_remove("RUSTFLAGS");
    c
}

/// A fresh directory outside zant's workspace (the system temp dir).
fn outside_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("zant-cargo-fit-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write_model_crate(model_name: &str, dir: &Path) -> String {
    let bytes = std::fs::read(root().join("examples/debug_model.onnx")).unwrap();
    let g = load_bytes(&bytes, model_name, &LoadOptions::default()).unwrap();
    let (c, p) = zant_codegen::compile(&g, &plan::GreedyBySize);
    let files = krate::crate_files(&c, &p).unwrap();
    krate::write_crate(&files, dir, false).unwrap();
    files.manifest.package
}

#[test]
fn package_names_are_valid_whatever_the_file_is_called() {
    for (stem, want) in [
        ("mnist-8", "mnist-8-model"),
        ("8bit", "onnx-8bit-model"),
        ("my model", "my-model-model"),
        ("modèle", "mod-le-model"),
        ("模型", "onnx-model"),
        ("__init__", "init-model"),
        ("", "onnx-model"),
    ] {
        let got = package_name(stem);
        assert_eq!(got, want, "{stem:?}");
        check_package_name(&got).unwrap();
    }
    assert!(package_name(&"x".repeat(200)).len() <= 64);
    for bad in ["8bit", "my model", "modèle", "self", "test", "", "-a"] {
        let e = check_package_name(bad).unwrap_err();
        let (text, help) = (e.to_string(), e.help().unwrap_or_default());
        assert!(
            text.contains("cannot be a package name") && help.contains("--name"),
            "{text}\n  help: {help}"
        );
    }
    check_package_name("my_model").unwrap();
}

#[test]
fn the_crate_builds_alone_and_as_a_workspace_member() {
    let d = outside_dir("ws");
    if krate::enclosing_workspace(&d.join("x")).is_some() {
        eprintln!("skipped: the temp dir is inside a cargo workspace");
        return;
    }
    // Standalone, from a file name cargo would have refused before.
    let alone = d.join("alone");
    let pkg = write_model_crate("8bit", &alone);
    assert_eq!(pkg, "onnx-8bit-model");
    let manifest = std::fs::read_to_string(alone.join("Cargo.toml")).unwrap();
    assert!(
        !manifest
            .lines()
            .any(|l| l.starts_with("[workspace") || l.starts_with("[profile")),
        "{manifest}"
    );
    let target = root().join("target/cargo-fit");
    let out = cargo()
        .args(["build", "--offline", "--quiet"])
        .current_dir(&alone)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A member of the user's workspace: no "multiple workspace roots", no
    // "profiles for the non root package will be ignored".
    let ws = d.join("ws");
    write_model_crate("my model", &ws.join("crates/model"));
    std::fs::write(
        ws.join("Cargo.toml"),
        "[workspace]\nmembers = [\"crates/model\"]\nresolver = \"2\"\n",
    )
    .unwrap();
    assert_eq!(
        krate::enclosing_workspace(&ws.join("crates/model")),
        Some(ws.join("Cargo.toml"))
    );
    let out = cargo()
        .args(["build", "--offline"])
        .current_dir(&ws)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("warning"), "{err}");
    assert!(err.contains("my-model-model"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn the_build_rs_example_builds_and_matches_the_reference() {
    let dir = root().join("examples/build-rs");
    let target = root().join("target/build-rs-example");
    let out = cargo()
        .args(["build", "--offline", "--quiet"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(target.join("debug/zant-build-rs-example"))
        .arg(root().join("tests/data/ref/mnist-8/input.bin"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Vec<f32> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    let want: Vec<f32> = std::fs::read(root().join("tests/data/ref/mnist-8/output.bin"))
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert_eq!(got.len(), want.len());
    let err = got
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(err <= 1e-4, "max abs error {err:e}");
}

#[test]
fn the_builder_outside_a_build_script_needs_an_out_dir() {
    let e = zant_codegen::Builder::new(root().join("examples/debug_model.onnx"))
        .emit_rerun_if_changed(false)
        .compile();
    if std::env::var_os("OUT_DIR").is_none() {
        assert!(e.unwrap_err().to_string().contains("OUT_DIR"));
    }
    let d = outside_dir("builder");
    let p = zant_codegen::Builder::new(root().join("examples/debug_model.onnx"))
        .out_dir(&d)
        .emit_rerun_if_changed(false)
        .compile()
        .unwrap();
    assert_eq!(p, d.join("debug_model.rs"));
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains("pub fn predict(") && text.contains("debug_model_zk"));
    assert!(d.join("debug_model_zk/mod.rs").exists());
    let e = zant_codegen::Builder::new(root().join("examples/nope.onnx"))
        .out_dir(&d)
        .emit_rerun_if_changed(false)
        .compile()
        .unwrap_err()
        .to_string();
    assert!(e.contains("nope.onnx"), "{e}");
    let _ = std::fs::remove_dir_all(&d);
}
