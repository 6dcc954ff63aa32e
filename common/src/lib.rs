//! zant-common: the facts more than one zant crate needs, each defined once.
//!
//! - [`surface`]: the model crate's surface (`zant-model.json`), written by
//!   codegen and read by the firmware stage.
//! - [`names`]: snake_case names from ONNX/board names, and the linker
//!   section of an arena region.
//! - [`outdir`]: whether zant may write into a directory (its marker file).
//! - [`elf`]: symbols of an ELF (Thumb bit cleared, names demangled).
//! - [`suggest`]: did-you-mean for misspelt keys and names.
//! - [`numfmt`]: numbers as zant prints them (`1,546,176`).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod elf;
pub mod names;
pub mod numfmt;
pub mod outdir;
pub mod suggest;
pub mod surface;
