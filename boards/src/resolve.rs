//! Resolution: a board name, alias or path to a validated [`Board`].

use std::path::Path;

use zant_common::suggest::close_matches;

use crate::builtin::{builtin_names, BUILTIN_BOARDS, BUILTIN_CHIPS};
use crate::diagnostics::{
    board_schema, chip_schema, parse_source, serde_diag, BoardError, Diagnostic, Source,
};
use crate::raw::{RawBoard, RawChip, RawChipRef, RawRegion};
use crate::types::{listed, lookup, names, Board, MemoryRegion, REGION_ATTRIBUTES, REGION_KINDS};
use crate::validate::validate;

/// Resolves a built-in board name, an alias, or a path to a board TOML file.
pub fn resolve(name_or_path: &str) -> Result<Board, BoardError> {
    // Names and aliases are matched whatever their case (`STM32H7`).
    if let Some((n, text)) = BUILTIN_BOARDS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name_or_path))
    {
        return load_text(text, &format!("built-in:{n}"), None);
    }
    for (n, text) in BUILTIN_BOARDS {
        if let Ok(raw) = toml::from_str::<RawBoard>(text) {
            if raw
                .aliases
                .iter()
                .any(|a| a.eq_ignore_ascii_case(name_or_path))
            {
                return load_text(text, &format!("built-in:{n}"), None);
            }
        }
    }
    let p = Path::new(name_or_path);
    if p.extension().is_some_and(|e| e == "toml") || p.exists() {
        return check_file(p);
    }
    let mut known: Vec<String> = builtin_names().iter().map(|s| s.to_string()).collect();
    for (_, text) in BUILTIN_BOARDS {
        if let Ok(raw) = toml::from_str::<RawBoard>(text) {
            known.extend(raw.aliases);
        }
    }
    Err(BoardError::NotFound {
        name: name_or_path.to_string(),
        suggestions: close_matches(&name_or_path.to_ascii_lowercase(), &known),
    })
}

/// Reads and validates a user's board file.
pub fn check_file(path: &Path) -> Result<Board, BoardError> {
    let text = std::fs::read_to_string(path).map_err(|source| BoardError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    load_text(&text, &path.display().to_string(), Some(path))
}

fn load_chip(
    name: &str,
    base: Option<&Path>,
    board_src: &Source<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<RawChip> {
    let schema = chip_schema();
    let (file, text) = if let Some((n, text)) = BUILTIN_CHIPS.iter().find(|(n, _)| *n == name) {
        (format!("built-in:chips/{n}"), text.to_string())
    } else {
        let p = base
            .and_then(Path::parent)
            .unwrap_or(Path::new("."))
            .join(name);
        match std::fs::read_to_string(&p) {
            Ok(t) => (p.display().to_string(), t),
            Err(_) => {
                let known: Vec<String> = BUILTIN_CHIPS.iter().map(|(n, _)| n.to_string()).collect();
                let m = close_matches(name, &known);
                let help = if m.is_empty() {
                    format!("built-in chips: {}; or give a path to a chip file, or an inline [chip] table", known.join(", "))
                } else {
                    format!("did you mean `{}`?", m[0])
                };
                diags.push(board_src.diag("chip", format!("unknown chip `{name}`"), Some(help)));
                return None;
            }
        }
    };
    let (src, mut d) = parse_source(file, &text, &schema);
    let chip = match toml::from_str::<RawChip>(&text) {
        Ok(c) => Some(c),
        Err(e) => {
            d.extend(or_serde(src.type_errors(&schema), &src, e));
            None
        }
    };
    diags.extend(d);
    chip
}

/// The schema's account of a file serde refused (every problem, each with
/// its key), or serde's own message when the schema sees none.
fn or_serde(found: Vec<Diagnostic>, src: &Source<'_>, e: toml::de::Error) -> Vec<Diagnostic> {
    if found.is_empty() {
        vec![serde_diag(src, e)]
    } else {
        found
    }
}

fn load_text(text: &str, file: &str, path: Option<&Path>) -> Result<Board, BoardError> {
    let schema = board_schema();
    let (src, mut diags) = parse_source(file.to_string(), text, &schema);
    let raw = match toml::from_str::<RawBoard>(text) {
        Ok(r) => r,
        Err(e) => {
            diags.extend(or_serde(src.type_errors(&schema), &src, e));
            return Err(BoardError::Invalid(diags));
        }
    };
    if raw.schema_version != 1 {
        diags.push(src.diag(
            "schema-version",
            format!("schema-version {} is not supported", raw.schema_version),
            Some("this zant reads schema-version = 1".into()),
        ));
    }
    let chip = match &raw.chip {
        RawChipRef::Name(n) => load_chip(n, path, &src, &mut diags),
        RawChipRef::Inline(c) => Some((**c).clone()),
    };
    let Some(chip) = chip else {
        return Err(BoardError::Invalid(diags));
    };
    let board = validate(&raw, &chip, &src, path, &mut diags);
    match board {
        Some(b) if diags.is_empty() => Ok(b),
        _ => Err(BoardError::Invalid(diags)),
    }
}

pub(crate) fn region(
    r: &RawRegion,
    key: &str,
    src: &Source<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<MemoryRegion> {
    let Some(kind) = lookup(REGION_KINDS, &r.kind) else {
        let quoted: Vec<String> = names(REGION_KINDS)
            .iter()
            .map(|n| format!("`{n}`"))
            .collect();
        diags.push(src.diag(
            &format!("{key}.kind"),
            format!("unknown region kind `{}`", r.kind),
            Some(format!("use {}", listed(&quoted))),
        ));
        return None;
    };
    if r.size == 0 {
        diags.push(src.diag(
            &format!("{key}.size"),
            format!("region `{}` has size 0", r.name),
            None,
        ));
    }
    if r.start.checked_add(r.size).is_none_or(|end| end > 1 << 32) {
        diags.push(src.diag(
            &format!("{key}.size"),
            format!("region `{}` ends beyond the 32-bit address space", r.name),
            None,
        ));
    }
    for a in &r.attributes {
        if !REGION_ATTRIBUTES.contains(&a.as_str()) {
            let known: Vec<String> = REGION_ATTRIBUTES.iter().map(|s| s.to_string()).collect();
            let m = close_matches(a, &known);
            diags.push(
                src.diag(
                    &format!("{key}.attributes"),
                    format!("unknown attribute `{a}`"),
                    Some(
                        m.first()
                            .map(|m| format!("did you mean `{m}`?"))
                            .unwrap_or_else(|| format!("known: {}", REGION_ATTRIBUTES.join(", "))),
                    ),
                ),
            );
        }
    }
    Some(MemoryRegion {
        name: r.name.clone(),
        kind,
        start: r.start,
        size: r.size,
        attributes: r.attributes.clone(),
        alias_of: r.alias_of.clone(),
    })
}
