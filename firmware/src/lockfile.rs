//! The `Cargo.lock` of a firmware project: the versions zant pins and tests.
//!
//! One lock file per runtime variant (runtime, report channel, boot block,
//! ESP chip) is kept in `templates/locks/`, made by cargo for a project whose
//! packages are named [`FIRMWARE`] and [`MODEL`] (regenerate them with
//! `ci/gen-locks.sh`). For a project, zant puts its package names in and
//! sorts the entries as cargo does, so `cargo build --locked` accepts the
//! file as it is.

/// The firmware package's name in the kept lock files.
pub const FIRMWARE: &str = "zant-fw-zantlockgen";
/// The model crate's package name in the kept lock files.
pub const MODEL: &str = "zantlockgen-model";

/// The kept lock files, by variant.
pub static LOCKS: &[(&str, &str)] = &[
    (
        "cortex-m-semihosting",
        include_str!("../../templates/locks/cortex-m-semihosting.lock"),
    ),
    (
        "cortex-m-rtt",
        include_str!("../../templates/locks/cortex-m-rtt.lock"),
    ),
    (
        "cortex-m-rtt-rp2040",
        include_str!("../../templates/locks/cortex-m-rtt-rp2040.lock"),
    ),
    (
        "riscv-semihosting",
        include_str!("../../templates/locks/riscv-semihosting.lock"),
    ),
    (
        "esp-uart-esp32c3",
        include_str!("../../templates/locks/esp-uart-esp32c3.lock"),
    ),
    (
        "esp-uart-esp32c6",
        include_str!("../../templates/locks/esp-uart-esp32c6.lock"),
    ),
];

/// The lock file for `key` with the project's package names, or `None`
/// when zant keeps none for that variant (cargo then resolves the versions
/// itself on the first build).
pub fn render(key: &str, firmware: &str, model: &str) -> Option<String> {
    let kept = LOCKS.iter().find(|(k, _)| *k == key)?.1;
    Some(with_names(kept, firmware, model))
}

/// Name of the package an entry (`"name"` or `"name version (source)"`) or a
/// `[[package]]` block stands for.
fn dep_name(entry: &str) -> &str {
    entry
        .trim()
        .trim_end_matches(',')
        .trim_matches('"')
        .split(' ')
        .next()
        .unwrap_or("")
}

fn block_name(block: &str) -> &str {
    block
        .lines()
        .find_map(|l| l.strip_prefix("name = "))
        .map(|n| n.trim_matches('"'))
        .unwrap_or("")
}

/// Replaces the kept names with `firmware` and `model` and sorts the
/// packages, and each one's dependencies, by name as cargo writes them
/// (stable: entries of one name keep cargo's order).
fn with_names(kept: &str, firmware: &str, model: &str) -> String {
    let text = kept
        .replace(&format!("\"{FIRMWARE}\""), &format!("\"{firmware}\""))
        .replace(&format!("\"{MODEL}\""), &format!("\"{model}\""));
    let mut parts = text.split("\n[[package]]\n");
    let header = parts.next().unwrap_or("").to_string();
    let mut blocks: Vec<String> = parts
        .map(|b| {
            let b = b.trim_end_matches('\n');
            match b.split_once("dependencies = [\n") {
                Some((head, rest)) => {
                    let (list, tail) = rest.split_once("\n]").unwrap_or((rest, ""));
                    let mut deps: Vec<&str> = list.lines().collect();
                    deps.sort_by(|a, b| dep_name(a).cmp(dep_name(b)));
                    format!("{head}dependencies = [\n{}\n]{tail}", deps.join("\n"))
                }
                None => b.to_string(),
            }
        })
        .collect();
    blocks.sort_by(|a, b| block_name(a).cmp(block_name(b)));
    let mut out = header;
    for b in blocks {
        out.push_str("\n[[package]]\n");
        out.push_str(&b);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kept_names_give_back_the_kept_file() {
        for (key, kept) in LOCKS {
            assert_eq!(&with_names(kept, FIRMWARE, MODEL), kept, "{key}");
        }
    }

    #[test]
    fn names_are_put_in_and_sorted() {
        let kept = "# h\nversion = 4\n\n[[package]]\nname = \"b\"\nversion = \"1\"\n\n[[package]]\nname = \"zantlockgen-model\"\nversion = \"0.1.0\"\n\n[[package]]\nname = \"zant-fw-zantlockgen\"\nversion = \"0.1.0\"\ndependencies = [\n \"b\",\n \"zantlockgen-model\",\n]\n";
        let got = with_names(kept, "zant-fw-a", "a-model");
        assert_eq!(
            got,
            "# h\nversion = 4\n\n[[package]]\nname = \"a-model\"\nversion = \"0.1.0\"\n\n[[package]]\nname = \"b\"\nversion = \"1\"\n\n[[package]]\nname = \"zant-fw-a\"\nversion = \"0.1.0\"\ndependencies = [\n \"a-model\",\n \"b\",\n]\n"
        );
    }
}
