//! The board and chip files as written (serde), with their JSON Schema.

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize;

use crate::types::{names, CORES, FPUS, REGION_ATTRIBUTES, REGION_KINDS, REPORT_CHANNELS, SIMDS};

// The closed vocabularies are enums in the schema, from the tables the
// validation reads, so editors complete them.

fn one_of(names: &[&str]) -> Schema {
    json_schema!({ "type": "string", "enum": names })
}

fn list_of(names: &[&str]) -> Schema {
    json_schema!({ "type": "array", "items": { "type": "string", "enum": names } })
}

fn all<T>(table: &[(&'static str, T)]) -> Vec<&'static str> {
    table.iter().map(|(n, _)| *n).collect()
}

fn core_schema(_: &mut SchemaGenerator) -> Schema {
    one_of(&names(CORES))
}

fn fpu_schema(_: &mut SchemaGenerator) -> Schema {
    one_of(&names(FPUS))
}

fn simd_schema(_: &mut SchemaGenerator) -> Schema {
    list_of(&all(SIMDS))
}

fn region_kind_schema(_: &mut SchemaGenerator) -> Schema {
    one_of(&names(REGION_KINDS))
}

fn report_schema(_: &mut SchemaGenerator) -> Schema {
    one_of(&names(REPORT_CHANNELS))
}

fn attributes_schema(_: &mut SchemaGenerator) -> Schema {
    list_of(REGION_ATTRIBUTES)
}

/// A board file (`boards/defs/<board>.toml`, or a user's own).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(title = "zant board")]
pub struct RawBoard {
    /// Version of this format: 1.
    pub schema_version: u32,
    /// Board name (kebab-case), used on the command line.
    pub name: String,
    /// One line saying what the board is.
    #[serde(default)]
    pub description: Option<String>,
    /// Other names for the board (`stm32h7`).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The chip: the name of a built-in chip (`stm32h743zi`), a path to a chip
    /// file relative to this file, or an inline table.
    pub chip: RawChipRef,
    /// How the firmware reports: `semihosting` (QEMU), `rtt` (debug probe) or `uart`.
    #[schemars(schema_with = "report_schema")]
    pub report: String,
    /// Core clock in Hz, overriding the chip's.
    #[serde(default)]
    pub clock_hz: Option<u64>,
    /// Extra memory regions of the board (external RAM, …), added to the chip's.
    #[serde(default)]
    pub memory: Vec<RawRegion>,
    /// Where the arena, stack and weights go.
    pub placement: RawPlacement,
    /// Size budget of the board.
    #[serde(default)]
    pub limits: Option<RawLimits>,
    /// How to run firmware: exactly one of `qemu`, `probe-rs`, `espflash`.
    pub run: RawRun,
}

/// A chip named, given by path, or inline.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RawChipRef {
    /// Built-in chip name or a path to a chip file.
    Name(String),
    /// The chip described in place.
    Inline(Box<RawChip>),
}

/// A chip file (`boards/defs/chips/<chip>.toml`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[schemars(title = "zant chip")]
pub struct RawChip {
    /// Version of this format: 1 (optional inline).
    #[serde(default)]
    pub schema_version: Option<u32>,
    /// Chip name.
    #[serde(default)]
    pub name: Option<String>,
    /// Vendor.
    pub vendor: String,
    /// Family (`STM32H7`).
    pub family: String,
    /// Part number.
    pub part: String,
    /// CPU core: cortex-m0plus, cortex-m3, cortex-m4, cortex-m7, cortex-m33, cortex-m55, rv32imc, rv32imac.
    #[schemars(schema_with = "core_schema")]
    pub core: String,
    /// Floating-point unit: none, single, double.
    #[serde(default = "default_fpu")]
    #[schemars(schema_with = "fpu_schema")]
    pub fpu: String,
    /// SIMD extensions: dsp (Cortex-M DSP), mve (Helium), rvp, rvv.
    #[serde(default)]
    #[schemars(schema_with = "simd_schema")]
    pub simd: Vec<String>,
    /// Core clock in Hz.
    pub clock_hz: u64,
    /// Memory regions.
    pub memory: Vec<RawRegion>,
}

fn default_fpu() -> String {
    "none".into()
}

/// A memory region.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct RawRegion {
    /// Region name (`FLASH`, `DTCM`).
    pub name: String,
    /// `flash` or `ram`.
    #[schemars(schema_with = "region_kind_schema")]
    pub kind: String,
    /// Start address.
    pub start: u64,
    /// Size in bytes.
    pub size: u64,
    /// Attributes: tightly-coupled, dma, xip, emulated.
    #[serde(default)]
    #[schemars(schema_with = "attributes_schema")]
    pub attributes: Vec<String>,
    /// This region is another address range of the named region: the same
    /// memory seen through another bus (ESP32's instruction and data views
    /// of flash and SRAM). What is placed here uses the named region; the
    /// region adds nothing to the totals.
    #[serde(default)]
    pub alias_of: Option<String>,
}

/// Placement of the model's memory.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct RawPlacement {
    /// RAM regions for the activation arena, in order of preference.
    pub arena: Vec<String>,
    /// RAM region of the stack.
    pub stack: String,
    /// Stack size in bytes.
    pub stack_size: u64,
    /// Flash region of the code and weights, or a list of flash regions:
    /// the code goes to the first, the weights to the first region with
    /// room, largest tensors first.
    #[serde(deserialize_with = "one_or_many")]
    #[schemars(schema_with = "weights_schema")]
    pub weights: Vec<String>,
}

fn weights_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "anyOf": [
            { "type": "string" },
            { "type": "array", "items": { "type": "string" }, "minItems": 1 }
        ]
    })
}

/// A region name, or a list of them (`weights = "FLASH"`,
/// `weights = ["FLASH", "QSPI"]`).
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged, expecting = "a region name or a list of region names")]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// Size budget limits.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct RawLimits {
    /// Maximum flash bytes of the firmware.
    #[serde(default)]
    pub flash_bytes: Option<u64>,
    /// Maximum static RAM bytes of the firmware (with the stack).
    #[serde(default)]
    pub ram_bytes: Option<u64>,
}

/// How to run firmware on the board.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct RawRun {
    /// Emulated with QEMU.
    #[serde(default)]
    pub qemu: Option<RawQemu>,
    /// Flashed through a debug probe with probe-rs.
    #[serde(default)]
    pub probe_rs: Option<RawProbeRs>,
    /// Flashed over serial with espflash.
    #[serde(default)]
    pub espflash: Option<RawEspflash>,
}

/// QEMU settings.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct RawQemu {
    /// `qemu-system-arm` or `qemu-system-riscv32`.
    pub binary: String,
    /// `-machine`.
    pub machine: String,
    /// `-cpu`, if not the machine's default.
    #[serde(default)]
    pub cpu: Option<String>,
    /// More QEMU arguments.
    #[serde(default)]
    pub extra_args: Vec<String>,
}

/// probe-rs settings.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct RawProbeRs {
    /// probe-rs chip name (`probe-rs chip list`).
    pub chip: String,
}

/// espflash settings.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct RawEspflash {
    /// espflash chip (`esp32c3`, `esp32c6`).
    pub chip: String,
}
