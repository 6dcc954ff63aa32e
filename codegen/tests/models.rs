//! Whole models compiled to Rust, built and run on the host, compared with
//! the onnxruntime reference outputs (`tests/data/ref`, from the shared models).

use std::path::{Path, PathBuf};

use zant_codegen::hostrun::{build_harness, run_cases, CaseResult, HostCase};
use zant_codegen::ir::TensorData;
use zant_codegen::{load_file, plan, LoadOptions};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read_f32(path: &Path) -> Vec<f32> {
    std::fs::read(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[test]
fn float_models_match_onnxruntime_on_the_host() {
    let models = ["mnist-8", "debug_model"];
    let graphs: Vec<_> = models
        .iter()
        .map(|m| {
            let g = load_file(
                &root().join(format!("examples/{m}.onnx")),
                &LoadOptions::default(),
            )
            .unwrap();
            zant_codegen::compile(&g, &plan::GreedyBySize)
        })
        .collect();
    let cases: Vec<HostCase<'_>> = models
        .iter()
        .zip(&graphs)
        .map(|(m, (g, p))| HostCase {
            name: m.to_string(),
            graph: g,
            plan: p,
        })
        .collect();
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("models-harness");
    let h = build_harness(&cases, &work, None).unwrap();
    let inputs: Vec<Vec<TensorData>> = models
        .iter()
        .zip(&graphs)
        .map(|(m, (g, _))| {
            let x = read_f32(&root().join(format!("tests/data/ref/{m}/input.bin")));
            let shape = g.tensor(g.inputs[0]).shape.clone();
            vec![TensorData::from_f32(shape, &x)]
        })
        .collect();
    let refs: Vec<&zant_codegen::Graph> = graphs.iter().map(|(g, _)| g).collect();
    let results = run_cases(&h, &refs, &inputs, &work.join("io")).unwrap();
    for (m, r) in models.iter().zip(results) {
        let outs = match r {
            CaseResult::Ok(o) => o,
            CaseResult::Failed(e) => panic!("{m}: {e}"),
        };
        let want = read_f32(&root().join(format!("tests/data/ref/{m}/output.bin")));
        let got = outs[0].as_f32();
        assert_eq!(got.len(), want.len(), "{m}");
        let err = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        eprintln!("{m}: max abs error {err:e}");
        assert!(
            err <= 1e-4,
            "{m}: max abs error {err} > 1e-4\n got {got:?}\nwant {want:?}"
        );
    }
}

#[test]
fn arena_split_over_two_regions_still_matches() {
    use zant_codegen::plan::{plan_in_regions, RegionBudget};
    let g = load_file(
        &root().join("examples/mnist-8.onnx"),
        &LoadOptions::default(),
    )
    .unwrap();
    let (c, _) = zant_codegen::compile(&g, &plan::GreedyBySize);
    let budget = [
        RegionBudget {
            name: "DTCM".into(),
            capacity: Some(2048),
        },
        RegionBudget {
            name: "SRAM".into(),
            capacity: Some(64 * 1024),
        },
    ];
    let p = plan_in_regions(&c, &plan::GreedyBySize, &budget).unwrap();
    assert_eq!(p.regions.len(), 2, "{:?}", p.regions);
    assert!(p.regions[0].bytes <= 2048 && p.regions[0].bytes > 0);
    // Too little memory: a clear error with the shortfall.
    let tiny = [RegionBudget {
        name: "SRAM".into(),
        capacity: Some(1024),
    }];
    let e = plan_in_regions(&c, &plan::GreedyBySize, &tiny).unwrap_err();
    assert!(e.to_string().contains("bytes short"), "{e}");

    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("two-regions");
    let h = build_harness(
        &[HostCase {
            name: "m".into(),
            graph: &c,
            plan: &p,
        }],
        &work,
        None,
    )
    .unwrap();
    let x = read_f32(&root().join("tests/data/ref/mnist-8/input.bin"));
    let inputs = vec![vec![TensorData::from_f32(vec![1, 1, 28, 28], &x)]];
    let r = run_cases(&h, &[&c], &inputs, &work.join("io")).unwrap();
    let CaseResult::Ok(outs) = &r[0] else {
        panic!("{:?}", r[0])
    };
    let want = read_f32(&root().join("tests/data/ref/mnist-8/output.bin"));
    let err = outs[0]
        .as_f32()
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(err <= 1e-4, "{err}");
}

/// beer (int8, QLinearConv with float Clip/Add/Softmax between
/// Quantize/DequantizeLinear): compiled onto integer kernels, compared with
/// onnxruntime's output. The output is a softmax over logits quantized with
/// scale `LOGIT_STEP`; one step of a logit moves a probability by at most
/// half a step (|∂p/∂z| summed over the logits ≤ 1/2).
#[test]
fn beer_int8_matches_onnxruntime_within_one_step() {
    const LOGIT_STEP: f32 = 0.139_419_8;
    let g = load_file(&root().join("examples/beer.onnx"), &LoadOptions::default()).unwrap();
    let (g, p) = zant_codegen::compile(&g, &plan::GreedyBySize);
    // Integer operators only between the float edges.
    let ops: Vec<String> = g.nodes.iter().map(|n| n.op.name()).collect();
    eprintln!("{ops:?}");
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("beer-harness");
    let h = build_harness(
        &[HostCase {
            name: "beer".into(),
            graph: &g,
            plan: &p,
        }],
        &work,
        None,
    )
    .unwrap();
    let x = read_f32(&root().join("tests/data/ref/beer/input.bin"));
    let shape = g.tensor(g.inputs[0]).shape.clone();
    let r = run_cases(
        &h,
        &[&g],
        &[vec![TensorData::from_f32(shape, &x)]],
        &work.join("io"),
    )
    .unwrap();
    let got = match r.into_iter().next().unwrap() {
        CaseResult::Ok(o) => o[0].as_f32(),
        CaseResult::Failed(e) => panic!("beer: {e}"),
    };
    let want = read_f32(&root().join("tests/data/ref/beer/output.bin"));
    assert_eq!(got.len(), want.len());
    let diffs: Vec<f32> = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).collect();
    let err = diffs.iter().copied().fold(0f32, f32::max);
    let exact = diffs.iter().filter(|&&d| d < 1e-6).count();
    eprintln!(
        "beer: max abs error {err:e}, {exact} of {} outputs exact",
        got.len()
    );
    assert!(err <= LOGIT_STEP / 2.0, "beer: max abs error {err}");
}

/// DS-CNN and ResNet-8 (the MLPerf Tiny benchmark models, written by
/// `ci/gen-bench-models.sh`) compiled with their in-place nodes — 1×1 and
/// depthwise convolutions over their input, residual Adds fused into the
/// convolution before them and summed over the skip tensor —
/// match onnxruntime on the host, and the arena is the planner's bound.
#[test]
fn bench_models_in_place_match_onnxruntime_on_the_host() {
    let dir = root().join("target/bench-models");
    let models = ["ds-cnn", "resnet-8"];
    for m in models {
        assert!(
            dir.join(format!("{m}.onnx")).is_file(),
            "{}/{m}.onnx is missing: run ci/gen-bench-models.sh first",
            dir.display()
        );
    }
    let graphs: Vec<_> = models
        .iter()
        .map(|m| {
            let g = load_file(&dir.join(format!("{m}.onnx")), &LoadOptions::default()).unwrap();
            zant_codegen::compile(&g, &plan::GreedyBySize)
        })
        .collect();
    for (m, (g, p)) in models.iter().zip(&graphs) {
        let scratch = p.scratch.iter().flatten().count();
        let inplace = p.inplace.iter().filter(|&&b| b).count();
        eprintln!(
            "{m}: {inplace} in-place nodes ({scratch} with a scratch), arena {} B, bound {} B",
            p.arena_bytes(),
            p.lower_bound
        );
        assert!(inplace > 0, "{m}: no node runs in place");
        if *m == "ds-cnn" {
            assert!(scratch > 0, "{m}: no convolution runs in place");
        }
        if *m == "resnet-8" {
            // Each block's residual Add (and Relu) is fused into a
            // convolution that sums over the skip tensor: two feature maps
            // live at the widest point rather than three.
            let fused = g
                .nodes
                .iter()
                .filter(|n| n.op.name() == "Conv+Add+Relu")
                .count();
            assert_eq!(fused, 3, "{m}: residual Adds fused");
            assert_eq!(p.arena_bytes(), 131_072, "{m}: arena");
        }
        assert!(
            p.arena_bytes() >= p.lower_bound,
            "{m}: arena below its bound"
        );
        assert!(!g.nodes.is_empty());
    }
    let cases: Vec<HostCase<'_>> = models
        .iter()
        .zip(&graphs)
        .map(|(m, (g, p))| HostCase {
            name: m.to_string(),
            graph: g,
            plan: p,
        })
        .collect();
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-inplace-harness");
    let h = build_harness(&cases, &work, None).unwrap();
    let inputs: Vec<Vec<TensorData>> = models
        .iter()
        .zip(&graphs)
        .map(|(m, (g, _))| {
            let x = read_f32(&root().join(format!("tests/data/ref/{m}/input.bin")));
            let shape = g.tensor(g.inputs[0]).shape.clone();
            vec![TensorData::from_f32(shape, &x)]
        })
        .collect();
    let refs: Vec<&zant_codegen::Graph> = graphs.iter().map(|(g, _)| g).collect();
    let results = run_cases(&h, &refs, &inputs, &work.join("io")).unwrap();
    for (m, r) in models.iter().zip(results) {
        let outs = match r {
            CaseResult::Ok(o) => o,
            CaseResult::Failed(e) => panic!("{m}: {e}"),
        };
        let want = read_f32(&root().join(format!("tests/data/ref/{m}/output.bin")));
        let got = outs[0].as_f32();
        assert_eq!(got.len(), want.len(), "{m}");
        let err = got
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        eprintln!("{m}: max abs error {err:e}");
        assert!(err <= 1e-4, "{m}: max abs error {err} > 1e-4");
    }
}
