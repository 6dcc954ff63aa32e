//! The rendered firmware project is deterministic and reviewed: snapshots of
//! the files that decide how it builds and links (`memory.x` or the linker
//! script, `src/main.rs`, `Cargo.toml`, `.cargo/config.toml`), one board per
//! runtime. Rendering only: nothing is cross-compiled here. Accept a change
//! with `cargo insta review` (or `INSTA_UPDATE=always`).

use std::path::{Path, PathBuf};

use zant_common::surface::{IoSpec, Manifest, Surface};

/// A scratch directory of this test, emptied first.
fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("render")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A model crate as `zant compile` leaves it, reduced to what the firmware
/// stage reads: the manifest and a library.
fn model_crate(dir: &Path) {
    let io = |name: &str, ident: &str, len: usize, shape: Vec<usize>| IoSpec {
        name: name.into(),
        ident: ident.into(),
        elem: "f32".into(),
        len,
        shape,
    };
    let m = Manifest {
        zant_version: "0.1.0".into(),
        model: "tiny".into(),
        model_sha256: "0".repeat(64),
        package: "tiny-model".into(),
        lib_name: "tiny_model".into(),
        planner: "greedy-by-size".into(),
        arena_lower_bound_bytes: 64,
        surface: Surface {
            inputs: vec![io("x", "x", 4, vec![1, 4])],
            outputs: vec![io("y", "y", 2, vec![1, 2])],
            arena_bytes: 64,
            weight_bytes: 32,
        },
        kernel_set: "portable".into(),
        kernels: vec![],
        profile_marks: vec![],
    };
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("zant-model.json"), m.to_json()).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"tiny-model\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/lib.rs"), "#![no_std]\n").unwrap();
}

/// Renders the project for `board` and returns its deciding files, in order.
fn render(board: &str) -> String {
    let base = scratch(board);
    let model = base.join("model-crate");
    model_crate(&model);
    let out = base.join("fw");
    let b = zant_boards::resolve(board).unwrap();
    zant_firmware::render_project(
        &b,
        &model,
        &[vec![0u8; 16]],
        &out,
        false,
        zant_firmware::Opt::Speed,
    )
    .unwrap();
    let mut files: Vec<String> = Vec::new();
    for rel in [
        "Cargo.toml",
        ".cargo/config.toml",
        "memory.x",
        "zant.x",
        "src/main.rs",
    ] {
        let p = out.join(rel);
        if p.exists() {
            let text = std::fs::read_to_string(&p).unwrap();
            files.push(format!("===== {rel}\n{text}"));
        }
    }
    let all = files.join("\n");
    // Nothing of the machine it was rendered on may leak into the project.
    assert!(
        !all.contains(env!("CARGO_TARGET_TMPDIR")),
        "rendered project names an absolute path"
    );
    all
}

#[test]
fn cortex_m_qemu_mps2_an386() {
    let a = render("qemu-mps2-an386");
    assert_eq!(
        a,
        render("qemu-mps2-an386"),
        "rendering must be deterministic"
    );
    insta::assert_snapshot!(a);
}

#[test]
fn riscv_qemu_riscv32_virt() {
    insta::assert_snapshot!(render("qemu-riscv32-virt"));
}

#[test]
fn esp_esp32_c3_devkit() {
    insta::assert_snapshot!(render("esp32-c3-devkit"));
}

#[test]
fn input_of_the_wrong_size_is_a_clear_error() {
    let base = scratch("wrong-size");
    let model = base.join("model-crate");
    model_crate(&model);
    let b = zant_boards::resolve("qemu-mps2-an386").unwrap();
    let e = zant_firmware::render_project(
        &b,
        &model,
        &[vec![0u8; 3]],
        &base.join("fw"),
        false,
        zant_firmware::Opt::Speed,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("has 3 bytes, expected 16"), "{e}");
}
