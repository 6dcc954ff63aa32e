//! Tests zant's Arm micro-kernels on the core they are written for, against
//! the plain-Rust `Portable`, over seeded random shapes; or, given
//! `bench VARIANT KERNEL K SB` on the semihosting command line (QEMU's
//! `-append`), runs one kernel call between the `zant_bench_start` /
//! `zant_bench_end` markers for zant's instruction-counting plugin.
//!
//! Reports in zant's firmware format (`ZANT-REPORT v1`, `key=value`,
//! `ZANT-END`) over semihosting and exits with the semihosting status.
#![no_std]
#![no_main]

use core::fmt::Write as _;
use core::hint::black_box;
use core::sync::atomic::{compiler_fence, Ordering};

use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::{debug, hprint, syscall1};
use zant_kernels::arm::fpu::CortexMFpu;
#[cfg(feature = "helium")]
use zant_kernels::arm::mve::Helium;
use zant_kernels::fast::depthwise::Plane;
use zant_kernels::micro::{Micro, Portable, Taps};
use zant_kernels::reference::activation::Activation;

struct Out;
impl core::fmt::Write for Out {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        hprint!("{}", s);
        Ok(())
    }
}

fn finish(ok: bool) -> ! {
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::wfi();
    }
}

/// Marks the start of the measured call.
#[no_mangle]
#[inline(never)]
pub extern "C" fn zant_bench_start() {
    black_box(0x5a17_u32);
    compiler_fence(Ordering::SeqCst);
}

/// Marks the end of the measured call.
#[no_mangle]
#[inline(never)]
pub extern "C" fn zant_bench_end() {
    compiler_fence(Ordering::SeqCst);
    black_box(0x5a18_u32);
}

/// xorshift32: deterministic, seeded.
struct Rng(u32);
impl Rng {
    fn next(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        self.next() as usize % n
    }
    /// Uniform in [-1, 1).
    fn unit(&mut self) -> f32 {
        (self.next() >> 8) as f32 / (1u32 << 23) as f32 - 1.0
    }
}

const MAX_K: usize = 1024;
const MAX_B: usize = 40 * 1024;
static mut A: [f32; 8 * MAX_K] = [0.0; 8 * MAX_K];
static mut B: [f32; MAX_B] = [0.0; MAX_B];
static mut OFFS: [u32; MAX_K] = [0; MAX_K];

/// The variants this core runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    Portable,
    Fpu,
    #[cfg(feature = "helium")]
    Helium,
}

const VARIANTS: &[Variant] = &[
    Variant::Fpu,
    #[cfg(feature = "helium")]
    Variant::Helium,
];

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Portable => "portable",
            Variant::Fpu => "fpu",
            #[cfg(feature = "helium")]
            Variant::Helium => "helium",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        match s {
            "portable" => Some(Variant::Portable),
            "fpu" => Some(Variant::Fpu),
            #[cfg(feature = "helium")]
            "helium" => Some(Variant::Helium),
            _ => None,
        }
    }
}

/// One kernel call of `M`: 0 = mk4x4, 1 = mk4x4_ind, 2 = mk8x1,
/// 3 = mk4x4_taps, 4 = mk4x4_store (`1 + ldb % 4` rows, `Relu` when `ldb`
/// is even, read back into `acc`).
#[derive(Clone, Copy)]
struct Call<'a> {
    kernel: u8,
    a: &'a [f32],
    b: &'a [f32],
    offs: &'a [u32],
    /// `offs` with its bound, found before the measured call.
    taps: Taps<'a>,
    ldb: usize,
    sb: usize,
}

fn call<M: Micro>(c: Call<'_>, acc: &mut [[f32; 4]; 4]) {
    match c.kernel {
        0 => M::mk4x4(c.a, c.b, c.ldb, c.sb, acc),
        1 => M::mk4x4_ind(c.a, c.b, c.offs, c.sb, acc),
        3 => M::mk4x4_taps(c.a, c.b, &c.taps, c.sb, acc),
        4 => {
            const LDY: usize = 7;
            let rows = 1 + c.ldb % 4;
            let mut y = [f32::NAN; 3 * LDY + 4];
            M::mk4x4_store(c.a, c.b, c.ldb, *acc, rows, c.ldb % 2 == 0, &mut y, LDY);
            for (i, row) in acc.iter_mut().enumerate().take(rows) {
                row.copy_from_slice(&y[i * LDY..][..4]);
            }
        }
        _ => {
            let mut v = [0.0f32; 8];
            for (i, x) in v.iter_mut().enumerate() {
                *x = acc[i / 4][i % 4];
            }
            M::mk8x1(c.a, c.b, &mut v);
            for (i, x) in v.iter().enumerate() {
                acc[i / 4][i % 4] = *x;
            }
        }
    }
}

