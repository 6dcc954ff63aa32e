//! Rendering helpers: errors, tables, colours (only on a terminal), JSON.

use std::fmt;
use std::io::IsTerminal;

use comfy_table::{presets, Cell, CellAlignment, ContentArrangement, Table};
use owo_colors::OwoColorize;

/// An error with the exit code it maps to (1 = the job failed, 2 = usage or input error).
#[derive(Debug)]
pub struct CliError {
    /// Exit code.
    pub code: u8,
    /// The error and its context.
    pub error: anyhow::Error,
}

impl CliError {
    /// Usage or input error (exit code 2).
    pub fn input(e: impl Into<anyhow::Error>) -> Self {
        CliError {
            code: 2,
            error: e.into(),
        }
    }
    /// The job failed (exit code 1).
    pub fn failed(e: impl Into<anyhow::Error>) -> Self {
        CliError {
            code: 1,
            error: e.into(),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

/// Result of a subcommand.
pub type CliResult = Result<(), CliError>;

/// `--color`: when to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    /// On a terminal, unless `NO_COLOR`, `CLICOLOR=0` or `TERM=dumb` says
    /// otherwise (`CLICOLOR_FORCE` colours anywhere).
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Applies `--color` for the whole process (anstream's global choice).
pub fn set_color(when: ColorWhen) {
    let choice = match when {
        ColorWhen::Auto => anstream::ColorChoice::Auto,
        ColorWhen::Always => anstream::ColorChoice::Always,
        ColorWhen::Never => anstream::ColorChoice::Never,
    };
    choice.write_global();
}

/// Whether output to `stream` is coloured: `--color`, then the conventions
/// `NO_COLOR`, `CLICOLOR_FORCE`, `CLICOLOR`, `TERM=dumb`, then whether it is
/// a terminal (anstream decides, as cargo and clap do).
///
/// anstream colours a terminal whenever `CI` is set, even with `TERM=dumb`;
/// a dumb terminal cannot show escapes, so on auto it is left plain unless
/// `CLICOLOR_FORCE` asks for colour.
fn colors(stream: &impl anstream::stream::RawStream) -> bool {
    if anstream::ColorChoice::global() == anstream::ColorChoice::Auto
        && !can_draw()
        && std::env::var_os("CLICOLOR_FORCE").is_none_or(|v| v.is_empty() || v == "0")
    {
        return false;
    }
    anstream::AutoStream::choice(stream) != anstream::ColorChoice::Never
}

/// True when the terminal can redraw a line (`TERM` is not `dumb`).
pub fn can_draw() -> bool {
    std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// True when stderr is a terminal that can draw (progress bars); elsewhere
/// progress is plain timestamped lines.
pub fn stderr_is_tty() -> bool {
    std::io::stderr().is_terminal() && can_draw()
}

/// True when stdout output is coloured.
pub fn stdout_colors() -> bool {
    colors(&std::io::stdout())
}

/// True when stderr output is coloured.
pub fn stderr_colors() -> bool {
    colors(&std::io::stderr())
}

/// Prints an error to stderr: `error: …`, its causes, then `help: …` when
/// the error says what to do.
pub fn error(e: &CliError) {
    let colors = stderr_colors();
    let head = if colors {
        format!("{}", "error".red().bold())
    } else {
        "error".to_string()
    };
    let top = e.error.to_string();
    eprintln!("{head}: {top}");
    let mut shown = top;
    for cause in e.error.chain().skip(1) {
        let text = cause.to_string();
        // Errors that already quote their cause in their message say it once.
        if shown.contains(&text) {
            continue;
        }
        eprintln!("  caused by: {text}");
        shown.push_str(&text);
    }
    if let Some(help) = e.help() {
        let head = if colors {
            format!("{}", "help".cyan().bold())
        } else {
            "help".to_string()
        };
        eprintln!("  {head}: {help}");
    }
}

/// True when the command line asks for JSON output (`--json`, `--format
/// json`): errors are then also printed as one JSON object on stdout.
pub fn json_requested(args: &[std::ffi::OsString]) -> bool {
    let args: Vec<&str> = args.iter().filter_map(|a| a.to_str()).collect();
    args.iter().enumerate().any(|(i, a)| {
        *a == "--json"
            || *a == "--format=json"
            || (*a == "--format" && args.get(i + 1) == Some(&"json"))
    })
}

/// An error as the JSON object `--json` commands print on stdout when they
/// fail: `{"error": {"kind", "message", "help", "exit_code"}}`. `kind` is
/// `usage` (the command line), `input` (exit 2: a file, model or board is
/// invalid) or `failed` (exit 1: the job failed); `message` is the error and
/// its causes (blank lines dropped); `help` is what to do, or null.
pub fn error_json(kind: &str, text: &str, help: Option<&str>, code: u8) -> serde_json::Value {
    let message: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::trim_end)
        .collect();
    serde_json::json!({
        "error": {
            "kind": kind,
            "message": message.join("\n"),
            "help": help,
            "exit_code": code,
        }
    })
}

/// The text of an error and its causes, each cause once.
pub fn error_text(e: &CliError) -> String {
    let mut shown = e.error.to_string();
    for cause in e.error.chain().skip(1) {
        let text = cause.to_string();
        if shown.contains(&text) {
            continue;
        }
        shown.push_str(&format!("\ncaused by: {text}"));
    }
    shown
}

/// Prints a warning to stderr: `warning: …`.
pub fn warning(msg: &str) {
    let head = if stderr_colors() {
        format!("{}", "warning".yellow().bold())
    } else {
        "warning".to_string()
    };
    eprintln!("{head}: {msg}");
}

/// Prints a note to stderr: `note: …`.
pub fn note(msg: &str) {
    let head = if stderr_colors() {
        format!("{}", "note".cyan().bold())
    } else {
        "note".to_string()
    };
    eprintln!("{head}: {msg}");
}

/// Bold on a terminal.
pub fn bold(s: &str) -> String {
    if stdout_colors() {
        s.bold().to_string()
    } else {
        s.to_string()
    }
}

/// Red on a terminal.
pub fn red(s: &str) -> String {
    if stdout_colors() {
        s.red().to_string()
    } else {
        s.to_string()
    }
}

/// Green on a terminal.
pub fn green(s: &str) -> String {
    if stdout_colors() {
        s.green().to_string()
    } else {
        s.to_string()
    }
}

/// A coloured table cell: comfy-table pads it first and colours it after, so
/// escape codes never count as width and columns stay aligned.
pub fn cell(s: &str, color: Option<comfy_table::Color>) -> Cell {
    let c = Cell::new(s);
    match color {
        Some(col) => c.fg(col),
        None => c,
    }
}

/// A borderless table; the columns in `right` are right-aligned. The header
/// is bold where stdout is coloured (styled after padding).
pub fn table(header: &[&str], right: &[usize]) -> Table {
    let mut t = Table::new();
    if stdout_colors() {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t.load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(
            header
                .iter()
                .map(|h| Cell::new(h).add_attribute(comfy_table::Attribute::Bold)),
        );
    for &c in right {
        if let Some(col) = t.column_mut(c) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    t
}

/// `12,345`.
pub fn thousands(n: u64) -> String {
    zant_common::numfmt::thousands(n)
}

/// `[1, 8, 28, 28]` without spaces: `1×8×28×28` (the pipeline's wording).
pub fn shape(s: &[usize]) -> String {
    zant_pipeline::shape_text(s)
}

static JSON_PRINTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Prints one JSON object on stdout.
pub fn json<T: serde::Serialize>(v: &T) -> CliResult {
    let s = serde_json::to_string_pretty(v).map_err(CliError::failed)?;
    print(&s);
    JSON_PRINTED.store(true, std::sync::atomic::Ordering::Relaxed);
    Ok(())
}

/// True once a JSON object was printed: a command that reports its result
/// and then fails (outputs differ, over budget) prints no second object.
pub fn json_printed() -> bool {
    JSON_PRINTED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Prints a line on stdout. A closed pipe (`zant … | head`) ends the program
/// quietly instead of panicking.
pub fn print(s: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{s}") {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
    }
}
