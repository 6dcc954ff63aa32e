//! Generates the ONNX protobuf types from the vendored `proto/onnx.proto`.
//!
//! `protox` parses the `.proto` file in pure Rust, so no `protoc` binary is
//! needed on the machine.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/onnx.proto");
    let fds = protox::compile(["proto/onnx.proto"], ["proto"])?;
    prost_build::Config::new().compile_fds(fds)?;
    Ok(())
}
