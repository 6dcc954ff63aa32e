//! Helium (MVE, Cortex-M55) 8-bit dot products for the integer matrix
//! product [`qfast::conv8`](super::super::qfast::conv8): `VMLADAVA.S8`
//! multiplies two vectors of 16 `i8` lane by lane and adds the sum of the 16
//! products to a general register, 16 multiply-accumulates an instruction.
//!
//! `dot3x2` holds six sums (three column rows × two weight rows) in the
//! even registers `r0`–`r10` (`VMLADAVA` takes only even ones); a pass of
//! its `wls`/`le` loop is five 16-byte loads and six `VMLADAVA`: 12
//! instructions for 96 multiply-accumulates. One call runs every pair of
//! weight rows it is given, so the call costs once per block of output
//! channels. `dot1x4` (one column row × four weight rows) takes 10 for 64.
//!
//! The kernels are naked functions with the `.cpu cortex-m55` directive, so
//! they assemble on every hard-float Arm target; only a core with MVE may
//! run them (the board's kernel set decides). They use `q0`–`q3` only
//! (caller-saved).

use super::super::qfast::conv8::{Dot8, Taps};
use super::super::qfast::Rescale;
use super::super::reference::quant::QuantInt;

/// [`Dot8`] on `VMLADAVA.S8`. Only for cores with Helium.
#[derive(Clone, Copy, Debug, Default)]
pub struct HeliumDot;

/// What the kernels read, passed by address in `r0`.
#[repr(C)]
#[derive(Debug)]
struct Args {
    /// Column rows.
    col: *const i8,
    /// Weight rows.
    w: *const i8,
    /// Bytes of a row, a nonzero multiple of 16.
    kp: usize,
    /// `kp / 16`.
    steps: usize,
    /// Sums, written.
    acc: *mut i32,
    /// Groups of weight rows (pairs or quads), at least 1.
    groups: usize,
    /// Bytes between the sums of consecutive weight rows (`dot3x2` only).
    ld: usize,
}

/// `dot3x2` on `*args`: for each pair of weight rows, the first step with
/// `VMLADAV` (no accumulation), the others in a `wls`/`le` loop, the six
/// sums stored; the column pointers step back for the next pair.
///
/// # Safety
///
/// `args` points to an [`Args`] whose `col` holds `3·kp` bytes, `w`
/// `2·groups·kp` bytes and `acc` three writable `i32` from each
/// `r·ld` bytes, `r < 2·groups`, with `steps = kp / 16 ≥ 1` and
/// `groups ≥ 1`; the core has MVE.
#[unsafe(naked)]
unsafe extern "C" fn dot3x2_asm(args: *const Args) {
    core::arch::naked_asm!(
        ".cpu cortex-m55",
        "push {{r4-r11, lr}}",
        "sub sp, #12",       // [sp] acc, [sp, #4] steps - 1, [sp, #8] ld
        "ldr r1, [r0]",      // column row 0
        "ldr r9, [r0, #4]",  // weight row 0 of the first pair
        "ldr r11, [r0, #8]", // kp
        "ldr r2, [r0, #12]", // steps
        "subs r2, #1",
        "str r2, [sp, #4]",
        "ldr r2, [r0, #16]", // acc
        "str r2, [sp]",
        "ldr r2, [r0, #24]", // ld
        "str r2, [sp, #8]",
        "ldr r12, [r0, #20]", // pairs
        "add r3, r1, r11",    // column row 1
        "add r5, r3, r11",    // column row 2
        "2:",
        "mov r7, r9",      // weight row 0 of the pair
        "add r9, r7, r11", // weight row 1
        "vldrb.u8 q0, [r1], #16",
        "vldrb.u8 q1, [r3], #16",
        "vldrb.u8 q2, [r5], #16",
        "vldrb.u8 q3, [r7], #16",
        "vmladav.s8 r0, q0, q3",
        "vmladav.s8 r4, q1, q3",
        "vmladav.s8 r8, q2, q3",
        "vldrb.u8 q3, [r9], #16",
        "vmladav.s8 r2, q0, q3",
        "vmladav.s8 r6, q1, q3",
        "vmladav.s8 r10, q2, q3",
        "ldr lr, [sp, #4]",
        "wls lr, lr, 3f",
        "1:",
        "vldrb.u8 q0, [r1], #16",
        "vldrb.u8 q1, [r3], #16",
        "vldrb.u8 q2, [r5], #16",
        "vldrb.u8 q3, [r7], #16",
        "vmladava.s8 r0, q0, q3",
        "vmladava.s8 r4, q1, q3",
        "vmladava.s8 r8, q2, q3",
        "vldrb.u8 q3, [r9], #16",
        "vmladava.s8 r2, q0, q3",
        "vmladava.s8 r6, q1, q3",
        "vmladava.s8 r10, q2, q3",
        "le lr, 1b",
        "3:",
        "ldr lr, [sp]",
        "stm lr, {{r0, r4, r8}}", // row 0 at the three positions
        "ldr r0, [sp, #8]",
        "add lr, lr, r0",
        "stm lr, {{r2, r6, r10}}", // row 1
        "add lr, lr, r0",
        "str lr, [sp]",
        "sub r1, r1, r11",
        "sub r3, r3, r11",
        "sub r5, r5, r11",
        "subs r12, #1",
        "bne 2b",
        "add sp, #12",
        "pop {{r4-r11, pc}}",
    )
}

