//! Ownership of output directories: zant overwrites only what it wrote.
//!
//! A directory zant writes holds a [`MARKER`] file: what kind of directory
//! it is ([`Kind`]: a model crate from `zant compile`, a firmware project
//! from `zant build`) and the SHA-256 of every file zant wrote there. On the
//! next run zant rewrites the files it owns that are unchanged, refuses to
//! overwrite one the user changed (naming each; `--force` overrides), never
//! writes one kind of directory over the other, and removes the files it
//! wrote before and no longer writes (when unchanged).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Name of the marker file zant leaves in directories it creates.
pub const MARKER: &str = ".zant-generated";

/// What the first line of the [`MARKER`] file says (older versions of zant
/// wrote only this text, with no list of files).
pub const MARKER_TEXT: &str =
    "This directory was written by zant; `--force` is not needed to overwrite it.\n";

/// What a directory zant writes is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A model crate (`zant compile`).
    ModelCrate,
    /// A firmware project (`zant build`, `run`, `bench`, `deploy`).
    FirmwareProject,
}

impl Kind {
    /// What it is, and the command that writes it.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::ModelCrate => "a model crate (written by `zant compile`)",
            Kind::FirmwareProject => "a firmware project (written by `zant build`)",
        }
    }
}

/// The [`MARKER`] file's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owned {
    /// A line for people who open the file.
    pub note: String,
    /// What the directory is.
    pub kind: Kind,
    /// Files zant wrote, relative to the directory (`/`-separated), with
    /// the SHA-256 (hex) of what it wrote.
    pub files: BTreeMap<String, String>,
}

/// What the marker says, if anything.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Marker {
    /// No marker.
    None,
    /// The marker of an older zant: ours, with no list of files.
    Legacy,
    /// The marker with its list.
    Owned(Owned),
}

/// Why zant will not write into a directory.
#[derive(Debug, thiserror::Error)]
pub enum OutDirError {
    /// The directory holds files and no marker.
    #[error("{} exists and was not created by zant", .0.display())]
    NotOurs(PathBuf),
    /// The directory is zant's, but of the other kind.
    #[error("{} is {}, not {}", .dir.display(), .found.describe(), .want.describe())]
    WrongKind {
        /// Directory.
        dir: PathBuf,
        /// What it is.
        found: Kind,
        /// What was to be written.
        want: Kind,
    },
    /// Files zant would overwrite were changed (or made) by the user.
    #[error("{} holds files zant would overwrite that are not as zant wrote them: {}", .dir.display(), list(.files))]
    Changed {
        /// Directory.
        dir: PathBuf,
        /// Changed files, relative to `dir`.
        files: Vec<String>,
    },
    /// Reading or writing failed.
    #[error("cannot write {}: {source}", .path.display())]
    Io {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

impl OutDirError {
    /// What to do about it.
    pub fn help(&self) -> String {
        match self {
            OutDirError::NotOurs(_) => {
                "choose another directory with -o, or pass --force to overwrite it".into()
            }
            OutDirError::WrongKind { .. } => {
                "choose another directory with -o (or remove this one); --force does not mix the two".into()
            }
            OutDirError::Changed { .. } => "keep your changes elsewhere (or choose another directory with -o), or pass --force to overwrite them".into(),
            OutDirError::Io { .. } => "check the directory's permissions and free space".into(),
        }
    }
}

fn list(files: &[String]) -> String {
    files.join(", ")
}

/// SHA-256 of `bytes`, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn rel_key(rel: &Path) -> String {
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn read_marker(dir: &Path) -> Marker {
    match std::fs::read_to_string(dir.join(MARKER)) {
        Err(_) => {
            if dir.join(MARKER).exists() {
                Marker::Legacy
            } else {
                Marker::None
            }
        }
        Ok(text) => match serde_json::from_str::<Owned>(&text) {
            Ok(o) => Marker::Owned(o),
            Err(_) => Marker::Legacy,
        },
    }
}

/// Empty, or holding only directories zant wrote (a firmware project's
/// `model/`, written just before the project around it).
fn is_empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .all(|e| e.path().is_dir() && e.path().join(MARKER).exists())
        })
        .unwrap_or(false)
}

