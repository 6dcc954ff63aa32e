//! `zant`: ONNX models to `no_std` Rust firmware for microcontrollers.
//!
//! The binary is thin: argument parsing, progress and rendering. The work is
//! done by the library crates (`zant-codegen`, `zant-boards`, …).

#![forbid(unsafe_code)]

mod args;
mod cmd;
mod error;
mod out;
mod progress;
mod render;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// zant compiles ONNX models to dependency-free `no_std` Rust and runs them on
/// microcontrollers.
#[derive(Debug, Parser)]
#[command(name = "zant", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// When to colour output: auto (a terminal, honouring NO_COLOR, CLICOLOR,
    /// CLICOLOR_FORCE and TERM=dumb), always or never.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    color: out::ColorWhen,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Per-node table and totals of a model; unsupported ops listed all at once.
    Inspect(cmd::inspect::Args),
    /// Write the model as a `no_std` Rust library crate.
    Compile(cmd::compile::Args),
    /// Built-in boards; `boards show B`; `boards check FILE.toml`.
    Boards(cmd::boards::Args),
    /// Render and cross-compile the firmware project for a board; size table.
    Build(cmd::build::Args),
    /// Flash/RAM footprint of any ELF, broken down.
    Size(cmd::size::Args),
    /// One checked inference on the target (QEMU or hardware).
    Run(cmd::run::Args),
    /// Build + run + check + figures (instructions per inference, sizes, stack).
    Bench(cmd::run::BenchArgs),
    /// The whole path: compile, build, size-check, flash or emulate, run, report.
    Deploy(cmd::deploy::Args),
    /// CI size/speed gate (`budget check`) and its baselines (`budget update`).
    Budget(cmd::budget::Args),
    /// Check toolchains, targets, QEMU and probes; say how to fix what is missing.
    Doctor(cmd::doctor::Args),
}

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let json = out::json_requested(&argv[1.min(argv.len())..]);
    let cli = match Cli::try_parse_from(&argv) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            if json && code == 2 {
                let text = e.render().to_string();
                let text = text.strip_prefix("error: ").unwrap_or(&text);
                let _ = out::json(&out::error_json("usage", text, None, 2));
            }
            return ExitCode::from(code);
        }
    };
    out::set_color(cli.color);
    let result = match cli.command {
        Command::Inspect(a) => cmd::inspect::run(a),
        Command::Compile(a) => cmd::compile::run(a),
        Command::Boards(a) => cmd::boards::run(a),
        Command::Build(a) => cmd::build::run(a),
        Command::Size(a) => cmd::size::run(a),
        Command::Run(a) => cmd::run::run(a),
        Command::Bench(a) => cmd::run::bench(a),
        Command::Deploy(a) => cmd::deploy::run(a),
        Command::Budget(a) => cmd::budget::run(a),
        Command::Doctor(a) => cmd::doctor::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            out::error(&e);
            if json && !out::json_printed() {
                let kind = if e.code == 2 { "input" } else { "failed" };
                let help = e.help();
                let _ = out::json(&out::error_json(
                    kind,
                    &out::error_text(&e),
                    help.as_deref(),
                    e.code,
                ));
            }
            ExitCode::from(e.code)
        }
    }
}
