//! `zant doctor`: checks toolchains, Rust targets, QEMU and its plugin
//! support, debug probes, ESP32 serial ports; says how to fix what is missing.

use std::process::Command;

use serde::Serialize;

use crate::out::{self, CliResult};

/// Arguments of `zant doctor`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    verbosity: crate::args::Verbosity,
}

#[derive(Debug, Serialize)]
struct Check {
    name: String,
    ok: bool,
    detail: String,
    fix: Option<String>,
}

fn version(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .map(|l| l.trim().to_string())
}

/// Runs `zant doctor`.
pub fn run(args: Args) -> CliResult {
    let mut checks = Vec::new();
    let mut add = |name: &str, ok: bool, detail: String, fix: Option<String>| {
        checks.push(Check {
            name: name.to_string(),
            ok,
            detail,
            fix: if ok { None } else { fix },
        });
    };
    let cargo = version("cargo", &["--version"]);
    add(
        "cargo",
        cargo.is_some(),
        cargo.unwrap_or_else(|| "not found".into()),
        Some("install Rust with rustup: https://rustup.rs".into()),
    );
    let rustc = version("rustc", &["--version"]);
    add(
        "rustc",
        rustc.is_some(),
        rustc.unwrap_or_else(|| "not found".into()),
        Some("install Rust with rustup: https://rustup.rs".into()),
    );
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(|l| l.trim().to_string())
                .collect::<Vec<_>>()
        });
    let mut triples: Vec<String> = zant_boards::builtin_boards()
        .iter()
        .map(|b| b.target.triple.clone())
        .collect();
    triples.sort();
    triples.dedup();
    match &installed {
        None => add(
            "rustup",
            false,
            "not found".into(),
            Some(
                "zant installs missing targets with rustup; without it, install targets yourself"
                    .into(),
            ),
        ),
        Some(list) => {
            for t in &triples {
                let ok = list.contains(t);
                add(
                    &format!("target {t}"),
                    ok,
                    if ok {
                        "installed".into()
                    } else {
                        "missing".into()
                    },
                    Some(format!(
                        "rustup target add {t} (zant build also does this when needed)"
                    )),
                );
            }
        }
    }
    for (bin, pkg) in [
        ("qemu-system-arm", "qemu-system-arm"),
        ("qemu-system-riscv32", "qemu-system-misc"),
    ] {
        let v = version(bin, &["--version"]);
        add(
            bin,
            v.is_some(),
            v.unwrap_or_else(|| "not found".into()),
            Some(format!("sudo apt-get install {pkg}")),
        );
    }
    if version("qemu-system-arm", &["--version"]).is_some() {
        match zant_runner::plugin::plugin_path() {
            Ok(p) => add(
                "qemu instruction-count plugin",
                true,
                format!("{}", p.display()),
                None,
            ),
            Err(e) => add(
                "qemu instruction-count plugin",
                false,
                e.to_string(),
                Some(
                    "zant builds it with cargo on first use; check that cargo works offline".into(),
                ),
            ),
        }
    }
    let probes = zant_runner::probe::list();
    add(
        "debug probes",
        true,
        if probes.is_empty() {
            "none attached (needed only to flash hardware boards)".into()
        } else {
            probes
                .iter()
                .map(|p| format!("{} [{}]", p.name, p.selector()))
                .collect::<Vec<_>>()
                .join(", ")
        },
        None,
    );
    let ports = zant_runner::esp::list();
    add(
        "serial ports (ESP32)",
        true,
        if ports.is_empty() {
            "none attached (needed only to flash ESP32 boards)".into()
        } else {
            ports
                .iter()
                .map(|p| {
                    format!(
                        "{} [{:04x}:{:04x}{}]",
                        p.name,
                        p.vid,
                        p.pid,
                        p.product
                            .as_deref()
                            .map(|n| format!(" {n}"))
                            .unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        },
        None,
    );
    let py = version("python3", &["--version"]);
    add("python3 (tests only)", py.is_some(), py.unwrap_or_else(|| "not found".into()), Some("sudo apt-get install python3 python3-pip (the ONNX node tests need `pip install onnx`)".into()));
    let bad = checks.iter().filter(|c| !c.ok).count();
    if args.json {
        out::json(&serde_json::json!({ "ok": bad == 0, "checks": checks }))?;
    } else {
        let mut t = out::table(&["check", "", "detail"], &[]);
        for c in &checks {
            let mark = if c.ok {
                out::cell("ok", Some(comfy_table::Color::Green))
            } else {
                out::cell("MISSING", Some(comfy_table::Color::Red))
            };
            let detail = match &c.fix {
                Some(f) => format!("{}\n→ {f}", c.detail),
                None => c.detail.clone(),
            };
            t.add_row(vec![
                out::cell(&c.name, None),
                mark,
                out::cell(&detail, None),
            ]);
        }
        out::print(&t.to_string());
    }
    if bad > 0 {
        return Err(crate::out::CliError::failed(anyhow::anyhow!(
            "{bad} check(s) failed; see the fixes above"
        )));
    }
    Ok(())
}