/// Checks that `dir` may be written as a `kind` directory: absent, empty,
/// or zant's of that kind with every file it recorded unchanged; `force`
/// allows a directory zant did not make and changed files, never the other
/// kind.
pub fn check(dir: &Path, kind: Kind, force: bool) -> Result<(), OutDirError> {
    check_for(dir, kind, &[], force).map(|_| ())
}

/// [`check`], also refusing files of `planned` (relative paths zant is
/// about to write) that exist, are not recorded and differ from `contents`.
fn check_for(
    dir: &Path,
    kind: Kind,
    planned: &[(&Path, &[u8])],
    force: bool,
) -> Result<Marker, OutDirError> {
    if !dir.exists() || is_empty_dir(dir) {
        return Ok(Marker::None);
    }
    let marker = read_marker(dir);
    let owned = match &marker {
        Marker::None if force => return Ok(Marker::None),
        Marker::None => return Err(OutDirError::NotOurs(dir.to_path_buf())),
        Marker::Legacy => return Ok(Marker::Legacy),
        Marker::Owned(o) => o,
    };
    if owned.kind != kind {
        return Err(OutDirError::WrongKind {
            dir: dir.to_path_buf(),
            found: owned.kind,
            want: kind,
        });
    }
    if force {
        return Ok(marker);
    }
    let mut changed = Vec::new();
    for (rel, hash) in &owned.files {
        if let Ok(bytes) = std::fs::read(dir.join(rel)) {
            if &sha256_hex(&bytes) != hash {
                changed.push(rel.clone());
            }
        }
    }
    for (rel, bytes) in planned {
        let key = rel_key(rel);
        if owned.files.contains_key(&key) {
            continue;
        }
        if let Ok(on_disk) = std::fs::read(dir.join(rel)) {
            if on_disk != *bytes {
                changed.push(key);
            }
        }
    }
    if changed.is_empty() {
        Ok(marker)
    } else {
        changed.sort();
        Err(OutDirError::Changed {
            dir: dir.to_path_buf(),
            files: changed,
        })
    }
}

