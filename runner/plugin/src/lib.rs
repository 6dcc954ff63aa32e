//! QEMU TCG plugin (C plugin API, version 1 as in QEMU 7.2; the calls used
//! here are unchanged up to 9.x): counts guest instructions executed from
//! entering the translation block at `start` until entering the block at
//! `end`, exactly and deterministically.
//!
//! Arguments: `start=0xADDR,end=0xADDR,out=PATH[,marker=0xADDR]`. The count
//! is written to PATH as `instructions=N` and `marker_hits=S,E` when QEMU
//! exits. With `marker`, the running count each time the block at that
//! address is entered while counting (before the block's own instructions)
//! is written too, as `marks=C0,C1,…`: a profiling build calls its marker
//! between nodes, so consecutive differences are the nodes' instructions.
//! The running count each time the block at `end` is entered is written as
//! `runs=R1,R2,…`: a data-set build runs one inference per sample, and
//! consecutive differences are the samples' instructions.
//!
//! With `hist=PATH`, the instructions executed while counting are also
//! written per translation block, one `ADDR N COUNT` line each (block
//! address in hex, its instructions, the times it ran): the host maps the
//! addresses to functions.

use std::ffi::{c_char, c_int, c_uint, c_void, CStr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

type PluginId = u64;

#[repr(C)]
pub struct QemuPluginTb {
    _private: [u8; 0],
}

#[repr(C)]
pub struct QemuInfo {
    _private: [u8; 0],
}

extern "C" {
    fn qemu_plugin_register_vcpu_tb_trans_cb(id: PluginId, cb: extern "C" fn(PluginId, *mut QemuPluginTb));
    fn qemu_plugin_register_vcpu_tb_exec_cb(tb: *mut QemuPluginTb, cb: extern "C" fn(c_uint, *mut c_void), flags: c_int, userdata: *mut c_void);
    fn qemu_plugin_register_atexit_cb(id: PluginId, cb: extern "C" fn(PluginId, *mut c_void), userdata: *mut c_void);
    fn qemu_plugin_tb_n_insns(tb: *const QemuPluginTb) -> usize;
    fn qemu_plugin_tb_vaddr(tb: *const QemuPluginTb) -> u64;
}

/// The plugin API version this plugin was written against.
#[no_mangle]
pub static qemu_plugin_version: c_int = 1;

struct Config {
    start: u64,
    end: u64,
    out: String,
    marker: Option<u64>,
    hist: Option<String>,
}

static CONFIG: OnceLock<Config> = OnceLock::new();
static COUNTING: AtomicBool = AtomicBool::new(false);
static COUNT: AtomicU64 = AtomicU64::new(0);
static START_HITS: AtomicU64 = AtomicU64::new(0);
static END_HITS: AtomicU64 = AtomicU64::new(0);
static MARKS: Mutex<Vec<u64>> = Mutex::new(Vec::new());
static RUNS: Mutex<Vec<u64>> = Mutex::new(Vec::new());
/// With `hist`: per translated block, its address, its instructions and the
/// times it ran while counting. A block's index rides in its callback data.
static BLOCKS: Mutex<Vec<(u64, u64, u64)>> = Mutex::new(Vec::new());

const KIND_PLAIN: usize = 0;
const KIND_START: usize = 1;
const KIND_END: usize = 2;
const KIND_MARK: usize = 3;

/// Callback data: bits 0-1 the kind, 2-31 the block's instructions, 32 and
/// up (64-bit hosts) one plus the block's index in [`BLOCKS`] (0: none).
const INDEX_SHIFT: u32 = 32;

extern "C" fn on_exec(_vcpu: c_uint, userdata: *mut c_void) {
    let v = userdata as u64;
    let index = v >> INDEX_SHIFT;
    let v = (v & 0xffff_ffff) as usize;
    let (n, kind) = ((v >> 2) as u64, v & 3);
    if index > 0 && (kind == KIND_START || COUNTING.load(Ordering::Relaxed)) && kind != KIND_END {
        if let Ok(mut b) = BLOCKS.lock() {
            if let Some(e) = b.get_mut(index as usize - 1) {
                e.2 += 1;
            }
        }
    }
    match kind {
        KIND_START => {
            START_HITS.fetch_add(1, Ordering::Relaxed);
            COUNTING.store(true, Ordering::Relaxed);
            COUNT.fetch_add(n, Ordering::Relaxed);
        }
        KIND_END => {
            END_HITS.fetch_add(1, Ordering::Relaxed);
            COUNTING.store(false, Ordering::Relaxed);
            if let Ok(mut r) = RUNS.lock() {
                r.push(COUNT.load(Ordering::Relaxed));
            }
        }
        KIND_MARK => {
            if COUNTING.load(Ordering::Relaxed) {
                if let Ok(mut m) = MARKS.lock() {
                    m.push(COUNT.load(Ordering::Relaxed));
                }
                COUNT.fetch_add(n, Ordering::Relaxed);
            }
        }
        _ => {
            if COUNTING.load(Ordering::Relaxed) {
                COUNT.fetch_add(n, Ordering::Relaxed);
            }
        }
    }
}

extern "C" fn on_translate(_id: PluginId, tb: *mut QemuPluginTb) {
    let Some(cfg) = CONFIG.get() else { return };
    // SAFETY: `tb` is valid for the duration of the translation callback.
    let (n, pc) = unsafe { (qemu_plugin_tb_n_insns(tb), qemu_plugin_tb_vaddr(tb)) };
    let kind = if pc == cfg.start {
        KIND_START
    } else if pc == cfg.end {
        KIND_END
    } else if Some(pc) == cfg.marker {
        KIND_MARK
    } else {
        KIND_PLAIN
    };
    let mut data = ((n as u64) << 2) | kind as u64;
    if cfg.hist.is_some() && usize::BITS > INDEX_SHIFT {
        if let Ok(mut b) = BLOCKS.lock() {
            b.push((pc, n as u64, 0));
            data |= (b.len() as u64) << INDEX_SHIFT;
        }
    }
    // SAFETY: registering an execution callback on the block being translated;
    // flags 0 = QEMU_PLUGIN_CB_NO_REGS.
    unsafe { qemu_plugin_register_vcpu_tb_exec_cb(tb, on_exec, 0, data as usize as *mut c_void) };
}

extern "C" fn on_exit(_id: PluginId, _userdata: *mut c_void) {
    if let Some(cfg) = CONFIG.get() {
        let mut text = format!(
            "instructions={}\nmarker_hits={},{}\n",
            COUNT.load(Ordering::Relaxed),
            START_HITS.load(Ordering::Relaxed),
            END_HITS.load(Ordering::Relaxed)
        );
        if cfg.marker.is_some() {
            let marks = MARKS.lock().map(|m| m.clone()).unwrap_or_default();
            let list: Vec<String> = marks.iter().map(u64::to_string).collect();
            text.push_str(&format!("marks={}\n", list.join(",")));
        }
        let runs = RUNS.lock().map(|r| r.clone()).unwrap_or_default();
        let list: Vec<String> = runs.iter().map(u64::to_string).collect();
        text.push_str(&format!("runs={}\n", list.join(",")));
        let _ = std::fs::write(&cfg.out, text);
        if let Some(path) = &cfg.hist {
            let blocks = BLOCKS.lock().map(|b| b.clone()).unwrap_or_default();
            let mut out = String::new();
            for (pc, n, count) in blocks.into_iter().filter(|b| b.2 > 0) {
                out.push_str(&format!("{pc:x} {n} {count}\n"));
            }
            let _ = std::fs::write(path, out);
        }
    }
}

fn parse_addr(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Entry point called by QEMU.
///
/// # Safety
///
/// Called by QEMU with `argc` valid C strings in `argv`.
#[no_mangle]
pub unsafe extern "C" fn qemu_plugin_install(id: PluginId, _info: *const QemuInfo, argc: c_int, argv: *const *const c_char) -> c_int {
    let (mut start, mut end, mut out, mut marker, mut hist) = (None, None, None, None, None);
    for i in 0..argc.max(0) as usize {
        // SAFETY: QEMU passes `argc` valid NUL-terminated strings.
        let arg = unsafe { CStr::from_ptr(*argv.add(i)) }.to_string_lossy().into_owned();
        let arg = arg.strip_prefix("arg=").unwrap_or(&arg).to_string();
        if let Some((k, v)) = arg.split_once('=') {
            match k {
                "start" => start = parse_addr(v),
                "end" => end = parse_addr(v),
                "out" => out = Some(v.to_string()),
                "marker" => marker = parse_addr(v),
                "hist" => hist = Some(v.to_string()),
                _ => {}
            }
        }
    }
    let (Some(start), Some(end), Some(out)) = (start, end, out) else {
        eprintln!("zant-qemu-insn: needs start=ADDR,end=ADDR,out=PATH[,marker=ADDR][,hist=PATH]");
        return -1;
    };
    let _ = CONFIG.set(Config {
        start,
        end,
        out,
        marker,
        hist,
    });
    // SAFETY: plain registrations with QEMU's plugin API.
    unsafe {
        qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
        qemu_plugin_register_atexit_cb(id, on_exit, std::ptr::null_mut());
    }
    0
}
