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
    // A board without semihosting cannot take a data set: a clear error, no hang.
    let out = zant()
        .args(["run", "--board", "stm32h7", "examples/mnist-8.onnx"])
        .arg("--inputs")
        .arg(&short)
        .arg("-o")
        .arg(d.join("fw"))
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("only on QEMU boards"), "{err}");
}
