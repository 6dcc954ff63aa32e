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
    #[cfg(feature = "helium")]
    let q8_cases = {
        let (n, f) = q8::test(w, &mut rng);
        failures += f;
        n
    };
    #[cfg(not(feature = "helium"))]
    let q8_cases = 0u32;
    let _ = writeln!(w, "ZANT-REPORT v1");
    let _ = writeln!(w, "mode=test");
    let _ = writeln!(w, "dw_cases={dw_cases}");
    let _ = writeln!(w, "q8_cases={q8_cases}");
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

/// The Helium `i8` matrix product (`qfast::conv8` with `HeliumDot`)
/// against its plain-Rust twin (`PortableDot`, tested against the integer
/// reference on the host), bit for bit.
#[cfg(feature = "helium")]
mod q8 {
    use super::{Out, Rng};
    use core::fmt::Write as _;
    use zant_kernels::arm::dsp::Dsp;
    use zant_kernels::arm::mve_int::HeliumDot;
    use zant_kernels::qfast::conv::QConvGemmParams;
    use zant_kernels::qfast::conv8::{self, PortableDot};
    use zant_kernels::qfast::{fold_bias, Portable, Rescale};
    use zant_kernels::reference::qint::{QOut, Requant};
    use zant_kernels::reference::quant::QuantInt;

    const MAX_X: usize = 4096;
    const MAX_W: usize = 16 * 1024;
    const MAX_C: usize = 72;
    const MAX_Y: usize = 8 * 1024;
    static mut X: [u8; MAX_X] = [0; MAX_X];
    static mut W: [i8; MAX_W] = [0; MAX_W];
    static mut WV: [i32; MAX_W] = [0; MAX_W];
    static mut Y0: [u8; MAX_Y] = [0; MAX_Y];
    static mut Y1: [u8; MAX_Y] = [0; MAX_Y];

    fn range(r: &mut Rng, lo: i32, hi: i32) -> i32 {
        lo + r.below((hi - lo + 1) as usize) as i32
    }

    /// Runs `cases` random convolutions; returns (cases, failures).
    pub fn test(w: &mut Out, rng: &mut Rng) -> (u32, u32) {
        let (mut cases, mut failures) = (0u32, 0u32);
        for n in 0..300u32 {
            let signed = n % 2 == 1;
            let ok = if signed {
                case::<i8>(rng, n)
            } else {
                case::<u8>(rng, n)
            };
            match ok {
                None => {}
                Some(true) => cases += 1,
                Some(false) => {
                    cases += 1;
                    failures += 1;
                    if failures <= 5 {
                        let _ = writeln!(w, "mismatch q8 case={n} signed={signed}");
                    }
                }
            }
        }
        (cases, failures)
    }

