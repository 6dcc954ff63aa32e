//! ONNX backend node tests through the real path: import, passes, plan,
//! emitted Rust compiled on the host (many cases as modules of one crate),
//! outputs compared with the expected ones.
//!
//! The cases are written by `ci/gen-node-tests.sh` (the ONNX wheel's
//! generators) into `target/onnx-node-tests`, or `$ZANT_NODE_TESTS`. The
//! allowlist `tests/onnx-node-tests.allow` lists the cases expected to pass;
//! a listed case that fails is an error, a passing case that is not listed is
//! reported (run with `ZANT_UPDATE_ALLOWLIST=1` to rewrite the list).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use prost::Message;
use zant_codegen::hostrun::{build_harness, run_cases, CaseResult, HostCase};
use zant_codegen::ir::{DType, Graph, TensorData};
use zant_codegen::load::{tensor_from_proto, LoadError};
use zant_codegen::plan::{GreedyBySize, Plan};
use zant_codegen::{load_bytes, LoadOptions};

/// The float32 operators the compiler core must cover (issue "Compiler core").
const CORE_OPS: &[&str] = &[
    "Conv",
    "ConvTranspose",
    "Gemm",
    "MatMul",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Pow",
    "Sqrt",
    "Exp",
    "Log",
    "Neg",
    "Abs",
    "Max",
    "Min",
    "Relu",
    "LeakyRelu",
    "PRelu",
    "Sigmoid",
    "HardSigmoid",
    "HardSwish",
    "Tanh",
    "Clip",
    "Elu",
    "Erf",
    "Softmax",
    "LogSoftmax",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "BatchNormalization",
    "InstanceNormalization",
    "LayerNormalization",
    "Reshape",
    "Flatten",
    "Transpose",
    "Concat",
    "Split",
    "Slice",
    "Squeeze",
    "Unsqueeze",
    "Pad",
    "Resize",
    "Upsample",
    "Gather",
    "ReduceMean",
    "ReduceSum",
    "ReduceMax",
    "Identity",
    "Dropout",
    "Constant",
    "Cast",
    "Shape",
    "Where",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn cases_dir() -> PathBuf {
    std::env::var_os("ZANT_NODE_TESTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/onnx-node-tests"))
}

struct Case {
    name: String,
    op_types: BTreeSet<String>,
    float32: bool,
    graph: Option<(Graph, Plan)>,
    inputs: Vec<TensorData>,
    expected: Vec<TensorData>,
    status: Option<String>, // Some(reason) when decided before running
    skipped: bool,
}

/// Input slots of a quantized operator that hold scales and zero points.
fn quant_param_slots(op_type: &str) -> &'static [usize] {
    match op_type {
        "QLinearConv" | "QLinearMatMul" => &[1, 2, 4, 5, 6, 7],
        "ConvInteger" | "MatMulInteger" => &[2, 3],
        _ => &[],
    }
}

fn read_pb(path: &Path) -> Option<TensorData> {
    let bytes = std::fs::read(path).ok()?;
    let t = zant_codegen::proto::TensorProto::decode(bytes.as_slice()).ok()?;
    tensor_from_proto(&t).ok()
}

