//! The `com.microsoft` QOperator ops against onnxruntime: each case in
//! `tests/data/qops` (written by `ci/gen-qops-cases.py`, which ran
//! onnxruntime for the expected output) is compiled, run on the host through
//! the generated Rust, and must match within one quantization step.

use std::path::{Path, PathBuf};

use prost::Message;
use zant_codegen::hostrun::{build_harness, run_cases, CaseResult, HostCase};
use zant_codegen::ir::{Graph, TensorData};
use zant_codegen::load::tensor_from_proto;
use zant_codegen::plan::{GreedyBySize, Plan};
use zant_codegen::{load_bytes, LoadOptions};

fn read_pb(path: &Path) -> Option<TensorData> {
    let bytes = std::fs::read(path).ok()?;
    let t = zant_codegen::proto::TensorProto::decode(bytes.as_slice()).ok()?;
    tensor_from_proto(&t).ok()
}

struct Case {
    name: String,
    compiled: (Graph, Plan),
    inputs: Vec<TensorData>,
    expected: TensorData,
    /// One quantization step of a float output (`step.txt`); integer
    /// outputs are in steps already. `0` demands bit-equality (cases where
    /// onnxruntime is exact, like `qdq_conv_near_tie_i8`).
    step: f64,
}

fn load(dir: &Path) -> Case {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let bytes = std::fs::read(dir.join("model.onnx")).unwrap();
    let g = load_bytes(&bytes, &name, &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let data = dir.join("test_data_set_0");
    let inputs = (0..g.inputs.len())
        .map(|k| read_pb(&data.join(format!("input_{k}.pb"))).unwrap())
        .collect();
    let expected = read_pb(&data.join("output_0.pb")).unwrap();
    let step = std::fs::read_to_string(dir.join("step.txt"))
        .map(|s| s.trim().parse().expect("step.txt holds a number"))
        .unwrap_or(1.0);
    Case {
        step,
        name,
        compiled: zant_codegen::compile(&g, &GreedyBySize),
        inputs,
        expected,
    }
}

#[test]
fn qoperator_ops_match_onnxruntime() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/qops");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/data/qops (ci/gen-qops-cases.py writes it)")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("model.onnx").exists())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 20,
        "only {} cases in {}",
        dirs.len(),
        root.display()
    );
    let cases: Vec<Case> = dirs.iter().map(|d| load(d)).collect();
    // The quantized networks compute in integers: no float operator is left
    // but the QuantizeLinear of the input and the DequantizeLinear of the
    // output (QDQ islands and QOperator graphs alike; MaxPool and Flatten
    // run on the integer tensor there).
    for c in cases.iter().filter(|c| c.name.starts_with("net_")) {
        let ops: Vec<String> = c.compiled.0.nodes.iter().map(|n| n.op.name()).collect();
        let float: Vec<&String> = ops
            .iter()
            .filter(|o| {
                !(o.starts_with('Q')
                    || matches!(o.as_str(), "Flatten" | "MaxPool" | "DequantizeLinear"))
            })
            .collect();
        assert!(
            float.is_empty(),
            "{}: float operators left: {float:?}",
            c.name
        );
        assert_eq!(
            ops.iter().filter(|o| *o == "DequantizeLinear").count(),
            1,
            "{}: {ops:?}",
            c.name
        );
    }
    let hc: Vec<HostCase<'_>> = cases
        .iter()
        .map(|c| HostCase {
            name: c.name.clone(),
            graph: &c.compiled.0,
            plan: &c.compiled.1,
        })
        .collect();
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("qops-ort");
    let h = build_harness(&hc, &work.join("crate"), Some(&work.join("target")))
        .unwrap_or_else(|e| panic!("harness build: {e}"));
    let graphs: Vec<&Graph> = cases.iter().map(|c| &c.compiled.0).collect();
    let inputs: Vec<Vec<TensorData>> = cases.iter().map(|c| c.inputs.clone()).collect();
    let res = run_cases(&h, &graphs, &inputs, &work.join("io")).expect("harness runs");
    let mut bad = Vec::new();
    let mut exact = 0;
    let mut total = 0;
    for (c, r) in cases.iter().zip(res) {
        let got = match r {
            CaseResult::Ok(mut outs) => outs.remove(0),
            CaseResult::Failed(e) => {
                bad.push(format!("{}: {e}", c.name));
                continue;
            }
        };
        assert_eq!(got.dtype, c.expected.dtype, "{}", c.name);
        assert_eq!(got.shape, c.expected.shape, "{}", c.name);
        let (g, w) = (got.to_f64(), c.expected.to_f64());
        total += g.len();
        exact += g.iter().zip(&w).filter(|(a, b)| a == b).count();
        if let Some((i, (a, b))) = g
            .iter()
            .zip(&w)
            .enumerate()
            .find(|(_, (a, b))| (*a - *b).abs() > c.step * 1.0001)
        {
            bad.push(format!("{}: element {i} is {a}, onnxruntime {b}", c.name));
        }
    }
    eprintln!(
        "{} QOperator cases: {exact} of {total} outputs equal onnxruntime's, the rest within one step",
        cases.len()
    );
    assert!(
        bad.is_empty(),
        "beyond one quantization step:\n{}",
        bad.join("\n")
    );
}