/// `dot1x4` on `*args`: as [`dot3x2_asm`] with one column row and quads
/// of weight rows.
///
/// # Safety
///
/// `args` points to an [`Args`] whose `col` holds `kp` bytes, `w`
/// `4·groups·kp` bytes and `acc` `4·groups` writable `i32`, with
/// `steps = kp / 16 ≥ 1` and `groups ≥ 1`; the core has MVE.
#[unsafe(naked)]
unsafe extern "C" fn dot1x4_asm(args: *const Args) {
    core::arch::naked_asm!(
        ".cpu cortex-m55",
        "push {{r4-r11, lr}}",
        "ldr r1, [r0]",       // the column row
        "ldr r9, [r0, #4]",   // weight row 0 of the first quad
        "ldr r11, [r0, #8]",  // kp
        "ldr r10, [r0, #12]", // steps
        "ldr r8, [r0, #16]",  // acc
        "ldr r12, [r0, #20]", // quads
        "subs r10, #1",
        "2:",
        "mov r3, r9",
        "add r5, r3, r11",
        "add r7, r5, r11",
        "add r9, r7, r11",
        "vldrb.u8 q0, [r1], #16",
        "vldrb.u8 q1, [r3], #16",
        "vldrb.u8 q2, [r5], #16",
        "vldrb.u8 q3, [r7], #16",
        "vmladav.s8 r0, q0, q1",
        "vmladav.s8 r2, q0, q2",
        "vmladav.s8 r4, q0, q3",
        "vldrb.u8 q1, [r9], #16",
        "vmladav.s8 r6, q0, q1",
        "wls lr, r10, 3f",
        "1:",
        "vldrb.u8 q0, [r1], #16",
        "vldrb.u8 q1, [r3], #16",
        "vldrb.u8 q2, [r5], #16",
        "vldrb.u8 q3, [r7], #16",
        "vmladava.s8 r0, q0, q1",
        "vmladava.s8 r2, q0, q2",
        "vmladava.s8 r4, q0, q3",
        "vldrb.u8 q1, [r9], #16",
        "vmladava.s8 r6, q0, q1",
        "le lr, 1b",
        "3:",
        "stm r8!, {{r0, r2, r4, r6}}",
        "sub r1, r1, r11",
        "subs r12, #1",
        "bne 2b",
        "pop {{r4-r11, pc}}",
    )
}

/// What [`gather3_asm`] reads, passed by address in `r0`.
#[repr(C)]
#[derive(Debug)]
struct GatherArgs {
    /// The input bytes.
    x: *const u8,
    /// Offsets of the three positions in `x`.
    at: [usize; 3],
    /// Bytes between input channels.
    plane: usize,
    /// Input channels, at least 1.
    k: usize,
    /// First column row.
    col: *mut i8,
    /// Bytes between column rows.
    kp: usize,
    /// 0x80 (unsigned input) or 0, XORed into every byte.
    flip: u32,
}