    /// One random case (`None` when it does not fit the buffers).
    fn case<X: QuantInt>(r: &mut Rng, n: u32) -> Option<bool> {
        // Pointwise (a third), fully connected (a tenth), general.
        let (cin, kh, kw, s, d, pad) = match n % 10 {
            0 => (1 + r.below(300), 1, 1, 1, 1, 0),
            1..=3 => (1 + r.below(80), 1, 1, 1 + r.below(2), 1, 0),
            _ => (
                1 + r.below(12),
                1 + r.below(5),
                1 + r.below(4),
                1 + r.below(2),
                1 + r.below(2),
                r.below(3),
            ),
        };
        let (ih, iw) = if n.is_multiple_of(10) {
            (1, 1)
        } else {
            (1 + r.below(9), 1 + r.below(9))
        };
        let cout = 1 + r.below(MAX_C);
        let span = |i: usize, k: usize| i + 2 * pad > (k - 1) * d;
        if !span(ih, kh) || !span(iw, kw) {
            return None;
        }
        let oh = (ih + 2 * pad - (kh - 1) * d - 1) / s + 1;
        let ow = (iw + 2 * pad - (kw - 1) * d - 1) / s + 1;
        let k = cin * kh * kw;
        if cin * ih * iw > MAX_X
            || conv8::packed_len8(cout, k) > MAX_W
            || cout * k > MAX_W
            || cout * oh * ow > MAX_Y
        {
            return None;
        }
        // SAFETY: the test runs once, single-threaded; nothing else
        // borrows the buffers.
        let (x, wp, wv, y0, y1) = unsafe {
            (
                &mut *core::ptr::addr_of_mut!(X),
                &mut *core::ptr::addr_of_mut!(W),
                &mut *core::ptr::addr_of_mut!(WV),
                &mut *core::ptr::addr_of_mut!(Y0),
                &mut *core::ptr::addr_of_mut!(Y1),
            )
        };
        let x: &mut [X] = unsafe {
            // SAFETY: `X` is a one-byte integer (u8 or i8): any byte is one.
            core::slice::from_raw_parts_mut(x.as_mut_ptr().cast(), cin * ih * iw)
        };
        for v in x.iter_mut() {
            *v = X::from_i32(range(r, X::QMIN, X::QMAX));
        }
        let wv = &mut wv[..cout * k];
        for v in wv.iter_mut() {
            *v = range(r, -128, 127);
        }
        let xz = range(r, X::QMIN, X::QMAX);
        let mut bias = [0i32; MAX_C];
        let mut rq = [Rescale::new(Requant { mult: 0, shift: 32 }); MAX_C];
        let mut folded = [0i32; MAX_C];
        for b in &mut bias[..cout] {
            *b = range(r, -20_000, 20_000);
        }
        fold_bias(wv, k, &bias[..cout], xz, &mut folded[..cout]);
        let out = QOut {
            zero_point: range(r, X::QMIN, X::QMAX),
            min: X::QMIN + range(r, 0, 30) * !n.is_multiple_of(3) as i32,
            max: X::QMAX - range(r, 0, 30) * !n.is_multiple_of(3) as i32,
        };
        for (c, q) in rq[..cout].iter_mut().enumerate() {
            let m = match r.below(8) {
                0 => range(r, 1, 3000) as f64 * 1e-3,
                1 => 0.0,
                _ => range(r, 1, 4000) as f64 * 1e-5,
            };
            let req = Requant::from_f64(m)?;
            let (lo, hi) = wv[c * k..][..k].iter().fold(
                (folded[c] as i64, folded[c] as i64),
                |(lo, hi), &v| {
                    let (a, b) = (v as i64 * X::QMIN as i64, v as i64 * X::QMAX as i64);
                    (lo + a.min(b), hi + a.max(b))
                },
            );
            *q = Rescale::fused(req, out.zero_point, lo, hi).unwrap_or(Rescale::new(req));
        }
        let wp = &mut wp[..conv8::packed_len8(cout, k)];
        conv8::pack_weights8(wv, cout, k, wp);
        let mut bias8 = [0i32; MAX_C];
        conv8::fold_bias8(
            wv,
            k,
            &bias[..cout],
            xz,
            conv8::x_offset::<X>(),
            &mut bias8[..cout],
        );
        let p = QConvGemmParams {
            in_channels: cin,
            out_channels: cout,
            in_hw: [ih, iw],
            out_hw: [oh, ow],
            kernel: [kh, kw],
            strides: [s, s],
            dilations: [d, d],
            pads_begin: [pad, pad],
            x_zero_point: xz,
            out,
        };
        let mut col = [0x33i8; 4 * 1024];
        let ny = cout * oh * ow;
        let (y0, y1): (&mut [X], &mut [X]) = unsafe {
            // SAFETY: as for `x`.
            (
                core::slice::from_raw_parts_mut(y0.as_mut_ptr().cast(), ny),
                core::slice::from_raw_parts_mut(y1.as_mut_ptr().cast(), ny),
            )
        };
        conv8::conv::<PortableDot, Portable, X, X>(x, wp, &bias8, &rq, &mut col, y0, &p);
        col.fill(0x55);
        conv8::conv::<HeliumDot, Dsp, X, X>(x, wp, &bias8, &rq, &mut col, y1, &p);
        Some(
            y0.iter()
                .zip(y1.iter())
                .all(|(a, b)| a.to_i32() == b.to_i32()),
        )
    }
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