fn dispatch(v: Variant, c: Call<'_>, acc: &mut [[f32; 4]; 4]) {
    match v {
        Variant::Portable => call::<Portable>(c, acc),
        Variant::Fpu => call::<CortexMFpu>(c, acc),
        #[cfg(feature = "helium")]
        Variant::Helium => call::<Helium>(c, acc),
    }
}

/// One 3×3 depthwise plane of `M` with stride `s` (1 or 2).
fn dw3<M: Micro>(s: usize, x: &[f32], w: &[f32], b: f32, a: Activation, y: &mut [f32], g: &Plane) {
    if s == 1 {
        M::dw3::<1>(x, w, b, a, y, g)
    } else {
        M::dw3::<2>(x, w, b, a, y, g)
    }
}

#[allow(clippy::too_many_arguments)]
fn dw3_of(
    v: Variant,
    s: usize,
    x: &[f32],
    w: &[f32],
    b: f32,
    a: Activation,
    y: &mut [f32],
    g: &Plane,
) {
    match v {
        Variant::Portable => dw3::<Portable>(s, x, w, b, a, y, g),
        Variant::Fpu => dw3::<CortexMFpu>(s, x, w, b, a, y, g),
        #[cfg(feature = "helium")]
        Variant::Helium => dw3::<Helium>(s, x, w, b, a, y, g),
    }
}

/// A depthwise plane case in the shared buffers: `x` in `B`, the weights and
/// the outputs in `A` (the outputs at `A[16..]`). Returns the plane and the
/// length of `x`.
fn make_dw(rng: &mut Rng, s: usize, oh: usize, ow: usize, pad: usize) -> (Plane, usize) {
    let g = Plane {
        ldx: (ow - 1) * s + 3 + pad,
        ldy: ow + pad,
        oh,
        ow,
    };
    let xlen = ((oh - 1) * s + 2) * g.ldx + (ow - 1) * s + 3;
    // SAFETY: as in make_case.
    let (a, b) = unsafe {
        (
            &mut *core::ptr::addr_of_mut!(A),
            &mut *core::ptr::addr_of_mut!(B),
        )
    };
    b[..xlen].iter_mut().for_each(|x| *x = rng.unit());
    a[..9].iter_mut().for_each(|x| *x = rng.unit());
    (g, xlen)
}

/// Runs every variant's depthwise plane kernel against `Portable`'s over
/// seeded random planes (strides 1 and 2, row gaps, activations); returns
/// (cases, failures, largest error).
fn test_dw(w: &mut Out, rng: &mut Rng) -> (u32, u32, f32) {
    let (mut cases, mut failures, mut max_err) = (0u32, 0u32, 0.0f32);
    let mut want = [0.0f32; 512];
    let mut got = [0.0f32; 512];
    for n in 0..300u32 {
        let s = 1 + (n % 2) as usize;
        let (oh, ow, pad) = (1 + rng.below(12), 1 + rng.below(21), rng.below(3));
        let act = [
            Activation::None,
            Activation::Relu,
            Activation::Clip { min: 0.0, max: 0.5 },
        ][rng.below(3)];
        let bias = rng.unit();
        let (g, xlen) = make_dw(rng, s, oh, ow, pad);
        // SAFETY: as in make_case; nothing else borrows A and B now.
        let (a, b) = unsafe { (&*core::ptr::addr_of!(A), &*core::ptr::addr_of!(B)) };
        let (x, wt) = (&b[..xlen], &a[..9]);
        let ylen = (oh - 1) * g.ldy + ow;
        want[..ylen].iter_mut().for_each(|v| *v = f32::NAN);
        dw3_of(
            Variant::Portable,
            s,
            x,
            wt,
            bias,
            act,
            &mut want[..ylen],
            &g,
        );
        for &v in VARIANTS {
            got[..ylen].iter_mut().for_each(|v| *v = f32::NAN);
            dw3_of(v, s, x, wt, bias, act, &mut got[..ylen], &g);
            cases += 1;
            let mut err = 0.0f32;
            for oy in 0..oh {
                for ox in 0..ow {
                    let (gv, wv) = (got[oy * g.ldy + ox], want[oy * g.ldy + ox]);
                    let d = (gv - wv).abs();
                    err = err.max(if d.is_nan() { f32::INFINITY } else { d });
                }
            }
            if err > 4e-6 * 11.0 {
                failures += 1;
                if failures <= 5 {
                    let _ = writeln!(
                        w,
                        "mismatch variant={} kernel=dw3 s={s} oh={oh} ow={ow} err={err}",
                        v.name()
                    );
                }
            }
            max_err = max_err.max(err);
        }
    }
    (cases, failures, max_err)
}