/// Writes `files` (relative path, contents) into `dir` as a `kind`
/// directory after [`check`]ing it (with the files themselves: a file of
/// the user's at one of these paths is refused too), removes the files zant
/// wrote there before and no longer writes (when unchanged), and records
/// what it wrote in the [`MARKER`]. Files whose contents are already right
/// are not touched (cargo sees no change).
pub fn write_owned(
    dir: &Path,
    kind: Kind,
    files: &[(PathBuf, Vec<u8>)],
    force: bool,
) -> Result<(), OutDirError> {
    let planned: Vec<(&Path, &[u8])> = files
        .iter()
        .map(|(p, b)| (p.as_path(), b.as_slice()))
        .collect();
    let before = check_for(dir, kind, &planned, force)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| OutDirError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut now = BTreeMap::new();
    for (rel, bytes) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        if std::fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
            std::fs::write(&path, bytes).map_err(io(&path))?;
        }
        now.insert(rel_key(rel), sha256_hex(bytes));
    }
    if let Marker::Owned(old) = before {
        for (rel, hash) in &old.files {
            if now.contains_key(rel) {
                continue;
            }
            let path = dir.join(rel);
            let unchanged = std::fs::read(&path)
                .map(|b| &sha256_hex(&b) == hash)
                .unwrap_or(false);
            if unchanged {
                std::fs::remove_file(&path).map_err(io(&path))?;
                // Directories left empty by it go too.
                let mut d = path.parent();
                while let Some(p) = d {
                    if p == dir || std::fs::remove_dir(p).is_err() {
                        break;
                    }
                    d = p.parent();
                }
            }
        }
    }
    let owned = Owned {
        note: MARKER_TEXT
            .replace(
                "`--force` is not needed to overwrite it.",
                "it rewrites the files listed here and refuses to overwrite one you changed (`--force` overrides).",
            )
            .trim_end()
            .to_string(),
        kind,
        files: now,
    };
    let text = serde_json::to_string_pretty(&owned).expect("serializable") + "\n";
    let m = dir.join(MARKER);
    std::fs::write(&m, text).map_err(io(&m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(name: &str) -> PathBuf {
        let b = std::env::temp_dir().join(format!("zant-outdir-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&b);
        b
    }

    fn files(main: &str) -> Vec<(PathBuf, Vec<u8>)> {
        vec![
            (PathBuf::from("Cargo.toml"), b"[package]\n".to_vec()),
            (PathBuf::from("src/main.rs"), main.as_bytes().to_vec()),
        ]
    }

    #[test]
    fn absent_empty_marked_or_forced() {
        let base = base("basic");
        assert!(check(&base, Kind::ModelCrate, false).is_ok());
        std::fs::create_dir_all(&base).unwrap();
        assert!(check(&base, Kind::ModelCrate, false).is_ok());
        std::fs::write(base.join("user.txt"), "mine").unwrap();
        assert!(matches!(
            check(&base, Kind::ModelCrate, false),
            Err(OutDirError::NotOurs(_))
        ));
        assert!(check(&base, Kind::ModelCrate, true).is_ok());
        std::fs::write(base.join(MARKER), MARKER_TEXT).unwrap();
        assert!(check(&base, Kind::FirmwareProject, false).is_ok());
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn rewrites_its_own_refuses_changed_keeps_kinds_apart() {
        let d = base("owned");
        write_owned(&d, Kind::FirmwareProject, &files("fn main() {}\n"), false).unwrap();
        // Unchanged: rewritten with new contents.
        write_owned(
            &d,
            Kind::FirmwareProject,
            &files("fn main() { 1; }\n"),
            false,
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(d.join("src/main.rs")).unwrap(),
            "fn main() { 1; }\n"
        );
        // The user's file stays, and is not refused when zant does not write it.
        std::fs::write(d.join("notes.txt"), "mine").unwrap();
        write_owned(
            &d,
            Kind::FirmwareProject,
            &files("fn main() { 1; }\n"),
            false,
        )
        .unwrap();
        // Changed by the user: refused, named.
        std::fs::write(d.join("src/main.rs"), "// my edit\n").unwrap();
        let e = write_owned(&d, Kind::FirmwareProject, &files("x"), false).unwrap_err();
        assert!(
            matches!(&e, OutDirError::Changed { files, .. } if files == &["src/main.rs"]),
            "{e}"
        );
        assert_eq!(
            std::fs::read_to_string(d.join("src/main.rs")).unwrap(),
            "// my edit\n"
        );
        // The other kind: refused even with --force.
        let e = write_owned(&d, Kind::ModelCrate, &files("x"), true).unwrap_err();
        assert!(matches!(e, OutDirError::WrongKind { .. }), "{e}");
        // --force overwrites the change.
        write_owned(&d, Kind::FirmwareProject, &files("x"), true).unwrap();
        assert_eq!(std::fs::read_to_string(d.join("src/main.rs")).unwrap(), "x");
        // A file zant no longer writes goes, when unchanged.
        write_owned(
            &d,
            Kind::FirmwareProject,
            &[(PathBuf::from("Cargo.toml"), b"[package]\n".to_vec())],
            false,
        )
        .unwrap();
        assert!(!d.join("src").exists());
        assert!(d.join("notes.txt").exists());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_users_file_where_zant_would_write_is_refused() {
        let d = base("planned");
        write_owned(&d, Kind::ModelCrate, &files("a"), false).unwrap();
        std::fs::write(d.join("build.rs"), "// mine\n").unwrap();
        let mut more = files("a");
        more.push((PathBuf::from("build.rs"), b"fn main() {}\n".to_vec()));
        let e = write_owned(&d, Kind::ModelCrate, &more, false).unwrap_err();
        assert!(
            matches!(&e, OutDirError::Changed { files, .. } if files == &["build.rs"]),
            "{e}"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
