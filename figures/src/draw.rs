//! Drawing the figures as SVG with plotters, and SVG to PNG with resvg.

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::data::{ArenaTimeline, LayerBars, MemoryBreakdown, SpanKind};
use crate::FigureError;

/// The font family the figures name; [`png`] lays text out with a bundled
/// copy of it (DejaVu Sans Mono), so a PNG looks the same on every machine.
pub const FONT: &str = "DejaVu Sans Mono";

/// DejaVu Sans Mono 2.37 (Bitstream Vera licence, see `fonts/LICENSE-DejaVu.txt`).
static FONT_DATA: &[u8] = include_bytes!("../fonts/DejaVuSansMono.ttf");

const TABLEAU: [RGBColor; 10] = [
    RGBColor(78, 121, 167),
    RGBColor(242, 142, 43),
    RGBColor(89, 161, 79),
    RGBColor(225, 87, 89),
    RGBColor(176, 122, 161),
    RGBColor(156, 117, 95),
    RGBColor(255, 157, 167),
    RGBColor(118, 183, 178),
    RGBColor(237, 201, 72),
    RGBColor(186, 176, 172),
];

/// The colour of an operator (by the first op of a fused chain), the same
/// in every figure: convolutions blue, matrix products orange, pooling
/// green, and so on.
pub fn op_color(op: &str) -> RGBColor {
    let base = op.split('+').next().unwrap_or(op);
    let i = match base {
        b if b.contains("Conv") => 0,
        "Gemm" | "MatMul" | "MatMulInteger" | "QLinearMatMul" | "QGemm" => 1,
        b if b.contains("Pool") => 2,
        "Relu" | "Sigmoid" | "Tanh" | "Clip" | "LeakyRelu" | "HardSigmoid" | "HardSwish" => 3,
        "Add" | "Mul" | "Sub" | "Div" | "QLinearAdd" | "QLinearMul" => 4,
        "Reshape" | "Flatten" | "Transpose" | "Squeeze" | "Unsqueeze" | "Concat" => 5,
        "Softmax" | "LogSoftmax" => 6,
        "QuantizeLinear" | "DequantizeLinear" => 7,
        "BatchNormalization" | "LayerNormalization" => 8,
        _ => 9,
    };
    TABLEAU[i]
}

/// `c` mixed with white (the arena's rectangles, so outlines and names show).
fn pale(c: RGBColor) -> RGBColor {
    let m = |v: u8| (v as f64 * 0.55 + 255.0 * 0.45).round() as u8;
    RGBColor(m(c.0), m(c.1), m(c.2))
}

/// `1,546,176`.
pub fn thousands(n: u64) -> String {
    zant_common::numfmt::thousands(n)
}

