//! Runs mnist-8, compiled by the build script, on a raw little-endian f32
//! input file (784 values) and prints the 10 outputs, one per line.

#[allow(dead_code, clippy::all)] // the module holds more than this program uses
mod model {
    include!(concat!(env!("OUT_DIR"), "/mnist_8.rs"));
}

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: zant-build-rs-example INPUT.bin");
        std::process::exit(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read {path}: {e}");
            std::process::exit(2);
        }
    };
    let mut input = [0f32; 784];
    if bytes.len() != input.len() * 4 {
        eprintln!(
            "error: {path} holds {} bytes; mnist-8 takes 784 f32 (3,136 bytes)",
            bytes.len()
        );
        std::process::exit(2);
    }
    for (x, b) in input.iter_mut().zip(bytes.chunks_exact(4)) {
        *x = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
    let mut output = [0f32; 10];
    if model::predict(&input, &mut output).is_err() {
        eprintln!("error: the model's arena is busy");
        std::process::exit(1);
    }
    for y in output {
        println!("{y:e}");
    }
}