/// Fills the shared buffers for a case and returns its call.
fn make_case(rng: &mut Rng, kernel: u8, k: usize, ldb: usize, sb: usize) -> Call<'static> {
    // SAFETY: main runs once, single-threaded; no other reference to the
    // buffers is alive while they are rewritten here.
    let (a, b, offs) = unsafe {
        (
            &mut *core::ptr::addr_of_mut!(A),
            &mut *core::ptr::addr_of_mut!(B),
            &mut *core::ptr::addr_of_mut!(OFFS),
        )
    };
    let rows = if kernel == 2 { 8 } else { 4 };
    let a = &mut a[..rows * k];
    a.iter_mut().for_each(|x| *x = rng.unit());
    let blen = match kernel {
        0 | 4 if k > 0 => (k - 1) * ldb + 3 * sb + 1,
        1 | 3 => {
            let span = MAX_B - 3 * sb - 1;
            for o in offs[..k].iter_mut() {
                *o = rng.below(span.min(4096)) as u32;
            }
            offs[..k]
                .iter()
                .max()
                .map_or(0, |&m| m as usize + 3 * sb + 1)
        }
        2 => k,
        _ => 0,
    };
    let b = &mut b[..blen];
    b.iter_mut().for_each(|x| *x = rng.unit());
    Call {
        kernel,
        a,
        b,
        offs: &offs[..k],
        taps: Taps::new(&offs[..k]),
        ldb,
        sb,
    }
}

/// Runs every variant against `Portable` over seeded random shapes.
fn test(w: &mut Out) -> bool {
    let mut rng = Rng(0x2545_f491);
    let mut cases = 0u32;
    let mut failures = 0u32;
    let mut max_err = 0.0f32;
    for n in 0..800u32 {
        let kernel = (n % 5) as u8;
        let k = rng.below(if n % 10 == 0 { 300 } else { 40 });
        let ldb = 1 + rng.below(45);
        let sb = [1, 1, 0, 2, 3, 7][rng.below(6)];
        // mk4x4_store reads contiguous columns.
        let sb = if kernel == 4 { 1 } else { sb };
        let c = make_case(&mut rng, kernel, k, ldb, sb);
        let mut init = [[0.0f32; 4]; 4];
        init.iter_mut().flatten().for_each(|x| *x = rng.unit());
        let mut want = init;
        dispatch(Variant::Portable, c, &mut want);
        for &v in VARIANTS {
            let mut got = init;
            dispatch(v, c, &mut got);
            cases += 1;
            let tol = 4e-6 * (k as f32 + 2.0);
            let err = got
                .iter()
                .flatten()
                .zip(want.iter().flatten())
                .map(|(g, w)| {
                    // A NaN counts as an infinite error (f32::max drops NaN).
                    let d = (g - w).abs();
                    if d.is_nan() {
                        f32::INFINITY
                    } else {
                        d
                    }
                })
                .fold(0.0f32, f32::max);
            if err > tol {
                failures += 1;
                if failures <= 5 {
                    let _ = writeln!(
                        w,
                        "mismatch variant={} kernel={kernel} k={k} ldb={ldb} sb={sb} err={err}",
                        v.name()
                    );
                }
            }
            max_err = max_err.max(err);
        }
    }
    let (dw_cases, dw_failures, dw_err) = test_dw(w, &mut rng);
    cases += dw_cases;
    failures += dw_failures;
    max_err = max_err.max(dw_err);
    let _ = writeln!(w, "ZANT-REPORT v1");
    let _ = writeln!(w, "mode=test");
    let _ = writeln!(w, "dw_cases={dw_cases}");
    let _ = write!(w, "variants=");
    for (i, v) in VARIANTS.iter().enumerate() {
        let _ = write!(w, "{}{}", if i > 0 { "," } else { "" }, v.name());
    }
    let _ = writeln!(w);
    let _ = writeln!(w, "cases={cases}");
    let _ = writeln!(w, "failures={failures}");
    let _ = writeln!(w, "max_abs_err={max_err:e}");
    let _ = writeln!(w, "ZANT-END");
    failures == 0
}