fn prepare(dir: &Path) -> Case {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let bytes = std::fs::read(dir.join("model.onnx")).unwrap_or_default();
    let model = zant_codegen::proto::ModelProto::decode(bytes.as_slice()).ok();
    let op_types: BTreeSet<String> = model
        .as_ref()
        .and_then(|m| m.graph.as_ref())
        .map(|g| g.node.iter().map(|n| n.op_type().to_string()).collect())
        .unwrap_or_default();
    let data = dir.join("test_data_set_0");
    let mut inputs_by_name = BTreeMap::new();
    let mut expected = Vec::new();
    let mut k = 0;
    while let Some(t) = read_pb(&data.join(format!("input_{k}.pb"))) {
        let proto = zant_codegen::proto::TensorProto::decode(
            std::fs::read(data.join(format!("input_{k}.pb")))
                .unwrap()
                .as_slice(),
        )
        .unwrap();
        inputs_by_name.insert(proto.name().to_string(), t);
        k += 1;
    }
    let mut k = 0;
    while let Some(t) = read_pb(&data.join(format!("output_{k}.pb"))) {
        expected.push(t);
        k += 1;
    }
    // Test data zant cannot decode (float8, bfloat16, int4…) is not float32.
    let undecodable = data
        .join(format!("input_{}.pb", inputs_by_name.len()))
        .exists()
        || data.join(format!("output_{}.pb", expected.len())).exists();
    let float32 = !undecodable
        && inputs_by_name
            .values()
            .chain(&expected)
            .all(|t| t.dtype == DType::F32);
    let mut case = Case {
        name,
        op_types,
        float32,
        graph: None,
        inputs: vec![],
        expected,
        status: None,
        skipped: false,
    };
    // Bind input shapes from the test data (some models leave them symbolic).
    // Inputs that zant needs at compile time (integer shapes, axes, pads,
    // sizes, repeats, indices; Resize scales and roi) are bound as constants,
    // as `zant compile --const` does for a deployment.
    // Quantization parameters (scales, zero points) fed as graph inputs are
    // bound the same way: integer kernels fix their requantization at
    // compile time, as a deployment with `--const` does.
    let quant_params: BTreeSet<String> = model
        .as_ref()
        .and_then(|m| m.graph.as_ref())
        .map(|g| {
            g.node
                .iter()
                .flat_map(|n| {
                    quant_param_slots(n.op_type())
                        .iter()
                        .filter_map(|&i| n.input.get(i).cloned())
                })
                .collect()
        })
        .unwrap_or_default();
    let mut opts = LoadOptions::default();
    for (n, t) in &inputs_by_name {
        opts.shapes.insert(n.clone(), t.shape.clone());
        let small_int = matches!(t.dtype, DType::I64 | DType::I32) && t.numel() <= 64;
        let resize_param = matches!(n.as_str(), "scales" | "roi" | "sizes");
        if small_int || resize_param || quant_params.contains(n) {
            opts.constants.insert(n.clone(), t.clone());
        }
    }
    match load_bytes(&bytes, &case.name, &opts) {
        Ok(g) => {
            let mut ins = Vec::new();
            for &id in &g.inputs {
                let t = g.tensor(id);
                match inputs_by_name
                    .get(&t.name)
                    .filter(|_| !opts.constants.contains_key(&t.name))
                {
                    Some(d) => ins.push(d.clone()),
                    None => {
                        case.status = Some(format!("no test data for input `{}`", t.name));
                        return case;
                    }
                }
            }
            if case.expected.len() != g.outputs.len() {
                case.status = Some("output count differs from the test data".into());
                return case;
            }
            case.inputs = ins;
            case.graph = Some(zant_codegen::compile(&g, &GreedyBySize));
        }
        Err(LoadError::Unsupported(list)) => {
            case.skipped = true;
            case.status = Some(format!("unsupported op {}", list[0].op_type));
        }
        Err(e) => {
            let s = e.to_string();
            case.skipped = s.contains("unsupported") || s.contains("not support");
            case.status = Some(s.lines().next().unwrap_or_default().to_string());
        }
    }
    case
}

fn close(got: &TensorData, want: &TensorData) -> Result<(), String> {
    if got.shape != want.shape && got.numel() != want.numel() {
        return Err(format!("shape {:?}, expected {:?}", got.shape, want.shape));
    }
    if got.dtype != want.dtype {
        return Err(format!("type {}, expected {}", got.dtype, want.dtype));
    }
    if !got.dtype.is_float() {
        return if got.bytes == want.bytes {
            Ok(())
        } else {
            Err("integer values differ".into())
        };
    }
    for (i, (a, b)) in got.to_f64().iter().zip(want.to_f64()).enumerate() {
        let ok = (a.is_nan() && b.is_nan()) || a == &b || (a - b).abs() <= 1e-5 + 1e-3 * b.abs();
        if !ok {
            return Err(format!("element {i}: {a}, expected {b}"));
        }
    }
    Ok(())
}

/// Builds a harness for `idx` cases; on a build failure splits the set to
/// isolate the cases whose generated code does not compile.
fn run_group(
    cases: &[Case],
    idx: &[usize],
    work: &Path,
    out: &mut BTreeMap<usize, Result<(), String>>,
) {
    if idx.is_empty() {
        return;
    }
    let hc: Vec<HostCase<'_>> = idx
        .iter()
        .map(|&i| {
            let (g, p) = cases[i].graph.as_ref().unwrap();
            HostCase {
                name: cases[i].name.clone(),
                graph: g,
                plan: p,
            }
        })
        .collect();
    let target = work.join("target");
    match build_harness(&hc, &work.join("crate"), Some(&target)) {
        Ok(h) => {
            let graphs: Vec<&Graph> = idx
                .iter()
                .map(|&i| &cases[i].graph.as_ref().unwrap().0)
                .collect();
            let inputs: Vec<Vec<TensorData>> =
                idx.iter().map(|&i| cases[i].inputs.clone()).collect();
            let res = run_cases(&h, &graphs, &inputs, &work.join("io")).expect("harness runs");
            for (&i, r) in idx.iter().zip(res) {
                let v = match r {
                    CaseResult::Ok(outs) => outs
                        .iter()
                        .zip(&cases[i].expected)
                        .enumerate()
                        .try_for_each(|(k, (g, w))| {
                            close(g, w).map_err(|e| format!("output {k}: {e}"))
                        }),
                    CaseResult::Failed(e) => Err(format!("run: {e}")),
                };
                out.insert(i, v);
            }
        }
        Err(e) if idx.len() == 1 => {
            let msg = e.to_string();
            let line = msg
                .lines()
                .find(|l| l.starts_with("error"))
                .or_else(|| msg.lines().next())
                .unwrap_or("build failed")
                .to_string();
            out.insert(idx[0], Err(format!("build: {line}")));
        }
        Err(_) => {
            let (a, b) = idx.split_at(idx.len() / 2);
            run_group(cases, a, work, out);
            run_group(cases, b, work, out);
        }
    }
}

