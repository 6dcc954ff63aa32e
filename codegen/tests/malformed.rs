//! Bad input gets an error, never a panic or a hang: truncated and
//! bit-flipped copies of real models (seeded, thousands of variants), files
//! that are not ONNX, and external-data models.

use std::path::Path;
use std::time::Instant;

use zant_codegen::{load_bytes, LoadError, LoadOptions};

fn model(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples")
            .join(name),
    )
    .unwrap()
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn must_not_panic(bytes: &[u8], what: &str) -> Result<(), LoadError> {
    let t = Instant::now();
    let r = std::panic::catch_unwind(|| {
        let g = load_bytes(bytes, "fuzz", &LoadOptions::default());
        if let Ok(g) = &g {
            // Whatever loads must also plan and emit without panicking.
            let (c, p) = zant_codegen::compile(g, &zant_codegen::plan::GreedyBySize);
            let _ = zant_codegen::krate::crate_files(&c, &p);
        }
        g.map(|_| ())
    });
    assert!(t.elapsed().as_secs() < 20, "{what}: took {:?}", t.elapsed());
    match r {
        Ok(r) => r,
        Err(_) => panic!("{what}: the loader panicked"),
    }
}

#[test]
fn truncated_models_are_errors() {
    for name in ["mnist-8.onnx", "debug_model.onnx", "beer.onnx"] {
        let m = model(name);
        let mut rng = Rng(0x5eed_0001);
        let mut cuts: Vec<usize> = (0..400).map(|_| rng.below(m.len())).collect();
        cuts.extend([0, 1, 2, 10, m.len() - 1]);
        for cut in cuts {
            let r = must_not_panic(&m[..cut], &format!("{name} truncated at {cut}"));
            assert!(r.is_err(), "{name} truncated at {cut} loaded");
        }
    }
}

#[test]
fn bit_flipped_models_never_panic() {
    let mut n_err = 0;
    let mut total = 0;
    for (name, count) in [
        ("mnist-8.onnx", 1500),
        ("debug_model.onnx", 1500),
        ("beer.onnx", 300),
    ] {
        let m = model(name);
        let mut rng = Rng(0x5eed_0002 ^ m.len() as u64);
        for i in 0..count {
            let mut b = m.clone();
            let flips = 1 + rng.below(8);
            for _ in 0..flips {
                let at = rng.below(b.len());
                b[at] ^= 1 << rng.below(8);
            }
            total += 1;
            if must_not_panic(&b, &format!("{name} variant {i}")).is_err() {
                n_err += 1;
            }
        }
    }
    eprintln!("{total} bit-flipped variants: {n_err} rejected with an error, the rest still valid models; no panic");
}

#[test]
fn random_bytes_are_not_onnx() {
    let mut rng = Rng(42);
    for len in [0usize, 1, 7, 100, 4096] {
        let b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        assert!(must_not_panic(&b, "random bytes").is_err());
    }
    let r = must_not_panic(b"this is a text file, not a model\n", "text");
    assert!(
        matches!(r, Err(LoadError::Protobuf(_) | LoadError::Decode(_))),
        "{r:?}"
    );
}

#[test]
fn external_data_is_explained() {
    use prost::Message;
    let m = model("debug_model.onnx");
    let mut p = zant_codegen::proto::ModelProto::decode(m.as_slice()).unwrap();
    let g = p.graph.as_mut().unwrap();
    let t = &mut g.initializer[0];
    t.raw_data = None;
    t.float_data.clear();
    t.data_location = Some(zant_codegen::proto::tensor_proto::DataLocation::External as i32);
    t.external_data
        .push(zant_codegen::proto::StringStringEntryProto {
            key: Some("location".into()),
            value: Some("weights.bin".into()),
        });
    let bytes = p.encode_to_vec();
    let e = load_bytes(&bytes, "ext", &LoadOptions::default()).unwrap_err();
    let s = format!("{e}\n  help: {}", e.help().unwrap_or_default());
    assert!(
        s.contains("external file")
            && s.contains("weights.bin")
            && s.contains("save_as_external_data=False"),
        "{s}"
    );
}

#[test]
fn an_opset_from_the_future_is_rejected_when_read() {
    use prost::Message;
    let m = model("mnist-8.onnx");
    for bad in [99, 0, -3] {
        let mut p = zant_codegen::proto::ModelProto::decode(m.as_slice()).unwrap();
        for o in &mut p.opset_import {
            if matches!(o.domain(), "" | "ai.onnx") {
                o.version = Some(bad);
            }
        }
        let bytes = p.encode_to_vec();
        let s = load_bytes(&bytes, "future", &LoadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            s.contains(&format!("opset {bad}")) && s.contains("opsets 1 to"),
            "{s}"
        );
        // `inspect` reads the model the same way.
        let s = zant_codegen::load::survey_bytes(&bytes)
            .unwrap_err()
            .to_string();
        assert!(s.contains(&format!("opset {bad}")), "{s}");
    }
}
