//! zant-figures: pictures of where time and memory go, for
//! `zant bench --report DIR`.
//!
//! Three figures, each an SVG drawn with plotters and a PNG rendered from it
//! with resvg (text laid out with a bundled DejaVu Sans Mono):
//!
//! - `layers`: per-layer instructions (QEMU) or cycles (hardware) of the
//!   profiling build, one bar per node, coloured by op, labelled with its
//!   share and its count per MAC ([`LayerBars`]);
//! - `arena`: the arena over time, each tensor a rectangle from the node that
//!   writes it to the last that reads it, at its offset, one panel per memory
//!   region, with the planned arena and the liveness lower bound as lines
//!   ([`ArenaTimeline`]);
//! - `memory`: flash and RAM by kind and by region, as `zant size` measures
//!   them ([`MemoryBreakdown`]).
//!
//! The data behind each figure is a plain serializable struct, written as
//! `figures.json` beside them; `summary.md` links everything.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod data;
pub mod draw;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use data::{
    ArenaLane, ArenaSpan, ArenaTimeline, LayerBar, LayerBars, MemoryBreakdown, SpanKind,
};

/// Errors of drawing or writing figures.
#[derive(Debug, thiserror::Error)]
pub enum FigureError {
    /// plotters could not draw.
    #[error("cannot draw the figure: {0}")]
    Draw(String),
    /// resvg could not read the SVG.
    #[error("cannot read the figure's SVG: {0}")]
    Svg(String),
    /// The PNG could not be made.
    #[error("cannot make the PNG: {0}")]
    Png(String),
    /// A file could not be written.
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

impl FigureError {
    /// Exit status: 1, the job failed (the figures could not be made or
    /// written; the model and the run were fine).
    pub fn exit_code(&self) -> u8 {
        1
    }

    /// What to do about the error, kept apart from its message.
    pub fn help(&self) -> Option<String> {
        match self {
            FigureError::Write { path, .. } => Some(format!(
                "give --report a directory zant can create and write ({} could not be written)",
                path.display()
            )),
            _ => None,
        }
    }
}

/// The data of every figure of a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    /// Model.
    pub model: String,
    /// Board.
    pub board: String,
    /// The command that made the report (for `summary.md`).
    pub command: String,
    /// Per-layer bars (the profiling build).
    pub layers: LayerBars,
    /// The arena over time.
    pub arena: ArenaTimeline,
    /// The normal (marker-free) build's flash and RAM.
    pub memory: MemoryBreakdown,
}

/// What [`write`] wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Written {
    /// `summary.md`.
    pub summary: PathBuf,
    /// Every file, the summary included.
    pub files: Vec<PathBuf>,
}

/// The SVG of each figure, by file stem (`layers`, `arena`, `memory`).
pub fn svgs(f: &Figures) -> Result<Vec<(&'static str, String)>, FigureError> {
    Ok(vec![
        ("layers", draw::layers_svg(&f.layers)?),
        ("arena", draw::arena_svg(&f.arena)?),
        ("memory", draw::memory_svg(&f.memory)?),
    ])
}