/// Runs one depthwise plane call (4 rows of `ow` outputs, stride `s`)
/// between the markers.
fn bench_dw(w: &mut Out, v: Variant, s: usize, ow: usize) -> bool {
    let mut rng = Rng(7);
    let (g, xlen) = make_dw(&mut rng, s, 4, ow, 0);
    // SAFETY: as in make_case; nothing else borrows A and B now.
    let (a, b) = unsafe { (&*core::ptr::addr_of!(A), &*core::ptr::addr_of!(B)) };
    let mut y = [0.0f32; 4 * 256];
    let (x, wt) = black_box((&b[..xlen], &a[..9]));
    zant_bench_start();
    dw3_of(v, s, x, wt, 0.25, Activation::Relu, &mut y[..4 * ow], &g);
    zant_bench_end();
    let y = black_box(y);
    let _ = writeln!(w, "ZANT-REPORT v1");
    let _ = writeln!(w, "mode=bench");
    let _ = writeln!(w, "variant={}", v.name());
    let _ = writeln!(w, "checksum={:e}", y.iter().sum::<f32>());
    let _ = writeln!(w, "ZANT-END");
    true
}

/// Runs one call between the markers.
fn bench(w: &mut Out, v: Variant, kernel: u8, k: usize, sb: usize) -> bool {
    let mut rng = Rng(7);
    let ldb = 4 * sb + 1;
    let c = make_case(&mut rng, kernel, k, ldb, sb);
    let mut acc = [[0.0f32; 4]; 4];
    let c = black_box(c);
    zant_bench_start();
    dispatch(v, c, &mut acc);
    zant_bench_end();
    let acc = black_box(acc);
    let _ = writeln!(w, "ZANT-REPORT v1");
    let _ = writeln!(w, "mode=bench");
    let _ = writeln!(w, "variant={}", v.name());
    let _ = writeln!(w, "kernel={kernel}");
    let _ = writeln!(w, "k={k}");
    let _ = writeln!(w, "sb={sb}");
    let _ = writeln!(w, "checksum={:e}", acc.iter().flatten().sum::<f32>());
    let _ = writeln!(w, "ZANT-END");
    true
}

/// The semihosting command line (QEMU: the ELF path, then `-append`).
fn cmdline(buf: &mut [u8; 256]) -> &str {
    let mut block = [buf.as_mut_ptr() as usize, buf.len()];
    // SAFETY: SYS_GET_CMDLINE writes at most block[1] bytes to block[0] and
    // the length it wrote to block[1]; both outlive the call.
    let r = unsafe { syscall1!(GET_CMDLINE, block.as_mut_ptr()) };
    if r != 0 {
        return "";
    }
    let n = block[1].min(buf.len());
    core::str::from_utf8(&buf[..n]).unwrap_or("")
}

#[entry]
fn main() -> ! {
    let mut w = Out;
    let mut buf = [0u8; 256];
    let line = cmdline(&mut buf);
    let mut words = line.split_whitespace().skip_while(|&s| s != "bench");
    let ok = if words.next() == Some("bench") {
        let parsed = (|| {
            let v = Variant::parse(words.next()?)?;
            let kernel = match words.next()? {
                "mk4x4" => 0,
                "mk4x4_ind" => 1,
                "mk8x1" => 2,
                "mk4x4_taps" => 3,
                "dw3" => 4,
                _ => return None,
            };
            let k: usize = words.next()?.parse().ok()?;
            let sb: usize = words.next()?.parse().ok()?;
            (k <= MAX_K && (k == 0 || (k - 1) * (4 * sb + 1) + 3 * sb < MAX_B) && sb < 64)
                .then_some((v, kernel, k, sb))
        })();
        match parsed {
            Some((v, 4, k, sb)) if (1..=2).contains(&sb) && (1..=256).contains(&k) => {
                bench_dw(&mut w, v, sb, k)
            }
            Some((v, kernel, k, sb)) => bench(&mut w, v, kernel, k, sb),
            None => {
                let _ = writeln!(w, "ZANT-PANIC bad bench arguments: {line}");
                false
            }
        }
    } else {
        test(&mut w)
    };
    finish(ok)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let _ = writeln!(Out, "ZANT-PANIC {}", info);
    finish(false)
}

#[exception]
unsafe fn HardFault(ef: &ExceptionFrame) -> ! {
    let _ = writeln!(Out, "ZANT-FAULT pc=0x{:08x} lr=0x{:08x}", ef.pc(), ef.lr());
    finish(false)
}