/// The columns of three positions of a 1×1 convolution: for each, a
/// tail-predicated loop of gathers of four channels (`VLDRB.U32` with the
/// offsets `0, plane, 2·plane, 3·plane`), the XOR with `flip`, and a
/// four-byte store (`VSTRB.32`).
///
/// # Safety
///
/// `args` points to a [`GatherArgs`] whose `x` holds every byte
/// `at[s] + i·plane` and `col` `k` writable bytes from each `s·kp`, for
/// `i < k`, `s < 3`, with `k ≥ 1`; the core has MVE.
#[unsafe(naked)]
unsafe extern "C" fn gather3_asm(args: *const GatherArgs) {
    core::arch::naked_asm!(
        ".cpu cortex-m55",
        "push {{r4-r11, lr}}",
        "ldm r0, {{r1-r9}}", // r1 x, r2-r4 at, r5 plane, r6 k, r7 col, r8 kp, r9 flip
        "movs r10, #0",
        "vidup.u32 q0, r10, #1", // 0, 1, 2, 3
        "vmul.i32 q0, q0, r5",   // channel offsets
        "vdup.32 q3, r9",
        "lsls r5, r5, #2", // four channels
        "add r2, r1",
        "add r3, r1",
        "add r4, r1",
        "mov r0, r7",
        "dlstp.32 lr, r6",
        "1:",
        "vldrb.u32 q1, [r2, q0]",
        "add r2, r5",
        "veor q1, q1, q3",
        "vstrb.32 q1, [r0], #4",
        "letp lr, 1b",
        "add r0, r7, r8",
        "dlstp.32 lr, r6",
        "2:",
        "vldrb.u32 q1, [r3, q0]",
        "add r3, r5",
        "veor q1, q1, q3",
        "vstrb.32 q1, [r0], #4",
        "letp lr, 2b",
        "add r0, r7, r8, lsl #1",
        "dlstp.32 lr, r6",
        "3:",
        "vldrb.u32 q1, [r4, q0]",
        "add r4, r5",
        "veor q1, q1, q3",
        "vstrb.32 q1, [r0], #4",
        "letp lr, 3b",
        "pop {{r4-r11, pc}}",
    )
}

/// What [`gather_asm`] reads, passed by address in `r0`.
#[repr(C)]
#[derive(Debug)]
struct TapArgs {
    /// The window's first input byte.
    x: *const u8,
    /// Offsets of the taps.
    taps: *const u16,
    /// Taps, at least 1.
    k: usize,
    /// The column.
    col: *mut i8,
    /// 0x80 (unsigned input) or 0, XORed into every byte.
    flip: u32,
}

/// A window's column through a table of tap offsets: a tail-predicated
/// loop of four taps a pass, `VLDRH.U32` of their offsets, `VLDRB.U32`
/// gathering the inputs, the XOR with `flip` and `VSTRB.32`.
///
/// # Safety
///
/// `args` points to a [`TapArgs`] whose `taps` holds `k` offsets, `x` every
/// byte at them and `col` `k` writable bytes, with `k ≥ 1`; the core has
/// MVE.
#[unsafe(naked)]
unsafe extern "C" fn gather_asm(args: *const TapArgs) {
    core::arch::naked_asm!(
        ".cpu cortex-m55",
        "push {{r4, lr}}",
        "ldm r0, {{r1-r4, r12}}", // r1 x, r2 taps, r3 k, r4 col, r12 flip
        "vdup.32 q3, r12",
        "dlstp.32 lr, r3",
        "1:",
        "vldrh.u32 q0, [r2], #8",
        "vldrb.u32 q1, [r1, q0]",
        "veor q1, q1, q3",
        "vstrb.32 q1, [r4], #4",
        "letp lr, 1b",
        "pop {{r4, pc}}",
    )
}

/// What [`store_fused_asm`] reads, passed by address in `r0`.
#[repr(C)]
#[derive(Debug)]
struct StoreArgs {
    /// Sums, `per` per channel.
    sums: *const i32,
    /// Outputs per channel, at least 1.
    per: usize,
    /// Bias of each channel.
    bias: *const i32,
    /// Constants of each channel.
    rq: *const Rescale,
    /// Channels, at least 1.
    n: usize,
    /// First output byte of channel 0.
    y: *mut u8,
    /// Bytes between the outputs of consecutive channels.
    npos: usize,
    /// Smallest output.
    lo: i32,
    /// Largest output.
    hi: i32,
}

// `store_fused_asm` reads the fields of a `Rescale` at their offsets
// (`const` operands), within the range of its loads' immediates.
const _: () = assert!(core::mem::size_of::<Rescale>() < 256);

