//! Data-set builds for hardware boards, without a board: the framed
//! data-set firmware (samples as frames over RTT on probe-rs boards, over
//! the UART / USB-Serial-JTAG on ESP32 boards) cross-compiles for an
//! RP2040 (Cortex-M0+, SysTick) and an ESP32-C3 (esp-hal), and, with
//! `--ignored`, an STM32H7 (Cortex-M7, DWT), with the firmware's frame
//! reader (`src/frame.rs`, the file `runner/tests/firmware_frame.rs` tests
//! on the host) in it.

use std::path::{Path, PathBuf};

use zant_pipeline::{Request, Silent};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn tmp(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("pipeline-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Builds the data-set firmware of mnist-8 for `board`; returns the project
/// directory and the ELF.
fn dataset_build(board: &str) -> (PathBuf, PathBuf) {
    let dir = tmp(&format!("dataset-{board}"));
    let b = zant_boards::resolve(board).unwrap();
    zant_pipeline::preflight_dataset(&b).unwrap();
    let mut req = Request::new(root().join("examples/mnist-8.onnx"), b);
    req.out = Some(dir.clone());
    let built = zant_pipeline::build_dataset(&req, &Silent).unwrap();
    let main = std::fs::read_to_string(dir.join("src/main.rs")).unwrap();
    assert!(main.contains("frame::Reader::new(SAMPLE_BYTES)"), "{main}");
    assert!(main.contains("const SAMPLE_BYTES: usize = 3136;"), "{main}");
    assert!(!main.contains("semihosting"), "{main}");
    // The reader is the file tested on the host, as it is.
    assert_eq!(
        std::fs::read(dir.join("src/frame.rs")).unwrap(),
        std::fs::read(root().join("templates/common/frame.rs")).unwrap()
    );
    assert!(!dir.join("data").exists(), "no input compiled in");
    (dir, built.elf().to_path_buf())
}

fn rtt_board(board: &str) {
    let (dir, elf) = dataset_build(board);
    let elf = std::fs::read(elf).unwrap();
    let main = std::fs::read_to_string(dir.join("src/main.rs")).unwrap();
    assert!(
        main.contains("down: {"),
        "an RTT down channel for the frames"
    );
    // The RTT control block probe-rs looks for is in the ELF.
    assert!(zant_runner::symbol_address(&elf, "_SEGGER_RTT").is_some());
}

#[test]
fn rp2040_data_set_firmware_reads_frames_over_rtt() {
    rtt_board("rp2040");
}

/// The same template on a Cortex-M7 with the DWT counter: a third
/// cross-compile, kept out of CI's time (`cargo test -p zant-pipeline --test
/// dataset_hw -- --ignored`).
#[test]
#[ignore = "a third firmware cross-compile; run with --ignored"]
fn stm32h7_data_set_firmware_reads_frames_over_rtt() {
    rtt_board("stm32h7");
}

#[test]
fn esp32c3_data_set_firmware_reads_frames_over_the_uart() {
    let (dir, elf) = dataset_build("esp32-c3-devkit");
    let main = std::fs::read_to_string(dir.join("src/main.rs")).unwrap();
    assert!(
        main.contains("UsbSerialJtag") && main.contains("GPIO20"),
        "{main}"
    );
    // espflash makes a bootable image of it (application descriptor, fits
    // its partition).
    let img = zant_runner::esp::app_image(&elf, "esp32c3").unwrap();
    assert!(img.app_bytes > 0 && img.app_bytes < img.partition_bytes);
}
