//! The figures of `zant bench --report`: the data behind each one
//! (snapshots), and every SVG rendered to PNG with resvg, so the files are
//! known to be valid images with something drawn in them.

use std::path::{Path, PathBuf};

use zant_figures::{ArenaTimeline, Figures, LayerBars, MemoryBreakdown, SpanKind};
use zant_firmware::{Footprint, RegionUse};
use zant_pipeline::{NodeProfile, Profile, Request};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// mnist-8 compiled for the Cortex-M4F board: the real graph and plan.
fn mnist() -> zant_pipeline::Compiled {
    let board = zant_boards::resolve("qemu-mps2-an386").unwrap();
    zant_pipeline::compile(&Request::new(root().join("examples/mnist-8.onnx"), board)).unwrap()
}

/// A profile of the compiled nodes with made-up counts (a real one needs
/// QEMU; `pipeline/tests/profile.rs` checks those add up).
fn profile(c: &zant_pipeline::Compiled) -> Profile {
    let reports = zant_codegen::report::node_reports(&c.compiled);
    let nodes: Vec<NodeProfile> = reports
        .iter()
        .filter(|r| r.macs > 0 || r.op.contains("Pool"))
        .enumerate()
        .map(|(i, r)| {
            let count = 2 * r.macs + 1000;
            NodeProfile {
                index: i,
                name: r.name.clone(),
                op: r.op.clone(),
                kernel: "reference".into(),
                macs: r.macs,
                count,
                per_mac: (r.macs > 0).then(|| count as f64 / r.macs as f64),
                share: 0.0,
            }
        })
        .collect();
    let outside = 500;
    let total = nodes.iter().map(|n| n.count).sum::<u64>() + outside;
    let nodes = nodes
        .into_iter()
        .map(|mut n| {
            n.share = n.count as f64 / total as f64;
            n
        })
        .collect();
    Profile {
        board: "qemu-mps2-an386".into(),
        model: "mnist-8".into(),
        unit: "instructions",
        total,
        macs: c.macs,
        per_mac: Some(total as f64 / c.macs as f64),
        outside_nodes: outside,
        nodes,
    }
}

/// mnist-8's footprint on the M4F as `zant size` measured it (README).
fn footprint() -> Footprint {
    Footprint {
        elf: "firmware.elf".into(),
        flash_bytes: 53_884,
        ram_bytes: 17_024,
        arena_bytes: 6_272,
        weights_bytes: 23_360,
        code_bytes: 28_000,
        stack_bytes: 8_192,
        other_flash_bytes: 2_524,
        other_ram_bytes: 2_560,
        model_code_bytes: 12_000,
        runtime_code_bytes: 16_000,
        regions: vec![
            RegionUse {
                name: "FLASH".into(),
                kind: "flash".into(),
                used: 53_884,
                size: 4 << 20,
                weights_bytes: 24_836,
            },
            RegionUse {
                name: "RAM".into(),
                kind: "ram".into(),
                used: 17_024,
                size: 4 << 20,
                weights_bytes: 0,
            },
            RegionUse {
                name: "SPARE".into(),
                kind: "ram".into(),
                used: 0,
                size: 1024,
                weights_bytes: 0,
            },
        ],
        largest_symbols: Vec::new(),
    }
}

fn figures() -> Figures {
    let c = mnist();
    Figures {
        model: "mnist-8".into(),
        board: "qemu-mps2-an386".into(),
        command: "zant bench --board qemu-mps2-an386 examples/mnist-8.onnx --report out".into(),
        layers: LayerBars::from_profile(&profile(&c)),
        arena: ArenaTimeline::from_plan("mnist-8", "qemu-mps2-an386", &c.compiled, &c.plan),
        memory: MemoryBreakdown::from_footprint("mnist-8", "qemu-mps2-an386", &footprint()),
    }
}

#[test]
fn the_data_behind_the_figures() {
    let f = figures();
    insta::assert_json_snapshot!("layers", f.layers);
    insta::assert_json_snapshot!("arena", f.arena);
    insta::assert_json_snapshot!("memory", f.memory);
}

/// Every rectangle lies in its arena, and two rectangles share time and
/// bytes only when one is written in place over the other at the node that
/// last reads it.
fn check_timeline(a: &ArenaTimeline) {
    for lane in &a.lanes {
        for s in &lane.spans {
            assert!(s.first <= s.last && s.last < a.steps.len(), "{s:?}");
            assert!(
                s.offset + s.bytes <= lane.arena_bytes,
                "{s:?} past the arena"
            );
        }
        for (i, x) in lane.spans.iter().enumerate() {
            for y in &lane.spans[i + 1..] {
                let time = x.first <= y.last && y.first <= x.last;
                let space = x.offset < y.offset + y.bytes && y.offset < x.offset + x.bytes;
                if time && space {
                    let inplace = |p: &zant_figures::ArenaSpan, q: &zant_figures::ArenaSpan| {
                        matches!(&p.kind, SpanKind::InPlace { over } if *over == q.tensor)
                            && p.first == q.last
                    };
                    assert!(inplace(x, y) || inplace(y, x), "{x:?} overlaps {y:?}");
                }
            }
        }
    }
}

