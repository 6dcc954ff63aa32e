//! zant's QEMU TCG plugin: its source is embedded here and built with cargo
//! the first time it is needed, into a cache directory keyed by a hash of
//! the source, so it is built once and reused.

use std::path::PathBuf;
use std::process::Command;

const CARGO_TOML: &str = include_str!("../plugin/Cargo.toml");
const LIB_RS: &str = include_str!("../plugin/src/lib.rs");

/// Errors of building the plugin.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// No cache directory could be found or made.
    #[error("no cache directory for zant's QEMU plugin ({0}); set ZANT_CACHE_DIR")]
    Cache(String),
    /// cargo failed.
    #[error("building zant's QEMU instruction-counting plugin failed:\n{0}")]
    Build(String),
}

/// The directory zant caches built helpers in: `$ZANT_CACHE_DIR`,
/// `$XDG_CACHE_HOME/zant` or `~/.cache/zant`.
pub fn cache_dir() -> Result<PathBuf, PluginError> {
    if let Some(d) = std::env::var_os("ZANT_CACHE_DIR") {
        return Ok(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return Ok(PathBuf::from(d).join("zant"));
    }
    std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".cache/zant"))
        .ok_or_else(|| {
            PluginError::Cache("neither ZANT_CACHE_DIR, XDG_CACHE_HOME nor HOME is set".into())
        })
}

fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100_0000_01b3);
        }
    }
    h
}

/// Path of the built plugin, building it if needed.
pub fn plugin_path() -> Result<PathBuf, PluginError> {
    let key = format!("{:016x}", fnv1a(&[CARGO_TOML, LIB_RS]));
    let dir = cache_dir()?.join(format!("qemu-plugin-{key}"));
    let so = dir.join("libzant_qemu_insn.so");
    if so.exists() {
        return Ok(so);
    }
    let build = cache_dir()?.join(format!("qemu-plugin-{key}.build-{}", std::process::id()));
    let mk = |e: std::io::Error| PluginError::Cache(format!("{}: {e}", build.display()));
    std::fs::create_dir_all(build.join("src")).map_err(mk)?;
    std::fs::write(build.join("Cargo.toml"), CARGO_TOML).map_err(mk)?;
    std::fs::write(build.join("src/lib.rs"), LIB_RS).map_err(mk)?;
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "--offline", "--quiet"])
        .current_dir(&build)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTFLAGS")
        .output()
        .map_err(|e| PluginError::Build(format!("cannot run cargo: {e}")))?;
    if !out.status.success() {
        return Err(PluginError::Build(
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
    }
    // Publish atomically: concurrent builders race harmlessly.
    let built = build.join("target/release/libzant_qemu_insn.so");
    std::fs::create_dir_all(&dir).map_err(|e| PluginError::Cache(e.to_string()))?;
    let tmp = dir.join(format!(".so.{}", std::process::id()));
    std::fs::copy(&built, &tmp).map_err(|e| PluginError::Cache(e.to_string()))?;
    std::fs::rename(&tmp, &so).map_err(|e| PluginError::Cache(e.to_string()))?;
    let _ = std::fs::remove_dir_all(&build);
    Ok(so)
}
