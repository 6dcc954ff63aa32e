use super::*;

#[test]
fn every_builtin_board_loads_and_validates() {
    let boards = builtin_boards();
    assert_eq!(boards.len(), 16);
    for b in &boards {
        assert!(b.region(b.placement.code_region()).is_some(), "{}", b.name);
        assert!(!b.description.is_empty(), "{}", b.name);
    }
}

#[test]
fn alias_stm32h7_is_the_nucleo_h743zi() {
    let b = resolve("stm32h7").unwrap();
    assert_eq!(b.name, "nucleo-h743zi");
    assert_eq!(b.target.triple, "thumbv7em-none-eabihf");
    assert_eq!(b.target.cpu.as_deref(), Some("cortex-m7"));
    assert_eq!(b.fpu, Fpu::Double);
    assert_eq!(b.placement.arena, ["DTCM", "AXISRAM"]);
    assert_eq!(
        b.runner,
        Runner::ProbeRs {
            chip: "STM32H743ZITx".into()
        }
    );
}

#[test]
fn targets_follow_from_core_and_fpu() {
    let t = |n: &str| resolve(n).unwrap().target.triple;
    assert_eq!(t("qemu-mps2-an385"), "thumbv7m-none-eabi");
    assert_eq!(t("qemu-mps2-an386"), "thumbv7em-none-eabihf");
    assert_eq!(t("qemu-mps3-an547"), "thumbv8m.main-none-eabihf");
    assert_eq!(t("rp-pico"), "thumbv6m-none-eabi");
    assert_eq!(t("qemu-riscv32-virt"), "riscv32imac-unknown-none-elf");
    assert_eq!(t("esp32-c3-devkit"), "riscv32imc-unknown-none-elf");
}

#[test]
fn unknown_name_suggests() {
    let e = resolve("qemu-mps2-an368").unwrap_err().to_string();
    assert!(e.contains("did you mean `qemu-mps2-an386`"), "{e}");
}

const BAD: &str = r#"schema-version = 1
name = "my-board"
chip = { vendor = "Me", family = "X", part = "X1", core = "cortex-m9", clock-hz = 1, memory = [
  { name = "FLASH", kind = "flash", start = 0, size = 0x10000 },
  { name = "RAM", kind = "ram", start = 0x8000, size = 0x10000 },
] }
report = "semihosting"

[placement]
arena = ["FLASH"]
stack = "RAM"
stak-size = 1024
stack-size = 1024
weights = "FLASH"

[run.qemu]
binary = "qemu-system-arm"
machin = "mps2-an386"
machine = "mps2-an386"
"#;