fn put(path: &Path, bytes: &[u8], files: &mut Vec<PathBuf>) -> Result<(), FigureError> {
    std::fs::write(path, bytes).map_err(|source| FigureError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    files.push(path.to_path_buf());
    Ok(())
}

/// Writes the figures (SVG and PNG), `figures.json` and `summary.md` into
/// `dir`, creating it.
pub fn write(dir: &Path, f: &Figures) -> Result<Written, FigureError> {
    std::fs::create_dir_all(dir).map_err(|source| FigureError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files = Vec::new();
    for (stem, svg) in svgs(f)? {
        put(&dir.join(format!("{stem}.svg")), svg.as_bytes(), &mut files)?;
        put(
            &dir.join(format!("{stem}.png")),
            &draw::png(&svg)?,
            &mut files,
        )?;
    }
    let json = serde_json::to_string_pretty(f).map_err(|e| FigureError::Draw(e.to_string()))?;
    put(&dir.join("figures.json"), json.as_bytes(), &mut files)?;
    let summary = dir.join("summary.md");
    put(&summary, summary_md(f).as_bytes(), &mut files)?;
    Ok(Written { summary, files })
}

/// The text of `summary.md`: what each figure shows, its main figures, and
/// links to the SVG and PNG files.
pub fn summary_md(f: &Figures) -> String {
    use draw::thousands as th;
    let mut s = String::new();
    let l = &f.layers;
    let _ = writeln!(s, "# {} on {}\n", f.model, f.board);
    let _ = writeln!(
        s,
        "Made by `{}`. The data behind every figure is in [figures.json](figures.json).\n",
        f.command
    );
    let _ = writeln!(s, "## Where the {} go\n", l.unit);
    let _ = writeln!(s, "![per-layer {}](layers.svg)\n", l.unit);
    let _ = writeln!(
        s,
        "[layers.svg](layers.svg) · [layers.png](layers.png). The profiling build (a marker between nodes): {} {} per inference, of which {} outside every node. Bars are coloured by op and labelled with the node's share and {} per MAC.\n",
        th(l.total),
        l.unit,
        th(l.outside_nodes),
        l.unit
    );
    let mut by: Vec<&LayerBar> = l.bars.iter().collect();
    by.sort_by_key(|b| std::cmp::Reverse(b.count));
    let _ = writeln!(
        s,
        "| node | op | {} | per MAC | share |\n|---|---|---:|---:|---:|",
        l.unit
    );
    for b in by.iter().take(10) {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.1}% |",
            b.name,
            b.op,
            th(b.count),
            b.per_mac
                .map(|p| format!("{p:.2}"))
                .unwrap_or_else(|| "–".into()),
            b.share * 100.0
        );
    }
    if by.len() > 10 {
        let _ = writeln!(s, "\n({} more nodes in figures.json)", by.len() - 10);
    }
    let a = &f.arena;
    let _ = writeln!(
        s,
        "\n## The arena over time\n\n![arena over time](arena.svg)\n"
    );
    let regions: Vec<String> = a
        .lanes
        .iter()
        .map(|r| format!("{} B in {}", th(r.arena_bytes), r.region))
        .collect();
    let _ = writeln!(
        s,
        "[arena.svg](arena.svg) · [arena.png](arena.png). Planner {}: {}; liveness lower bound {} B. Each tensor is a rectangle from the node that writes it to the last node that reads it (its views included), at its offset. A tensor written in place over its input (black outline) takes over the input's bytes at the node that writes it, so the two rectangles share that node's column; grey rectangles are in-place scratches.\n",
        a.planner,
        regions.join(", "),
        th(a.lower_bound)
    );
    let _ = writeln!(s, "| step | node |\n|---:|---|");
    for (i, n) in a.steps.iter().enumerate() {
        let _ = writeln!(s, "| {i} | {n} |");
    }
    let m = &f.memory;
    let _ = writeln!(s, "\n## Flash and RAM\n\n![flash and RAM](memory.svg)\n");
    let _ = writeln!(
        s,
        "[memory.svg](memory.svg) · [memory.png](memory.png). The normal (marker-free) build, as `zant size` measures its ELF: flash {} B, RAM {} B with the reserved stack.\n",
        th(m.flash_bytes),
        th(m.ram_bytes)
    );
    let _ = writeln!(s, "| memory | kind | bytes |\n|---|---|---:|");
    for p in &m.flash {
        let _ = writeln!(s, "| flash | {} | {} |", p.kind, th(p.bytes));
    }
    for p in &m.ram {
        let _ = writeln!(s, "| RAM | {} | {} |", p.kind, th(p.bytes));
    }
    let _ = writeln!(s, "\n| region | kind | used | size |\n|---|---|---:|---:|");
    for r in &m.regions {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            r.name,
            r.kind,
            th(r.used),
            th(r.size)
        );
    }
    s
}
