//! Weights over several flash regions (`placement.weights` as a list):
//! mnist-8 on a board whose two flash regions are each too small for its
//! code and weights (`tests/data/boards/mps2-an386-split-flash.toml`: 36 KiB
//! at 0x0 and QEMU mps2's 16 KiB FPGA block RAM at 0x01000000), placed first
//! fit, largest first, cross-compiled for real, its weights found in both
//! regions of the ELF, and run under QEMU against onnxruntime's outputs.

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

fn split_board() -> zant_boards::Board {
    zant_boards::check_file(&root().join("tests/data/boards/mps2-an386-split-flash.toml")).unwrap()
}

fn request(board: zant_boards::Board, dir: &Path) -> Request {
    let mut req = Request::new(root().join("examples/mnist-8.onnx"), board);
    req.out = Some(dir.to_path_buf());
    req.input = Some(root().join("tests/data/ref/mnist-8/input.bin"));
    req
}

/// The same board with other flash region sizes (FLASH, BLOCKRAM).
fn resized(flash: u64, second: u64) -> zant_boards::Board {
    let mut b = split_board();
    for r in &mut b.memory {
        match r.name.as_str() {
            "FLASH" => r.size = flash,
            "BLOCKRAM" => r.size = second,
            _ => {}
        }
    }
    b
}

#[test]
fn placement_is_first_fit_largest_first_with_room_for_the_code() {
    let b = split_board();
    let c = zant_pipeline::compile(&request(b.clone(), &tmp("place"))).unwrap();
    // With a 22 KiB code reserve FLASH (36 KiB) keeps 14 KiB: the largest
    // weight (12,800 B) goes there, the next (10,240 B) does not fit beside
    // it and goes to BLOCKRAM, and the small ones fill FLASH again.
    let p = zant_pipeline::place_weights(&b, &c.compiled, &c.plan, 22 * 1024).unwrap();
    assert!(p.is_split());
    let names: Vec<&str> = p.regions.iter().map(|r| r.region.as_str()).collect();
    assert_eq!(names, ["FLASH", "BLOCKRAM"]);
    assert!(
        p.regions[0].bytes >= 12_800 && p.regions[0].bytes < 14 * 1024,
        "{p:?}"
    );
    assert!(p.regions[1].bytes >= 10_240, "{p:?}");
    let all: usize = p.regions.iter().map(|r| r.bytes).sum();
    assert_eq!(
        p.region_of.len(),
        p.regions.iter().map(|r| r.tensors).sum::<usize>()
    );
    assert!(all > 24_000, "{p:?}");
    // With the least code estimate everything fits in FLASH (the linker
    // then tells the build how much code there really is).
    let p = zant_pipeline::check_flash(&b, &c.compiled, &c.plan).unwrap();
    assert_eq!(p.regions[1].bytes, 0, "{p:?}");
}

#[test]
fn weights_that_cannot_fit_the_regions_fail_early_saying_by_how_much_and_where() {
    let dir = tmp("split-small");
    // 16 KiB + 8 KiB: less than the weights and the least code in all.
    let b = resized(0x4000, 0x2000);
    let c = zant_pipeline::compile(&request(b.clone(), &dir)).unwrap();
    let e = zant_pipeline::check_flash(&b, &c.compiled, &c.plan).unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, PipelineError::FlashTooSmall { .. }), "{text}");
    assert!(
        text.contains("the flash of regions FLASH (16384 B) + BLOCKRAM (8192 B) has 24576 B")
            && text.contains("too many"),
        "{text}"
    );
    assert_eq!(e.exit_code(), 1);
    // Enough bytes in all, but the largest weight (12,800 B) fits in neither
    // region (12,704 B each, once the code has its share of the first).
    let b = resized(6144 + 12_704, 12_704);
    let e = zant_pipeline::check_flash(&b, &c.compiled, &c.plan).unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, PipelineError::WeightsDoNotFit { .. }), "{text}");
    assert!(
        text.contains("(12800 B) fits in none of the flash regions"),
        "{text}"
    );
    assert!(
        text.contains("FLASH (") && text.contains("BLOCKRAM ("),
        "{text}"
    );
    assert!(e.help().unwrap().contains("placement.weights"));
    // The build stops before writing the firmware project.
    let e = zant_pipeline::build(&request(b, &dir), &Silent).unwrap_err();
    assert!(matches!(e, PipelineError::WeightsDoNotFit { .. }), "{e}");
    assert!(!dir.join("Cargo.toml").exists());
}

#[test]
fn mnist_split_over_two_flash_regions_runs_on_qemu_and_matches() {
    let dir = tmp("split-an386");
    let b = split_board();
    let built = zant_pipeline::build(&request(b, &dir), &Silent).unwrap();
    // Both regions hold weights, within their sizes, as the ELF says.
    let f = &built.footprint;
    let region = |n: &str| f.regions.iter().find(|r| r.name == n).unwrap().clone();
    let (flash, second) = (region("FLASH"), region("BLOCKRAM"));
    assert!(flash.weights_bytes > 0 && second.weights_bytes > 0, "{f:?}");
    assert_eq!(flash.weights_bytes + second.weights_bytes, f.weights_bytes);
    assert!(
        flash.used <= flash.size && second.used <= second.size,
        "{f:?}"
    );
    // The model did not fit one region: code and weights exceed FLASH.
    assert!(f.flash_bytes > flash.size, "{f:?}");
    // The memory map and the model crate name the regions' sections.
    let memory_x = std::fs::read_to_string(dir.join("memory.x")).unwrap();
    assert!(memory_x.contains("*(.zant_weights.blockram)") && memory_x.contains("> BLOCKRAM"));
    let lib = std::fs::read_to_string(dir.join("model/src/lib.rs")).unwrap();
    assert!(lib.contains(r#"link_section = ".zant_weights.blockram""#));
    assert!(lib.contains(r#"link_section = ".zant_weights.flash""#));
    let check = Check {
        expect: Some(root().join("tests/data/ref/mnist-8/output.bin")),
        tolerance: 1e-4,
    };
    let fig = zant_pipeline::run(&built, &check, &RunOptions::default(), &Silent).unwrap();
    assert!(fig.outputs_match, "max abs error {}", fig.max_abs_error);
    assert!(fig.instructions_per_inference.is_some_and(|n| n > 0));
}