/// `1.55 M`, `58.1 K`, `812`: an axis label.
fn short(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.2} M", v / 1e6)
    } else if a >= 1e3 {
        format!("{:.1} K", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// At most `n` characters, with `…` when cut.
fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// A legend entry's key.
enum Key {
    /// A filled box.
    Fill(RGBColor),
    /// A line.
    Line(RGBColor),
    /// A box outlined in black.
    Outline,
}

/// Width of the legend column at the right of every figure.
const LEGEND_W: u32 = 250;

/// Draws a legend in the column at the right of `area` (pixels), from `y`.
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    y: i32,
    items: &[(String, Key)],
) -> Result<(), FigureError> {
    let (w, _) = area.dim_in_pixel();
    let x = w as i32 - LEGEND_W as i32 + 8;
    let style = TextStyle::from((FONT, 11).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, (label, key)) in items.iter().enumerate() {
        let cy = y + 18 * i as i32;
        match key {
            Key::Fill(c) => area
                .draw(&Rectangle::new([(x, cy - 5), (x + 12, cy + 5)], c.filled()))
                .map_err(err)?,
            Key::Line(c) => area
                .draw(&PathElement::new(
                    vec![(x, cy), (x + 12, cy)],
                    c.stroke_width(2),
                ))
                .map_err(err)?,
            Key::Outline => area
                .draw(&Rectangle::new(
                    [(x, cy - 5), (x + 12, cy + 5)],
                    BLACK.stroke_width(2),
                ))
                .map_err(err)?,
        }
        area.draw(&Text::new(cut(label, 32), (x + 18, cy), style.clone()))
            .map_err(err)?;
    }
    Ok(())
}

fn err(e: impl std::fmt::Display) -> FigureError {
    FigureError::Draw(e.to_string())
}

/// Per-layer bars: one horizontal bar per node (execution order, top down),
/// coloured by op, labelled with its share and its count per MAC.
pub fn layers_svg(d: &LayerBars) -> Result<String, FigureError> {
    let n = d.bars.len().max(1);
    let name_w = d
        .bars
        .iter()
        .map(|b| b.name.chars().count().min(28))
        .max()
        .unwrap_or(4);
    let (w, h) = (1000u32, 110 + 26 * n as u32);
    let max = d.bars.iter().map(|b| b.count).max().unwrap_or(1).max(1) as f64;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let title = format!(
            "{} on {}: {} {} per inference (profiling build; {} outside nodes)",
            d.model,
            d.board,
            thousands(d.total),
            d.unit,
            thousands(d.outside_nodes)
        );
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 15))
            .margin(12)
            .margin_right(LEGEND_W)
            .x_label_area_size(40)
            .y_label_area_size(20 + 8 * name_w as u32)
            .build_cartesian_2d(0f64..max * 1.3, (0..n - 1).into_segmented())
            .map_err(err)?;
        let names: Vec<String> = d.bars.iter().map(|b| cut(&b.name, 28)).collect();
        let y_of = |i: usize| n - 1 - i;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(y) if *y < n => {
                    names.get(n - 1 - y).cloned().unwrap_or_default()
                }
                _ => String::new(),
            })
            .x_label_formatter(&|v| short(*v))
            .x_desc(match d.unit.as_str() {
                "instructions" => "instructions (exact, counted under QEMU)".to_string(),
                u => format!("{u} (the core's cycle counter)"),
            })
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 13))
            .draw()
            .map_err(err)?;
        let mut ops: Vec<&str> = Vec::new();
        for b in &d.bars {
            if !ops.contains(&b.op.as_str()) {
                ops.push(&b.op);
            }
        }
        let mut keys = Vec::new();
        for op in ops {
            let c = op_color(op);
            keys.push((op.to_string(), Key::Fill(c)));
            chart
                .draw_series(
                    d.bars
                        .iter()
                        .enumerate()
                        .filter(|(_, b)| b.op == op)
                        .map(|(i, b)| {
                            let y = y_of(i);
                            let mut r = Rectangle::new(
                                [
                                    (0.0, SegmentValue::Exact(y)),
                                    (b.count as f64, SegmentValue::Exact(y + 1)),
                                ],
                                c.filled(),
                            );
                            r.set_margin(3, 3, 0, 0);
                            r
                        }),
                )
                .map_err(err)?;
        }
        let style = TextStyle::from((FONT, 12).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
        chart
            .draw_series(d.bars.iter().enumerate().map(|(i, b)| {
                let per_mac = b
                    .per_mac
                    .map(|p| format!(", {p:.2}/MAC"))
                    .unwrap_or_default();
                Text::new(
                    format!(
                        " {} ({:.1}%{per_mac})",
                        short(b.count as f64),
                        b.share * 100.0
                    ),
                    (b.count as f64, SegmentValue::CenterOf(y_of(i))),
                    style.clone(),
                )
            }))
            .map_err(err)?;
        legend(&root, 50, &keys)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// The arena over time, one panel per memory region: each tensor a
/// rectangle from the step that writes it to the last that reads it, at its
/// offset; tensors written in place over their input outlined in black (they
/// take over the input's bytes at the node that writes them, so the two
/// rectangles meet in that column); the planned arena and the liveness
/// lower bound as lines.
pub fn arena_svg(d: &ArenaTimeline) -> Result<String, FigureError> {
    let lanes = d.lanes.len().max(1);
    let steps = d.steps.len().max(1);
    let (w, h) = (1000u32, 60 + 380 * lanes as u32);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let root = root
            .titled(
                &format!(
                    "{} on {}: the arena over time ({}; lower bound {} B over all regions)",
                    d.model,
                    d.board,
                    d.planner,
                    thousands(d.lower_bound)
                ),
                (FONT, 15),
            )
            .map_err(err)?;
        let areas = root.split_evenly((lanes, 1));
        let names: Vec<String> = d
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                if steps <= 14 {
                    cut(s, (700 / steps / 7).max(6))
                } else {
                    i.to_string()
                }
            })
            .collect();
        for (lane, area) in d.lanes.iter().zip(areas.iter()) {
            let top = lane
                .spans
                .iter()
                .map(|s| s.offset + s.bytes)
                .max()
                .unwrap_or(0)
                .max(lane.arena_bytes)
                .max(if lanes == 1 { d.lower_bound } else { 0 })
                .max(1) as f64;
            let mut chart = ChartBuilder::on(area)
                .caption(
                    format!(
                        "region {}: arena {} B, {} tensors",
                        lane.region,
                        thousands(lane.arena_bytes),
                        lane.spans.len()
                    ),
                    (FONT, 13),
                )
                .margin(10)
                .margin_right(LEGEND_W)
                .x_label_area_size(if steps <= 14 { 50 } else { 36 })
                .y_label_area_size(80)
                .build_cartesian_2d((0..steps - 1).into_segmented(), 0f64..top * 1.12)
                .map_err(err)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(steps.min(40))
                .x_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(x) => names.get(*x).cloned().unwrap_or_default(),
                    _ => String::new(),
                })
                .y_label_formatter(&|v| short(*v))
                .x_desc("node (execution order): written → last read")
                .y_desc("arena offset (bytes)")
                .label_style((FONT, 11))
                .axis_desc_style((FONT, 12))
                .draw()
                .map_err(err)?;
            let rect = |s: &crate::data::ArenaSpan| {
                [
                    (SegmentValue::Exact(s.first), s.offset as f64),
                    (SegmentValue::Exact(s.last + 1), (s.offset + s.bytes) as f64),
                ]
            };
            chart
                .draw_series(lane.spans.iter().map(|s| {
                    let c = match s.kind {
                        SpanKind::Scratch => RGBColor(160, 160, 160),
                        _ => op_color(&s.op),
                    };
                    Rectangle::new(rect(s), pale(c).filled())
                }))
                .map_err(err)?;
            chart
                .draw_series(lane.spans.iter().map(|s| {
                    let stroke = match s.kind {
                        SpanKind::InPlace { .. } => BLACK.stroke_width(2),
                        _ => RGBColor(90, 90, 90).stroke_width(1),
                    };
                    Rectangle::new(rect(s), stroke)
                }))
                .map_err(err)?;
            // Names inside the rectangles that have room for them.
            let style =
                TextStyle::from((FONT, 10).into_font()).pos(Pos::new(HPos::Left, VPos::Top));
            let mut labels = Vec::new();
            for s in &lane.spans {
                let [a, b] = rect(s);
                let (x0, y1) = chart.backend_coord(&a);
                let (x1, y0) = chart.backend_coord(&b);
                let (wpx, hpx) = (x1 - x0, y1 - y0);
                if hpx >= 14 && wpx >= 30 {
                    let chars = ((wpx - 6) / 6).max(1) as usize;
                    let mut text = s.tensor.clone();
                    if let SpanKind::InPlace { .. } = s.kind {
                        text = format!("{text} (in place)");
                    }
                    labels.push(Text::new(
                        cut(&text, chars),
                        (SegmentValue::Exact(s.first), (s.offset + s.bytes) as f64),
                        style.clone(),
                    ));
                }
            }
            chart.draw_series(labels).map_err(err)?;
            let end = SegmentValue::Exact(steps);
            let arena = lane.arena_bytes as f64;
            let mut keys = vec![(
                format!("planned arena: {} B", thousands(lane.arena_bytes)),
                Key::Line(RED),
            )];
            // The bound first and wider, so a plan that meets it shows both.
            if lanes == 1 {
                let lb = d.lower_bound as f64;
                let green = RGBColor(30, 140, 60);
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(SegmentValue::Exact(0), lb), (end.clone(), lb)],
                        green.stroke_width(5),
                    )))
                    .map_err(err)?;
                keys.push((
                    format!("lower bound: {} B", thousands(d.lower_bound)),
                    Key::Line(green),
                ));
            }
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(SegmentValue::Exact(0), arena), (end, arena)],
                    RED.stroke_width(2),
                )))
                .map_err(err)?;
            let has = |k: fn(&SpanKind) -> bool| lane.spans.iter().any(|s| k(&s.kind));
            if has(|k| matches!(k, SpanKind::InPlace { .. })) {
                keys.push(("written in place over input".into(), Key::Outline));
            }
            if has(|k| *k == SpanKind::Scratch) {
                keys.push((
                    "in-place scratch".into(),
                    Key::Fill(RGBColor(160, 160, 160)),
                ));
            }
            let mut ops: Vec<&str> = Vec::new();
            for sp in &lane.spans {
                if sp.kind != SpanKind::Scratch && !ops.contains(&sp.op.as_str()) {
                    ops.push(&sp.op);
                }
            }
            for op in ops {
                keys.push((format!("written by {op}"), Key::Fill(pale(op_color(op)))));
            }
            legend(area, 40, &keys)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Colours of the footprint's kinds.