/// The fused requantization ([`Rescale::apply_fused`]) of every
/// [`Rescale::fused`] channel, four outputs a pass of a tail-predicated
/// loop: `hi(v·mult + round)` as `VMULH` (high word) plus `round_hi` plus
/// the carry of the low words (`VMUL` low word + `round_lo`, compared
/// unsigned), shifted right by `shift_hi` (`VSHL` by its negation), clamped
/// and stored as bytes (`VSTRB.32`). Exact: the same 64-bit sum, in halves.
///
/// # Safety
///
/// `args` points to a [`StoreArgs`] whose `sums` holds `n·per` `i32`,
/// `bias` `n` `i32`, `rq` `n` [`Rescale`] and `y` `per` writable bytes from
/// each `c·npos`, `c < n`, with `per ≥ 1` and `n ≥ 1`; the core has MVE.
#[unsafe(naked)]
unsafe extern "C" fn store_fused_asm(args: *const StoreArgs) {
    core::arch::naked_asm!(
        ".cpu cortex-m55",
        "push {{r4-r11, lr}}",
        "vpush {{d8-d15}}",
        "sub sp, #4",
        "ldm r0, {{r1-r9}}", // r1 sums, r2 per, r3 bias, r4 rq, r5 n, r6 y, r7 npos
        "str r2, [sp]",      // per
        "vdup.32 q4, r8",    // lo
        "vdup.32 q5, r9",    // hi
        "vmov.i32 q6, #1",
        "1:",
        "ldrb r9, [r4, #{wz}]",
        "cmp r9, #0",
        "beq 8f",
        "ldr r9, [r4, #{mult}]",
        "ldrsb r10, [r4, #{shift}]",
        "rsbs r10, r10, #0", // as a right shift
        "ldr r11, [r4, #{rlo}]",
        "ldr r12, [r4, #{rhi}]",
        "ldr r0, [r3]",            // bias
        "vdup.32 q7, r9",
        "mov r8, r1",
        "mov r2, r6", // VSTRB.32 with writeback takes r0-r7
        "ldr lr, [sp]",
        "dlstp.32 lr, lr",
        "2:",
        "vldrw.u32 q0, [r8], #16",
        "vadd.i32 q0, q0, r0",  // v = sum + bias
        "vmulh.s32 q1, q0, q7", // high word of v·mult
        "vmul.i32 q2, q0, r9",  // low word
        "vadd.i32 q3, q2, r11", // low word + round_lo
        "vadd.i32 q1, q1, r12", // high word + round_hi
        "vcmp.u32 hi, q2, q3",  // the low add carried
        "vpst",
        "vaddt.i32 q1, q1, q6",
        "vshl.s32 q1, r10",
        "vmax.s32 q1, q1, q4",
        "vmin.s32 q1, q1, q5",
        "vstrb.32 q1, [r2], #4",
        "letp lr, 2b",
        "8:",
        "adds r3, #4",
        "adds r4, #{size}",
        "ldr r2, [sp]",
        "add r1, r1, r2, lsl #2",
        "add r6, r6, r7",
        "subs r5, #1",
        "bne 1b",
        "add sp, #4",
        "vpop {{d8-d15}}",
        "pop {{r4-r11, pc}}",
        wz = const core::mem::offset_of!(Rescale, with_zero_point),
        mult = const core::mem::offset_of!(Rescale, mult),
        shift = const core::mem::offset_of!(Rescale, shift_hi),
        rlo = const core::mem::offset_of!(Rescale, round_lo),
        rhi = const core::mem::offset_of!(Rescale, round_hi),
        size = const core::mem::size_of::<Rescale>(),
    )
}

/// Checks a row length and the operand lengths; the number of 16-byte
/// steps.
///
/// # Panics
///
/// If `kp` is not a nonzero multiple of 16 or a slice is shorter than the
/// rows it must hold.
fn check(kp: usize, col: &[i8], cols: usize, w: &[i8], rows: usize) -> usize {
    assert!(
        kp != 0 && kp.is_multiple_of(16),
        "Helium dot product: row length {kp} is not a nonzero multiple of 16"
    );
    assert!(
        col.len() >= cols * kp && w.len() >= rows * kp,
        "Helium dot product: operands shorter than their rows"
    );
    kp / 16
}

impl Dot8 for HeliumDot {
    #[inline]
    fn dot3x2(col: &[i8], w: &[i8], kp: usize, pairs: usize, acc: &mut [i32], ld: usize) {
        let steps = check(kp, col, 3, w, 2 * pairs);
        if pairs == 0 {
            return;
        }
        assert!(
            ld >= 3 && acc.len() >= (2 * pairs - 1) * ld + 3,
            "Helium dot product: sums shorter than their rows"
        );
        let args = Args {
            col: col.as_ptr(),
            w: w.as_ptr(),
            kp,
            steps,
            acc: acc.as_mut_ptr(),
            groups: pairs,
            ld: ld * 4,
        };
        // SAFETY: `check` and the assertion proved the lengths, `steps ≥ 1`
        // and `pairs ≥ 1`. MVE: see the module documentation.
        unsafe { dot3x2_asm(&args) };
    }