#[test]
fn every_problem_is_reported_at_once_with_lines() {
    let dir = std::env::temp_dir().join(format!("zant-boards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("my-board.toml");
    std::fs::write(&f, BAD).unwrap();
    let e = check_file(&f).unwrap_err();
    let BoardError::Invalid(d) = &e else {
        panic!("{e}")
    };
    let text = e.to_string();
    for want in [
        "unknown key `stak-size`",
        "did you mean `stack-size`",
        "unknown key `machin`",
        "did you mean `machine`",
        "core `cortex-m9` has no Rust target",
        "overlap",
        "region `flash` is flash but must be ram",
    ] {
        assert!(
            text.to_lowercase().contains(&want.to_lowercase()),
            "missing {want:?} in:\n{text}"
        );
    }
    let stak = d.iter().find(|d| d.message.contains("stak-size")).unwrap();
    assert_eq!(stak.line, Some(12), "{stak}");
    assert_eq!(stak.key, "placement.stak-size");
}

#[test]
fn schema_file_is_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/board.schema.json");
    let want = serde_json::to_string_pretty(&board_schema()).unwrap() + "\n";
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(have == want, "boards/schema/board.schema.json is out of date; regenerate with UPDATE_SCHEMA=1 cargo test -p zant-boards");
}

#[test]
fn esp32_flash_and_sram_are_each_counted_once_through_their_aliases() {
    let b = resolve("esp32-c3-devkit").unwrap();
    assert_eq!(b.total_flash(), 4 << 20);
    assert_eq!(b.total_ram(), 0x4_E400);
    // A constant read through the data bus lies in FLASH; code in IRAM in DRAM.
    let (r, at) = b.locate(0x3C00_0120, RegionKind::Flash).unwrap();
    assert_eq!((r.name.as_str(), at), ("FLASH", 0x4200_0120));
    let (r, at) = b.locate(0x4038_0010, RegionKind::Ram).unwrap();
    assert_eq!((r.name.as_str(), at), ("DRAM", 0x3FC8_0010));
    assert!(b.locate(0x5000_0000, RegionKind::Ram).is_none());
}

const ALIASES: &str = r#"schema-version = 1
name = "aliases"
chip = { vendor = "Me", family = "X", part = "X1", core = "rv32imc", clock-hz = 1, memory = [
  { name = "FLASH", kind = "flash", start = 0x42000000, size = 0x10000 },
  { name = "DROM", kind = "flash", start = 0x3C000000, size = 0x10000, alias-of = "FLASH" },
  { name = "DRAM", kind = "ram", start = 0x3FC80000, size = 0x10000 },
  { name = "IRAM", kind = "ram", start = 0x40380000, size = 0x20000, alias-of = "DRAM" },
  { name = "XRAM", kind = "ram", start = 0x50000000, size = 0x100, alias-of = "FLASH" },
  { name = "YRAM", kind = "ram", start = 0x60000000, size = 0x100, alias-of = "IRAM" },
  { name = "ZRAM", kind = "ram", start = 0x70000000, size = 0x100, alias-of = "DRAMM" },
] }
report = "semihosting"

[placement]
arena = ["IRAM"]
stack = "DRAM"
stack-size = 1024
weights = "DROM"

[run.qemu]
binary = "qemu-system-riscv32"
machine = "virt"
"#;

#[test]
fn alias_problems_are_reported() {
    let dir = std::env::temp_dir().join(format!("zant-boards-alias-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("aliases.toml");
    std::fs::write(&f, ALIASES).unwrap();
    let text = check_file(&f).unwrap_err().to_string();
    for want in [
        "region `IRAM` (131072 bytes) is larger than `DRAM` (65536 bytes)",
        "region `XRAM` (ram) is an alias of `FLASH` (flash)",
        "region `YRAM` is an alias of `IRAM`, which is itself an alias",
        "region `ZRAM` is an alias of `DRAMM`, which does not exist",
        "did you mean `DRAM`?",
        "region `IRAM` is an alias of `DRAM`; place memory in the region itself",
        "region `DROM` is an alias of `FLASH`",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
}

/// A board whose `placement.weights` line is `weights`.
fn weights_board(weights: &str) -> String {
    format!(
        r#"schema-version = 1
name = "two-banks"
chip = {{ vendor = "Me", family = "X", part = "X1", core = "cortex-m7", fpu = "double", clock-hz = 1, memory = [
  {{ name = "BANK1", kind = "flash", start = 0x08000000, size = 0x100000 }},
  {{ name = "BANK2", kind = "flash", start = 0x08100000, size = 0x100000 }},
  {{ name = "RAM", kind = "ram", start = 0x20000000, size = 0x20000 }},
] }}
report = "rtt"

[placement]
arena = ["RAM"]
stack = "RAM"
stack-size = 1024
{weights}

[run.probe-rs]
chip = "STM32H743ZITx"
"#
    )
}

fn check_text(name: &str, text: &str) -> Result<Board, BoardError> {
    let dir = std::env::temp_dir().join(format!("zant-boards-w-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join(format!("{name}.toml"));
    std::fs::write(&f, text).unwrap();
    check_file(&f)
}

#[test]
fn weights_may_be_one_region_or_a_list_whose_first_holds_the_code() {
    let one = check_text("one", &weights_board(r#"weights = "BANK1""#)).unwrap();
    assert_eq!(one.placement.weights, ["BANK1"]);
    let two = check_text("two", &weights_board(r#"weights = ["BANK1", "BANK2"]"#)).unwrap();
    assert_eq!(two.placement.weights, ["BANK1", "BANK2"]);
    assert_eq!(two.placement.code_region(), "BANK1");
}

#[test]
fn a_bad_weights_list_is_reported_with_its_key() {
    for (line, want) in [
        ("weights = []", "the weights need at least one flash region"),
        (
            r#"weights = ["BANK1", "BANK1"]"#,
            "region `BANK1` is listed twice",
        ),
        (
            r#"weights = ["BANK1", "RAM"]"#,
            "region `RAM` is RAM but must be flash",
        ),
        (r#"weights = ["BANK1", "BANK3"]"#, "did you mean `BANK1`?"),
        ("weights = 3", "placement.weights"),
        ("weights = [3]", "placement.weights"),
    ] {
        let e = check_text("bad", &weights_board(line))
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{line}: missing {want:?} in:\n{e}");
        assert!(e.contains("placement.weights"), "{line}: no key in:\n{e}");
    }
}

#[test]
fn the_schema_closes_every_closed_vocabulary() {
    let s = serde_json::to_string(&board_schema()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    // Wherever it sits in the schema, each vocabulary is an `enum`.
    let mut enums: Vec<Vec<String>> = Vec::new();
    fn walk(v: &serde_json::Value, out: &mut Vec<Vec<String>>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(serde_json::Value::Array(e)) = m.get("enum") {
                    out.push(
                        e.iter()
                            .filter_map(|x| x.as_str().map(String::from))
                            .collect(),
                    );
                }
                m.values().for_each(|x| walk(x, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(&v, &mut enums);
    for word in [
        "cortex-m7",
        "double",
        "mve",
        "flash",
        "semihosting",
        "tightly-coupled",
    ] {
        assert!(
            enums.iter().any(|e| e.iter().any(|w| w == word)),
            "`{word}` is not in an enum of the board schema"
        );
    }
}
