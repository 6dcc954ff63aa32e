//! `zant run --inputs`: validation over a data set in one data-set build of
//! the firmware, end to end on QEMU with mnist-8 and a handful of samples.

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

fn tmp(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("validate-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Four mnist-8 inputs (1×1×28×28 f32, 0..255), one `.bin` file each, from
/// seeded noise and a bar, named so that sorting by name keeps their order.
fn samples(dir: &Path) -> Vec<String> {
    let mut s: u32 = 0x2026_1201;
    let names: Vec<String> = ["a-noise", "b-noise", "c-bar", "d-noise"]
        .iter()
        .map(|n| format!("{n}.bin"))
        .collect();
    for (k, n) in names.iter().enumerate() {
        let px: Vec<f32> = (0..28 * 28)
            .map(|i| {
                if k == 2 {
                    if (i % 28) / 3 == 4 {
                        255.0
                    } else {
                        0.0
                    }
                } else {
                    s ^= s << 13;
                    s ^= s >> 17;
                    s ^= s << 5;
                    (s % 256) as f32
                }
            })
            .collect();
        let bytes: Vec<u8> = px.iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(dir.join(n), bytes).unwrap();
    }
    names
}

#[test]
fn mnist_data_set_on_qemu_checks_every_sample_and_names_the_worst() {
    let d = tmp("mnist");
    let data = d.join("inputs");
    std::fs::create_dir_all(&data).unwrap();
    let names = samples(&data);
    let labels = d.join("labels.txt");
    std::fs::write(&labels, "1\n2\n3\n4\n").unwrap();
    let build = d.join("fw");
    let run = |extra: &[&str]| {
        zant()
            .args(["run", "--board", "qemu-mps2-an386", "examples/mnist-8.onnx"])
            .arg("--inputs")
            .arg(&data)
            .args(extra)
            .arg("-o")
            .arg(&build)
            .output()
            .unwrap()
    };
    // Against zant's host build: every sample within the tolerance (the
    // logits of 0..255 inputs are in the thousands: a float32 step there is
    // 1e-3, and the target's kernels round otherwise than the host's).
    let out = run(&[
        "--labels",
        labels.to_str().unwrap(),
        "--tolerance",
        "1e-2",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["samples"], 4, "{v}");
    assert_eq!(v["passed"], true, "{v}");
    assert!(
        v["reference"].as_str().unwrap().contains("host build"),
        "{v}"
    );
    let o = &v["outputs"][0];
    assert_eq!(o["top1_agreement"], 1.0, "{v}");
    assert!(o["cosine"].as_f64().unwrap() > 0.999_999, "{v}");
    assert!(o["max_abs_error"].as_f64().unwrap() <= 1e-2, "{v}");
    assert!(o["accuracy"].as_f64().is_some(), "{v}");
    // One firmware run, an exact count per sample.
    let counts = v["sample_instructions"].as_array().unwrap();
    assert_eq!(counts.len(), 4);
    assert!(counts.iter().all(|c| c.as_u64().unwrap() > 100_000), "{v}");
    assert!(v["instructions"]["min"].as_u64().unwrap() > 100_000, "{v}");

    // A wrong reference (all zeros): exit 1, the worst sample named.
    let wrong = d.join("zeros.bin");
    std::fs::write(&wrong, vec![0u8; 4 * 10 * 4]).unwrap();
    let out = run(&["--expects", wrong.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["passed"], false);
    assert_eq!(v["failed_samples"], 4);
    let worst = v["worst"][0]["name"].as_str().unwrap().to_string();
    assert!(names.contains(&worst), "{v}");
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("worst: {worst}")) && err.contains("4 of 4 samples"),
        "{err}"
    );
    // The table, as people read it.
    let out = run(&["--expects", wrong.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let table = text(&out.stdout);
    for k in [
        "max abs",
        "RMSE",
        "cosine",
        "top-1 agree",
        "worst samples",
        &worst,
    ] {
        assert!(table.contains(k), "{k} missing in\n{table}");
    }
}

#[test]
fn bad_data_sets_and_boards_fail_before_the_build() {
    let d = tmp("bad");
    let short = d.join("short.bin");
    std::fs::write(&short, [0u8; 100]).unwrap();
    let out = zant()
        .args(["run", "--board", "qemu-mps2-an386", "examples/mnist-8.onnx"])
        .arg("--inputs")
        .arg(&short)
        .arg("-o")
        .arg(d.join("fw"))
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("short.bin") && err.contains("3136 bytes each"),
        "{err}"
    );
    assert!(!d.join("fw").exists(), "nothing is built");
    // A hardware board without its probe or serial port (none on a CI
    // machine): the runner's clear error before anything is built.
    for (board, says) in [
        ("stm32h7", "no debug probe found"),
        ("esp32-c3-devkit", "no serial port found"),
    ] {
        let out = zant()
            .args(["run", "--board", board, "examples/mnist-8.onnx"])
            .arg("--inputs")
            .arg(&short)
            .arg("-o")
            .arg(d.join("fw"))
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(says) && err.contains("help:"), "{err}");
        assert!(!d.join("fw").exists(), "nothing is built");
    }
}

/// Writes `v` as a `.npy` of `shape` (u8).
fn write_npy(p: &Path, shape: &[u64], v: &[u8]) {
    use npyz::WriterBuilder;
    let mut buf = Vec::new();
    {
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(shape)
            .writer(&mut buf)
            .begin_nd()
            .unwrap();
        w.extend(v.iter().copied()).unwrap();
        w.finish().unwrap();
    }
    std::fs::write(p, buf).unwrap();
}

/// A model with three inputs of different shapes (QLinearConcat of u8
/// tensors x0 [1,2,3,4], x1 [1,3,3,4], x2 [1,1,3,4]): a directory with one
/// `<input name>.npy` each, first axis the samples, on QEMU; a missing or
/// mis-shaped input file is named before the build.
#[test]
fn a_model_with_several_inputs_takes_one_npy_per_input() {
    let d = tmp("multi");
    let data = d.join("inputs");
    std::fs::create_dir_all(&data).unwrap();
    let n = 3u64;
    for (name, c) in [("x0", 2u64), ("x1", 3), ("x2", 1)] {
        let len = (n * c * 12) as usize;
        let v: Vec<u8> = (0..len).map(|i| (i * 7 + c as usize * 31) as u8).collect();
        write_npy(&data.join(format!("{name}.npy")), &[n, 1, c, 3, 4], &v);
    }
    let model = "tests/data/qops/qlinearconcat_u8/model.onnx";
    let run = |extra: &[&str]| {
        zant()
            .args(["run", "--board", "qemu-mps2-an386", model])
            .arg("--inputs")
            .arg(&data)
            .args(extra)
            .arg("-o")
            .arg(d.join("fw"))
            .output()
            .unwrap()
    };
    let out = run(&["--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["samples"], 3, "{v}");
    assert_eq!(v["passed"], true, "{v}");
    // u8 outputs: equal to the host build's, exactly.
    assert_eq!(v["outputs"][0]["max_abs_error"], 0.0, "{v}");
    assert_eq!(v["sample_instructions"].as_array().unwrap().len(), 3);

    // One input's file with a wrong shape: named, exit 2, before the build.
    let _ = std::fs::remove_dir_all(d.join("fw"));
    write_npy(
        &data.join("x1.npy"),
        &[n, 1, 2, 3, 4],
        &vec![0; (n * 24) as usize],
    );
    let out = run(&[]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("x1.npy") && err.contains("expected 3 samples"),
        "{err}"
    );
    // One missing: the files it needs are listed.
    std::fs::remove_file(data.join("x1.npy")).unwrap();
    let out = run(&[]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no x1.npy for tensor `x1`") && err.contains("x0.npy, x1.npy, x2.npy"),
        "{err}"
    );
    assert!(!d.join("fw").exists(), "nothing is built");
}
