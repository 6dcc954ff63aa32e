//! Ownership of output directories: zant overwrites only what it wrote.

use std::path::{Path, PathBuf};

/// Name of the marker file zant leaves in directories it creates.
pub const MARKER: &str = ".zant-generated";

/// Contents of the [`MARKER`] file.
pub const MARKER_TEXT: &str =
    "This directory was written by zant; `--force` is not needed to overwrite it.\n";

/// A directory holds files zant did not write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} exists and was not created by zant", .0.display())]
pub struct NotOurs(pub PathBuf);

/// Checks that `dir` may be written: absent, empty, made by zant (it holds
/// the [`MARKER`]), or `force`.
pub fn check_dir(dir: &Path, force: bool) -> Result<(), NotOurs> {
    if force || !dir.exists() || dir.join(MARKER).exists() {
        return Ok(());
    }
    let empty = std::fs::read_dir(dir)
        .map(|mut d| d.next().is_none())
        .unwrap_or(false);
    if empty {
        Ok(())
    } else {
        Err(NotOurs(dir.to_path_buf()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_empty_marked_or_forced() {
        let base = std::env::temp_dir().join(format!("zant-outdir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        assert_eq!(check_dir(&base, false), Ok(()));
        std::fs::create_dir_all(&base).unwrap();
        assert_eq!(check_dir(&base, false), Ok(()));
        std::fs::write(base.join("user.txt"), "mine").unwrap();
        assert_eq!(check_dir(&base, false), Err(NotOurs(base.clone())));
        assert_eq!(check_dir(&base, true), Ok(()));
        std::fs::write(base.join(MARKER), MARKER_TEXT).unwrap();
        assert_eq!(check_dir(&base, false), Ok(()));
        std::fs::remove_dir_all(&base).unwrap();
    }
}