#[test]
fn the_arena_timeline_is_the_plan() {
    let c = mnist();
    let a = ArenaTimeline::from_plan("m", "b", &c.compiled, &c.plan);
    assert_eq!(a.lower_bound, c.plan.lower_bound as u64);
    assert_eq!(a.lanes.len(), c.plan.regions.len());
    check_timeline(&a);
}

/// DS-CNN runs nodes in place (ReLU and depthwise convolutions over their
/// inputs): their rectangles meet their inputs' in one column, honestly.
/// The model is generated by ci/gen-bench-models.sh (ci/test.sh runs it).
#[test]
fn in_place_tensors_share_their_inputs_bytes() {
    let model = root().join("target/bench-models/ds-cnn.onnx");
    if !model.exists() {
        eprintln!(
            "skipped: {} not generated (run ci/gen-bench-models.sh)",
            model.display()
        );
        return;
    }
    let board = zant_boards::resolve("qemu-mps2-an386").unwrap();
    let c = zant_pipeline::compile(&Request::new(model, board)).unwrap();
    let a = ArenaTimeline::from_plan("ds-cnn", "qemu-mps2-an386", &c.compiled, &c.plan);
    check_timeline(&a);
    let inplace = a
        .lanes
        .iter()
        .flat_map(|l| &l.spans)
        .filter(|s| matches!(s.kind, SpanKind::InPlace { .. }))
        .count();
    assert!(inplace > 0, "DS-CNN plans some nodes in place");
    let svg = zant_figures::draw::arena_svg(&a).unwrap();
    let png = zant_figures::draw::png(&svg).unwrap();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    std::fs::write(dir.join("ds-cnn-arena.png"), png).unwrap();
}

#[test]
fn memory_parts_add_up() {
    let m = MemoryBreakdown::from_footprint("m", "b", &footprint());
    assert_eq!(m.flash.iter().map(|p| p.bytes).sum::<u64>(), m.flash_bytes);
    assert_eq!(m.ram.iter().map(|p| p.bytes).sum::<u64>(), m.ram_bytes);
    // Unused regions are left out.
    assert_eq!(m.regions.len(), 2);
}

/// Non-white pixels of a rendered image, and how many of them are coloured
/// (not grey): text, axes and bars are there.
fn ink(p: &resvg::tiny_skia::Pixmap) -> (usize, usize) {
    let mut ink = 0;
    let mut colour = 0;
    for px in p.pixels() {
        let (r, g, b) = (px.red(), px.green(), px.blue());
        if (r, g, b) != (255, 255, 255) {
            ink += 1;
        }
        if r.max(g).max(b) - r.min(g).min(b) > 40 {
            colour += 1;
        }
    }
    (ink, colour)
}

#[test]
fn every_svg_renders_to_a_png() {
    let f = figures();
    for (stem, svg) in zant_figures::svgs(&f).unwrap() {
        let p = zant_figures::draw::raster(&svg).unwrap();
        assert_eq!(p.width(), 1000, "{stem}");
        assert!(p.height() >= 150, "{stem}: {}", p.height());
        let (ink, colour) = ink(&p);
        let all = (p.width() * p.height()) as usize;
        assert!(ink > all / 50, "{stem}: {ink} of {all} pixels drawn");
        assert!(colour > all / 100, "{stem}: {colour} coloured pixels");
        assert!(ink < all * 9 / 10, "{stem}: {ink} of {all} pixels drawn");
        // Text is laid out with the bundled font: the SVG has text and the
        // PNG has its glyphs (text alone leaves ink where no bar is).
        assert!(svg.contains("<text"), "{stem}");
        let png = zant_figures::draw::png(&svg).unwrap();
        let back = resvg::tiny_skia::Pixmap::decode_png(&png).unwrap();
        assert_eq!((back.width(), back.height()), (p.width(), p.height()));
    }
}

#[test]
fn the_report_directory() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("figures-report");
    let _ = std::fs::remove_dir_all(&dir);
    let w = zant_figures::write(&dir, &figures()).unwrap();
    let names: Vec<String> = w
        .files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "layers.svg",
            "layers.png",
            "arena.svg",
            "arena.png",
            "memory.svg",
            "memory.png",
            "figures.json",
            "summary.md"
        ]
    );
    let md = std::fs::read_to_string(&w.summary).unwrap();
    for link in ["layers.svg", "arena.png", "memory.svg", "figures.json"] {
        assert!(md.contains(&format!("({link})")), "summary.md links {link}");
    }
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("figures.json")).unwrap()).unwrap();
    assert_eq!(json["arena"]["planner"], "greedy-by-size");
}