    #[inline]
    fn dot1x4(col: &[i8], w: &[i8], kp: usize, acc: &mut [i32]) {
        let groups = acc.len() / 4;
        let steps = check(kp, col, 1, w, 4 * groups);
        if groups == 0 {
            return;
        }
        let args = Args {
            col: col.as_ptr(),
            w: w.as_ptr(),
            kp,
            steps,
            acc: acc.as_mut_ptr(),
            groups,
            ld: 0,
        };
        // SAFETY: as in `dot3x2`, with one column row and quads of weight
        // rows; `acc` holds `4·groups` `i32`.
        unsafe { dot1x4_asm(&args) };
    }

    #[inline]
    fn gather3<X: QuantInt>(
        x: &[X],
        at: [usize; 3],
        plane: usize,
        k: usize,
        col: &mut [i8],
        kp: usize,
    ) {
        if k == 0 {
            return;
        }
        let last = at[0].max(at[1]).max(at[2]) + (k - 1) * plane;
        assert!(
            last < x.len() && k <= kp && col.len() >= 2 * kp + k,
            "Helium gather: operands shorter than their rows"
        );
        if core::mem::size_of::<X>() != 1 {
            // Only byte inputs here.
            return <super::super::qfast::conv8::PortableDot as Dot8>::gather3(
                x, at, plane, k, col, kp,
            );
        }
        let args = GatherArgs {
            x: x.as_ptr().cast(),
            at,
            plane,
            k,
            col: col.as_mut_ptr(),
            kp,
            flip: if X::QMIN == 0 { 0x80 } else { 0 },
        };
        // SAFETY: the assertion proved every byte read and written in
        // bounds (inputs are bytes). MVE: see the module documentation.
        unsafe { gather3_asm(&args) };
    }

    #[inline]
    fn gather<X: QuantInt>(x: &[X], base: usize, taps: &Taps<'_>, col: &mut [i8]) {
        let k = col.len().min(taps.offsets().len());
        if k == 0 {
            return;
        }
        assert!(
            base + taps.max() < x.len(),
            "Helium gather: taps past the end of the input"
        );
        if core::mem::size_of::<X>() != 1 {
            // Only byte inputs here.
            return <super::super::qfast::conv8::PortableDot as Dot8>::gather(x, base, taps, col);
        }
        let args = TapArgs {
            // SAFETY: `base < x.len()` (asserted above).
            x: unsafe { x.as_ptr().add(base) }.cast(),
            taps: taps.offsets().as_ptr(),
            k,
            col: col.as_mut_ptr(),
            flip: if X::QMIN == 0 { 0x80 } else { 0 },
        };
        // SAFETY: every offset is at most `taps.max()`, so every byte read
        // is inside `x` (asserted); `col` and the table hold `k` entries.
        // MVE: see the module documentation.
        unsafe { gather_asm(&args) };
    }

    #[inline]
    fn store_fused<Y: QuantInt>(
        sums: &[i32],
        per: usize,
        bias: &[i32],
        rq: &[Rescale],
        lo: i32,
        hi: i32,
        y: &mut [Y],
        npos: usize,
    ) {
        let n = bias.len().min(rq.len());
        if n == 0 || per == 0 {
            return;
        }
        assert!(
            sums.len() >= n * per && per <= npos && y.len() >= (n - 1) * npos + per,
            "Helium requantization: operands shorter than their rows"
        );
        if core::mem::size_of::<Y>() != 1 {
            // Only byte outputs here.
            return <super::super::qfast::conv8::PortableDot as Dot8>::store_fused(
                sums, per, bias, rq, lo, hi, y, npos,
            );
        }
        let args = StoreArgs {
            sums: sums.as_ptr(),
            per,
            bias: bias.as_ptr(),
            rq: rq.as_ptr(),
            n,
            y: y.as_mut_ptr().cast(),
            npos,
            lo,
            hi,
        };
        // SAFETY: the assertion proved the lengths (outputs are bytes);
        // the kernel reads each `Rescale` at its fields' offsets. MVE: see
        // the module documentation.
        unsafe { store_fused_asm(&args) };
    }
}