#[test]
fn onnx_backend_node_tests() {
    let dir = cases_dir();
    let Ok(rd) = std::fs::read_dir(&dir) else {
        panic!(
            "no ONNX node test cases in {}\n  help: run `ci/gen-node-tests.sh` (needs python3 and `pip install onnx`), or set ZANT_NODE_TESTS",
            dir.display()
        );
    };
    let mut dirs: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("model.onnx").exists())
        .collect();
    dirs.sort();
    let mut cases: Vec<Case> = dirs.iter().map(|d| prepare(d)).collect();
    // Only cases whose ops are all in the core list or implemented are of interest.
    let runnable: Vec<usize> = (0..cases.len())
        .filter(|&i| cases[i].graph.is_some())
        .collect();
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("node-tests");
    let mut results: BTreeMap<usize, Result<(), String>> = BTreeMap::new();
    for (n, chunk) in runnable.chunks(120).enumerate() {
        run_group(&cases, chunk, &work.join(format!("g{n}")), &mut results);
    }
    for (i, c) in cases.iter_mut().enumerate() {
        if let Some(r) = results.get(&i) {
            c.status = r.clone().err();
        }
    }

    let passed: BTreeSet<&str> = cases
        .iter()
        .enumerate()
        .filter(|(i, c)| results.get(i).is_some_and(|r| r.is_ok()) && c.status.is_none())
        .map(|(_, c)| c.name.as_str())
        .collect();
    let allow_path = root().join("tests/onnx-node-tests.allow");
    let allow_text = std::fs::read_to_string(&allow_path).unwrap_or_default();
    let allow: BTreeSet<&str> = allow_text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();

    // Statistics over the float32 cases of the core ops.
    let core: Vec<&Case> = cases
        .iter()
        .filter(|c| {
            c.float32
                && !c.op_types.is_empty()
                && c.op_types.iter().all(|o| CORE_OPS.contains(&o.as_str()))
        })
        .collect();
    let core_pass = core
        .iter()
        .filter(|c| passed.contains(c.name.as_str()))
        .count();
    if std::env::var_os("ZANT_NODE_TESTS_VERBOSE").is_some() {
        for c in core.iter().filter(|c| !passed.contains(c.name.as_str())) {
            eprintln!(
                "  CORE-NOT-PASSING {}: {}",
                c.name,
                c.status.as_deref().unwrap_or("?")
            );
        }
    }
    let skipped = cases.iter().filter(|c| c.skipped).count();
    let failed: Vec<&Case> = cases
        .iter()
        .filter(|c| !c.skipped && !passed.contains(c.name.as_str()))
        .collect();
    let mut report = String::new();
    for c in &failed {
        report.push_str(&format!(
            "  FAIL {}: {}\n",
            c.name,
            c.status.as_deref().unwrap_or("?")
        ));
    }
    let regressions: Vec<&&str> = allow.iter().filter(|n| !passed.contains(**n)).collect();
    let new: Vec<&&str> = passed.iter().filter(|n| !allow.contains(**n)).collect();
    eprintln!("{report}");
    eprintln!(
        "ONNX node tests: {} cases; {} passed, {} failed, {} skipped (unsupported ops or types)",
        cases.len(),
        passed.len(),
        failed.len(),
        skipped
    );
    eprintln!(
        "float32 cases of the core operator list: {core_pass} / {} pass ({:.1}%)",
        core.len(),
        100.0 * core_pass as f64 / core.len().max(1) as f64
    );
    if std::env::var_os("ZANT_UPDATE_ALLOWLIST").is_some() {
        let mut text = String::from("# ONNX backend node test cases expected to pass (one per line).\n# Regenerate: ZANT_UPDATE_ALLOWLIST=1 cargo test -p zant-codegen --test onnx_node_tests\n");
        for n in &passed {
            text.push_str(n);
            text.push('\n');
        }
        std::fs::write(&allow_path, text).unwrap();
        eprintln!("wrote {} ({} cases)", allow_path.display(), passed.len());
        return;
    }
    if !new.is_empty() {
        eprintln!(
            "{} cases pass that are not in the allowlist (add them: ZANT_UPDATE_ALLOWLIST=1):",
            new.len()
        );
        for n in &new {
            eprintln!("  NEW {n}");
        }
    }
    assert!(
        regressions.is_empty(),
        "{} allowlisted cases fail: {:?}",
        regressions.len(),
        regressions
    );
}
