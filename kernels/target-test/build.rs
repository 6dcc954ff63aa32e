//! Writes the memory map of the QEMU board the target implies: mps2-an386
//! (Cortex-M4F, `thumbv7em-none-eabihf`) or mps3-an547 (Cortex-M55,
//! `thumbv8m.main-none-eabihf`, Secure aliases of ITCM and DTCM).
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR is set by cargo"));
    let target = env::var("TARGET").expect("TARGET is set by cargo");
    let memory = if target.starts_with("thumbv8m") {
        "MEMORY\n{\n  FLASH : ORIGIN = 0x10000000, LENGTH = 512K\n  RAM : ORIGIN = 0x30000000, LENGTH = 512K\n}\n"
    } else {
        "MEMORY\n{\n  FLASH : ORIGIN = 0x00000000, LENGTH = 4M\n  RAM : ORIGIN = 0x20000000, LENGTH = 4M\n}\n"
    };
    fs::write(out.join("memory.x"), memory).expect("OUT_DIR is writable");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=build.rs");
}
