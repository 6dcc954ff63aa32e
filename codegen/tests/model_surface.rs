//! The model crate's surface has one type: what codegen writes into
//! `zant-model.json` is what the firmware stage reads back, field for field.

use std::path::Path;

use zant_codegen::krate::{crate_files, write_crate};
use zant_codegen::{load_file, plan, LoadOptions};

#[test]
fn written_by_codegen_read_by_firmware_equal() {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/mnist-8.onnx");
    let g = load_file(&model, &LoadOptions::default()).unwrap();
    let (c, p) = zant_codegen::compile(&g, &plan::GreedyBySize);
    let files = crate_files(&c, &p).unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("model-surface-mnist-8");
    write_crate(&files, &dir, true).unwrap();
    let read = zant_firmware::ModelSurface::read(&dir).unwrap();
    assert_eq!(read, files.manifest);
    // What firmware sizes its buffers by.
    assert_eq!(read.surface.inputs[0].bytes(), 28 * 28 * 4);
    assert_eq!(read.surface.outputs[0].bytes(), 10 * 4);
}