fn kind_color(kind: &str, flash: bool) -> RGBColor {
    match (kind, flash) {
        ("model code", _) => TABLEAU[0],
        ("runtime code", _) => TABLEAU[7],
        ("weights", _) => TABLEAU[1],
        ("arena", _) => TABLEAU[2],
        ("stack", _) => TABLEAU[4],
        (_, true) => TABLEAU[9],
        (_, false) => TABLEAU[5],
    }
}

/// Flash and RAM: on the left by kind (code of the model, of the runtime,
/// weights, arena, stack, other), on the right by region (used of size).
pub fn memory_svg(d: &MemoryBreakdown) -> Result<String, FigureError> {
    let nreg = d.regions.len().max(1);
    let (w, h) = (1000u32, 120 + 40 * nreg.max(4) as u32);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let root = root
            .titled(
                &format!(
                    "{} on {}: flash {} B, RAM {} B (with the stack)",
                    d.model,
                    d.board,
                    thousands(d.flash_bytes),
                    thousands(d.ram_bytes)
                ),
                (FONT, 15),
            )
            .map_err(err)?;
        let (left, right) = root.split_horizontally(620);
        // By kind: two stacked bars.
        let max = d.flash_bytes.max(d.ram_bytes).max(1) as f64;
        let mut chart = ChartBuilder::on(&left)
            .caption("by kind", (FONT, 13))
            .margin(10)
            .margin_right(LEGEND_W)
            .x_label_area_size(36)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..max * 1.05, (0..1usize).into_segmented())
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(2)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(1) => "flash".into(),
                SegmentValue::CenterOf(0) => "RAM".into(),
                _ => String::new(),
            })
            .x_label_formatter(&|v| short(*v))
            .x_desc("bytes")
            .label_style((FONT, 11))
            .axis_desc_style((FONT, 12))
            .draw()
            .map_err(err)?;
        let mut keys = Vec::new();
        for (y, parts, flash) in [(1usize, &d.flash, true), (0, &d.ram, false)] {
            let mut at = 0u64;
            for p in parts.iter() {
                let c = kind_color(&p.kind, flash);
                let (x0, x1) = (at as f64, (at + p.bytes) as f64);
                at += p.bytes;
                let mut r = Rectangle::new(
                    [
                        (x0, SegmentValue::Exact(y)),
                        (x1, SegmentValue::Exact(y + 1)),
                    ],
                    c.filled(),
                );
                r.set_margin(12, 12, 0, 0);
                let label = match (p.kind.as_str(), flash) {
                    ("other", true) => "other flash".to_string(),
                    ("other", false) => "other RAM".to_string(),
                    (k, _) => k.to_string(),
                };
                chart.draw_series(std::iter::once(r)).map_err(err)?;
                keys.push((format!("{label}: {} B", thousands(p.bytes)), Key::Fill(c)));
            }
        }
        legend(&left, 50, &keys)?;
        // By region: percentage of each region used.
        let mut chart = ChartBuilder::on(&right)
            .caption("by region (used of size)", (FONT, 13))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(80)
            .build_cartesian_2d(0f64..100.0, (0..nreg - 1).into_segmented())
            .map_err(err)?;
        let names: Vec<String> = d.regions.iter().map(|r| cut(&r.name, 10)).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(nreg)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(y) if *y < nreg => {
                    names.get(nreg - 1 - y).cloned().unwrap_or_default()
                }
                _ => String::new(),
            })
            .x_label_formatter(&|v| format!("{v:.0}%"))
            .x_desc("% of the region")
            .label_style((FONT, 11))
            .axis_desc_style((FONT, 12))
            .draw()
            .map_err(err)?;
        let style = TextStyle::from((FONT, 11).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
        for (i, r) in d.regions.iter().enumerate() {
            let y = nreg - 1 - i;
            let pct = if r.size > 0 {
                (r.used as f64 / r.size as f64 * 100.0).min(100.0)
            } else {
                0.0
            };
            let c = if r.kind == "flash" {
                TABLEAU[1]
            } else {
                TABLEAU[2]
            };
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(y)),
                    (pct, SegmentValue::Exact(y + 1)),
                ],
                c.filled(),
            );
            bar.set_margin(6, 6, 0, 0);
            chart.draw_series(std::iter::once(bar)).map_err(err)?;
            let text = format!(
                " {} / {} B ({pct:.1}%)",
                thousands(r.used),
                thousands(r.size)
            );
            let x = if pct > 55.0 { 1.0 } else { pct };
            chart
                .draw_series(std::iter::once(Text::new(
                    text,
                    (x, SegmentValue::CenterOf(y)),
                    style.clone(),
                )))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Renders an SVG to PNG with resvg, laying text out with the bundled font.
pub fn png(svg: &str) -> Result<Vec<u8>, FigureError> {
    let pixmap = raster(svg)?;
    pixmap
        .encode_png()
        .map_err(|e| FigureError::Png(e.to_string()))
}

/// Renders an SVG to pixels with resvg.
pub fn raster(svg: &str) -> Result<resvg::tiny_skia::Pixmap, FigureError> {
    let mut opt = resvg::usvg::Options {
        font_family: FONT.to_string(),
        ..Default::default()
    };
    opt.fontdb_mut().load_font_data(FONT_DATA.to_vec());
    let tree =
        resvg::usvg::Tree::from_str(svg, &opt).map_err(|e| FigureError::Svg(e.to_string()))?;
    let size = tree.size().to_int_size();
    let mut pixmap =
        resvg::tiny_skia::Pixmap::new(size.width(), size.height()).ok_or_else(|| {
            FigureError::Png(format!(
                "cannot make a {}×{} image",
                size.width(),
                size.height()
            ))
        })?;
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    Ok(pixmap)
}
