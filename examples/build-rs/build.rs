//! Compiles `../mnist-8.onnx` into `$OUT_DIR/mnist_8.rs`; cargo runs this
//! again when the model file changes.

fn main() {
    if let Err(e) = zant_codegen::Builder::new("../mnist-8.onnx").compile() {
        // A readable error in cargo's output, not a panic backtrace.
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
