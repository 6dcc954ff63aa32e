//! Micro-kernels for Helium (MVE-F, Cortex-M55): vector-by-scalar fused
//! multiply-add `vfma.f32 Qda, Qn, Rm`, 128-bit loads `vldrw.32` and
//! low-overhead loops (`dls`/`le`).
//!
//! `mk4x4` keeps the accumulators as four vectors, one per column `j`
//! (`q_j[i] = acc[i][j]`; the interleaving loads and stores `vld4x`/`vst4x`
//! transpose them in and out), loads four `a` at once into a vector and the
//! four `b` of a step into integer registers with one `ldm`. With `sb == 1`
//! two steps cost 2 `vldrw`, 2 `ldm`, 2 pointer increments, 8 `vfma` and one
//! `le`: 15 instructions for 32 multiply-accumulates.
//!
//! The kernels carry a `.cpu cortex-m55` directive so they
//! assemble on every hard-float Arm target; only a core with MVE may run
//! them (the board's kernel set decides).

use super::super::fast::depthwise::{check_plane, plane, Plane};
use super::super::micro::{
    check_mk4x4, check_mk4x4_ind, check_mk4x4_taps, check_mk8x1, check_store, Micro, Taps,
};
use super::super::reference::activation::Activation;
use super::{Args, DwArgs, StoreArgs};

/// Helium (MVE-F) micro-kernels.
#[derive(Clone, Copy, Debug, Default)]
pub struct Helium;

/// The assembler state the kernels need. Module-level assembly shares one
/// assembler state, which this directive changes for whatever follows it, so
/// it names the Cortex-M55: v8.1-M Mainline with DSP, the double-precision
/// FPv5 and MVE-F, a superset of every hard-float Cortex-M target (v7E-M,
/// v8-M Mainline), so later assembly that assembled before still does
/// (`.arch armv8.1-m.main` would drop the FPU and DSP for it).
macro_rules! arch {
    () => {
        ".cpu cortex-m55\n"
    };
}

/// The 4 `vfma` of one step: `q_j += qa * r_j`.
macro_rules! fma4 {
    ($qa:literal, $r0:literal, $r1:literal, $r2:literal, $r3:literal) => {
        concat!(
            "vfma.f32 q0, ",
            $qa,
            ", ",
            $r0,
            "\n",
            "vfma.f32 q1, ",
            $qa,
            ", ",
            $r1,
            "\n",
            "vfma.f32 q2, ",
            $qa,
            ", ",
            $r2,
            "\n",
            "vfma.f32 q3, ",
            $qa,
            ", ",
            $r3,
            "\n",
        )
    };
}

/// Saves registers, reads `Args` (r1 a, r2 b, r3 k, r4 ldb, r5 sb, r6 acc,
/// r7 offs) and loads the accumulators transposed into `q0`–`q3`.
macro_rules! enter4x4 {
    () => {
        concat!(
            arch!(),
            "push {{r4-r11, lr}}\n",
            "vpush {{d8-d15}}\n",
            "ldm r0, {{r1-r7}}\n",
            "vld40.32 {{q0, q1, q2, q3}}, [r6]\n",
            "vld41.32 {{q0, q1, q2, q3}}, [r6]\n",
            "vld42.32 {{q0, q1, q2, q3}}, [r6]\n",
            "vld43.32 {{q0, q1, q2, q3}}, [r6]\n",
        )
    };
}

/// Stores the accumulators back row-major and returns.
macro_rules! leave4x4 {
    () => {
        concat!(
            "vst40.32 {{q0, q1, q2, q3}}, [r6]\n",
            "vst41.32 {{q0, q1, q2, q3}}, [r6]\n",
            "vst42.32 {{q0, q1, q2, q3}}, [r6]\n",
            "vst43.32 {{q0, q1, q2, q3}}, [r6]\n",
            "vpop {{d8-d15}}\n",
            "pop {{r4-r11, pc}}\n",
        )
    };
}

/// `mk4x4` on `*args` (`k ≥ 1`).
///
/// # Safety
///
/// `args` points to an [`Args`] whose `a` holds `4k` floats, whose `b` holds
/// every `t·ldb + j·sb` for `t < k`, `j < 4` (in bytes), and whose `acc`
/// holds 16 writable floats; the core has MVE-F.
#[unsafe(naked)]
unsafe extern "C" fn mk4x4_asm(args: *const Args) {
    core::arch::naked_asm!(
        enter4x4!(),
        "cmp r5, #4",
        "bne 5f",
        // sb == 1: an odd step first, then pairs of steps.
        "lsrs r0, r3, #1",
        "bcc 2f",
        "vldrw.u32 q4, [r1], #16",
        "ldm r2, {{r8-r11}}",
        "add r2, r4",
        fma4!("q4", "r8", "r9", "r10", "r11"),
        "2:",
        "cmp r0, #0",
        "beq 9f",
        "dls lr, r0",
        "1:",
        "vldrw.u32 q4, [r1], #16",
        "vldrw.u32 q5, [r1], #16",
        "ldm r2, {{r8-r11}}",
        "add r2, r4",
        "ldm r2, {{r0, r5, r7, r12}}",
        "add r2, r4",
        fma4!("q4", "r8", "r9", "r10", "r11"),
        fma4!("q5", "r0", "r5", "r7", "r12"),
        "le lr, 1b",
        "b 9f",
        // Any sb: column offsets sb, 2sb, 3sb in r8-r10.
        "5:",
        "mov r8, r5",
        "add r9, r5, r5",
        "add r10, r9, r5",
        "dls lr, r3",
        "6:",
        "vldrw.u32 q4, [r1], #16",
        "ldr r0, [r2]",
        "ldr r5, [r2, r8]",
        "ldr r7, [r2, r9]",
        "ldr r12, [r2, r10]",
        "add r2, r4",
        fma4!("q4", "r0", "r5", "r7", "r12"),
        "le lr, 6b",
        "9:",
        leave4x4!(),
    )
}

/// `mk4x4_store` on `*args` (`k ≥ 1`): the `sb = 1` loop of
/// [`mk4x4_asm`], then `Relu` on the accumulators if asked (`vcmp.f32 lt`
/// with 0 and `vpsel`: a NaN or -0.0 is kept, as in the reference), the
/// block turned row-major in `acc` (`vst4x`) and one `vstrw` a row.
///
/// # Safety
///
/// `args` points to a [`StoreArgs`] whose `a` holds `4k` floats, whose `b`
/// holds every `t·ldb + j` for `t < k`, `j < 4` (in floats), whose `acc`
/// holds 16 writable floats and whose `y` holds `(rows-1)·ldy + 16`
/// writable bytes with `rows` in `1..=4`; the core has MVE-F.
#[unsafe(naked)]
unsafe extern "C" fn mk4x4_store_asm(args: *const StoreArgs) {
    core::arch::naked_asm!(
        enter4x4!(),
        "push {{r0}}",
        "lsrs r0, r3, #1",
        "bcc 2f",
        "vldrw.u32 q4, [r1], #16",
        "ldm r2, {{r8-r11}}",
        "add r2, r4",
        fma4!("q4", "r8", "r9", "r10", "r11"),
        "2:",
        "cmp r0, #0",
        "beq 9f",
        "dls lr, r0",
        "1:",
        "vldrw.u32 q4, [r1], #16",
        "vldrw.u32 q5, [r1], #16",
        "ldm r2, {{r8-r11}}",
        "add r2, r4",
        "ldm r2, {{r0, r5, r7, r12}}",
        "add r2, r4",
        fma4!("q4", "r8", "r9", "r10", "r11"),
        fma4!("q5", "r0", "r5", "r7", "r12"),
        "le lr, 1b",
        "9:",
        "pop {{r0}}",
        "ldr r7, [r0, #24]",  // y
        "ldr r8, [r0, #28]",  // ldy
        "ldr r9, [r0, #32]",  // rows
        "ldr r10, [r0, #36]", // relu
        "cmp r10, #0",
        "beq 8f",
        "vmov.i32 q4, #0",
        "vcmp.f32 lt, q0, q4",
        "vpsel q0, q4, q0",
        "vcmp.f32 lt, q1, q4",
        "vpsel q1, q4, q1",
        "vcmp.f32 lt, q2, q4",
        "vpsel q2, q4, q2",
        "vcmp.f32 lt, q3, q4",
        "vpsel q3, q4, q3",
        "8:",
        "vst40.32 {{q0, q1, q2, q3}}, [r6]",
        "vst41.32 {{q0, q1, q2, q3}}, [r6]",
        "vst42.32 {{q0, q1, q2, q3}}, [r6]",
        "vst43.32 {{q0, q1, q2, q3}}, [r6]",
        "vldrw.u32 q4, [r6]",
        "vstrw.32 q4, [r7]",
        "cmp r9, #1",
        "beq 7f",
        "add r7, r8",
        "vldrw.u32 q4, [r6, #16]",
        "vstrw.32 q4, [r7]",
        "cmp r9, #2",
        "beq 7f",
        "add r7, r8",
        "vldrw.u32 q4, [r6, #32]",
        "vstrw.32 q4, [r7]",
        "cmp r9, #3",
        "beq 7f",
        "add r7, r8",
        "vldrw.u32 q4, [r6, #48]",
        "vstrw.32 q4, [r7]",
        "7:",
        "vpop {{d8-d15}}",
        "pop {{r4-r11, pc}}",
    )
}

/// `mk4x4_ind` on `*args` (`k ≥ 1`).
///
/// # Safety
///
/// As [`mk4x4_asm`], with `offs` holding `k` element offsets such that `b`
/// holds every `offs[t] + j·sb` for `j < 4`.
#[unsafe(naked)]
unsafe extern "C" fn mk4x4_ind_asm(args: *const Args) {
    core::arch::naked_asm!(
        enter4x4!(),
        "cmp r5, #4",
        "bne 5f",
        "lsrs r0, r3, #1",
        "bcc 2f",
        "ldr r4, [r7], #4",
        "add r4, r2, r4, lsl #2",
        "ldm r4, {{r8-r11}}",
        "vldrw.u32 q4, [r1], #16",
        fma4!("q4", "r8", "r9", "r10", "r11"),
        "2:",
        "cmp r0, #0",
        "beq 9f",
        "dls lr, r0",
        "1:",
        "ldrd r0, r4, [r7], #8",
        "add r0, r2, r0, lsl #2",
        "add r4, r2, r4, lsl #2",
        "ldm r0, {{r8-r11}}",
        "ldm r4, {{r3, r4, r5, r12}}",
        "vldrw.u32 q4, [r1], #16",
        "vldrw.u32 q5, [r1], #16",
        fma4!("q4", "r8", "r9", "r10", "r11"),
        fma4!("q5", "r3", "r4", "r5", "r12"),
        "le lr, 1b",
        "b 9f",
        "5:",
        "mov r8, r5",
        "add r9, r5, r5",
        "add r10, r9, r5",
        "dls lr, r3",
        "6:",
        "ldr r0, [r7], #4",
        "add r0, r2, r0, lsl #2",
        "ldr r4, [r0]",
        "ldr r5, [r0, r8]",
        "ldr r11, [r0, r9]",
        "ldr r12, [r0, r10]",
        "vldrw.u32 q4, [r1], #16",
        fma4!("q4", "r4", "r5", "r11", "r12"),
        "le lr, 6b",
        "9:",
        leave4x4!(),
    )
}

/// `mk8x1` on `*args` (`k ≥ 1`): accumulators in `q0`–`q1`; the `k mod 4`
/// first steps one at a time, then four steps per pass with one `ldm` of `b`.
///
/// # Safety
///
/// `args` points to an [`Args`] whose `a` holds `8k` floats, `b` `k` floats
/// and `acc` 8 writable floats; the core has MVE-F.
#[unsafe(naked)]
unsafe extern "C" fn mk8x1_asm(args: *const Args) {
    core::arch::naked_asm!(
        arch!(),
        "push {{r4-r9, lr}}",
        "vpush {{d8-d15}}",
        "ldm r0, {{r1-r7}}", // r1 a, r2 b, r3 k, r6 acc
        "vldrw.u32 q0, [r6]",
        "vldrw.u32 q1, [r6, #16]",
        "ands r0, r3, #3",
        "beq 2f",
        "dls lr, r0",
        "3:",
        "vldrw.u32 q2, [r1], #16",
        "vldrw.u32 q3, [r1], #16",
        "ldr r4, [r2], #4",
        "vfma.f32 q0, q2, r4",
        "vfma.f32 q1, q3, r4",
        "le lr, 3b",
        "2:",
        "lsrs r0, r3, #2",
        "beq 9f",
        "dls lr, r0",
        "1:",
        "ldm r2!, {{r4, r5, r8, r9}}",
        "vldrw.u32 q2, [r1], #16",
        "vldrw.u32 q3, [r1], #16",
        "vfma.f32 q0, q2, r4",
        "vfma.f32 q1, q3, r4",
        "vldrw.u32 q4, [r1], #16",
        "vldrw.u32 q5, [r1], #16",
        "vfma.f32 q0, q4, r5",
        "vfma.f32 q1, q5, r5",
        "vldrw.u32 q6, [r1], #16",
        "vldrw.u32 q7, [r1], #16",
        "vfma.f32 q0, q6, r8",
        "vfma.f32 q1, q7, r8",
        "vldrw.u32 q2, [r1], #16",
        "vldrw.u32 q3, [r1], #16",
        "vfma.f32 q0, q2, r9",
        "vfma.f32 q1, q3, r9",
        "le lr, 1b",
        "9:",
        "vstrw.32 q0, [r6]",
        "vstrw.32 q1, [r6, #16]",
        "vpop {{d8-d15}}",
        "pop {{r4-r9, pc}}",
    )
}

/// The 3×3, stride-1 depthwise plane kernel on `*args` (`oh`, `ow` ≥ 1):
/// a tail-predicated loop (`dlstp`/`letp`) along each output row, four
/// outputs per pass in `q0`, started from the bias (`q4`); per filter row
/// three `vldrw` at 0, 4 and 8 bytes and three `vfma.f32 q0, Qn, Rm` with the weights in `r3`–`r11`;
/// `Relu` as a predicated `vmov` when `relu ≠ 0`. The row bookkeeping lives
/// on the stack (every general register is taken).
///
/// # Safety
///
/// `args` points to a [`DwArgs`] whose `x` holds every input of the plane
/// (`(oh - 1)·1 + 3` rows of `ldx` bytes, `(ow - 1)·1 + 3` floats each),
/// `y` every output (`oh` rows of `ldy` bytes, `ow` floats each), `w` 9
/// floats and `bias4` 4 floats; the core has MVE-F.
#[unsafe(naked)]
unsafe extern "C" fn dw3s1_asm(args: *const DwArgs) {
    core::arch::naked_asm!(
        arch!(),
        "push {{r4-r11, lr}}",
        "vpush {{d8-d15}}",
        "sub sp, #16", // [sp] x row, [sp, #4] y row, [sp, #8] rows left, [sp, #12] args
        "str r0, [sp, #12]",
        "ldr r1, [r0, #28]",
        "vldrw.u32 q4, [r1]", // bias in every lane
        "ldr r1, [r0, #24]",
        "ldm r1, {{r3-r11}}", // the 9 weights
        "ldr r1, [r0]",
        "str r1, [sp]",
        "ldr r1, [r0, #4]",
        "str r1, [sp, #4]",
        "ldr r1, [r0, #16]",
        "str r1, [sp, #8]",
        "ldr r1, [r0, #32]",
        "cmp r1, #0",
        "bne 5f",
        "1:",
        "ldr r12, [sp, #12]",
        "ldr lr, [r12, #8]", // ldx
        "ldr r0, [sp]",
        "add r1, r0, lr",
        "add r2, r1, lr",
        "str r1, [sp]",        // the next row's top-left input
        "ldr r12, [r12, #20]", // ow
        "dlstp.32 lr, r12",
        "ldr r12, [sp, #4]",
        "2:",
        "vmov q0, q4",
        "vldrw.u32 q2, [r0, #4]",
        "vldrw.u32 q3, [r0, #8]",
        "vldrw.u32 q1, [r0], #16",
        "vfma.f32 q0, q1, r3",
        "vfma.f32 q0, q2, r4",
        "vfma.f32 q0, q3, r5",
        "vldrw.u32 q2, [r1, #4]",
        "vldrw.u32 q3, [r1, #8]",
        "vldrw.u32 q1, [r1], #16",
        "vfma.f32 q0, q1, r6",
        "vfma.f32 q0, q2, r7",
        "vfma.f32 q0, q3, r8",
        "vldrw.u32 q2, [r2, #4]",
        "vldrw.u32 q3, [r2, #8]",
        "vldrw.u32 q1, [r2], #16",
        "vfma.f32 q0, q1, r9",
        "vfma.f32 q0, q2, r10",
        "vfma.f32 q0, q3, r11",
        "vstrw.32 q0, [r12], #16",
        "letp lr, 2b",
        "ldr r12, [sp, #12]",
        "ldr r0, [sp, #4]",
        "ldr r1, [r12, #12]", // ldy
        "add r0, r1",
        "str r0, [sp, #4]",
        "ldr r0, [sp, #8]",
        "subs r0, #1",
        "str r0, [sp, #8]",
        "bne 1b",
        "b 9f",
        "5:", // the same with Relu
        "ldr r12, [sp, #12]",
        "ldr lr, [r12, #8]", // ldx
        "ldr r0, [sp]",
        "add r1, r0, lr",
        "add r2, r1, lr",
        "str r1, [sp]",        // the next row's top-left input
        "ldr r12, [r12, #20]", // ow
        "dlstp.32 lr, r12",
        "ldr r12, [sp, #4]",
        "6:",
        "vmov q0, q4",
        "vldrw.u32 q2, [r0, #4]",
        "vldrw.u32 q3, [r0, #8]",
        "vldrw.u32 q1, [r0], #16",
        "vfma.f32 q0, q1, r3",
        "vfma.f32 q0, q2, r4",
        "vfma.f32 q0, q3, r5",
        "vldrw.u32 q2, [r1, #4]",
        "vldrw.u32 q3, [r1, #8]",
        "vldrw.u32 q1, [r1], #16",
        "vfma.f32 q0, q1, r6",
        "vfma.f32 q0, q2, r7",
        "vfma.f32 q0, q3, r8",
        "vldrw.u32 q2, [r2, #4]",
        "vldrw.u32 q3, [r2, #8]",
        "vldrw.u32 q1, [r2], #16",
        "vfma.f32 q0, q1, r9",
        "vfma.f32 q0, q2, r10",
        "vfma.f32 q0, q3, r11",
        "vpt.f32 lt, q0, zr",
        "vmovt.i32 q0, #0",
        "vstrw.32 q0, [r12], #16",
        "letp lr, 6b",
        "ldr r12, [sp, #12]",
        "ldr r0, [sp, #4]",
        "ldr r1, [r12, #12]", // ldy
        "add r0, r1",
        "str r0, [sp, #4]",
        "ldr r0, [sp, #8]",
        "subs r0, #1",
        "str r0, [sp, #8]",
        "bne 5b",
        "9:",
        "add sp, #16",
        "vpop {{d8-d15}}",
        "pop {{r4-r11, pc}}",
    )
}

/// The 3×3, stride-2 depthwise plane kernel on `*args` (`oh`, `ow` ≥ 1):
/// a tail-predicated loop (`dlstp`/`letp`) along each output row, four
/// outputs per pass in `q0`, started from the bias (`q4`); per filter row
/// three gathers `vldrw.u32 Qd, [Rn, Qm, uxtw #2]` (element offsets `{0, 2, 4, 6}` + `kx`) and three `vfma.f32 q0, Qn, Rm` with the weights in `r3`–`r11`;
/// `Relu` as a predicated `vmov` when `relu ≠ 0`. The row bookkeeping lives
/// on the stack (every general register is taken).
///
/// # Safety
///
/// `args` points to a [`DwArgs`] whose `x` holds every input of the plane
/// (`(oh - 1)·2 + 3` rows of `ldx` bytes, `(ow - 1)·2 + 3` floats each),
/// `y` every output (`oh` rows of `ldy` bytes, `ow` floats each), `w` 9
/// floats and `bias4` 4 floats; the core has MVE-F.
#[unsafe(naked)]
unsafe extern "C" fn dw3s2_asm(args: *const DwArgs) {
    core::arch::naked_asm!(
        arch!(),
        "push {{r4-r11, lr}}",
        "vpush {{d8-d15}}",
        "sub sp, #16", // [sp] x row, [sp, #4] y row, [sp, #8] rows left, [sp, #12] args
        "str r0, [sp, #12]",
        "ldr r1, [r0, #28]",
        "vldrw.u32 q4, [r1]", // bias in every lane
        "ldr r1, [r0, #24]",
        "ldm r1, {{r3-r11}}", // the 9 weights
        "ldr r1, [r0]",
        "str r1, [sp]",
        "ldr r1, [r0, #4]",
        "str r1, [sp, #4]",
        "ldr r1, [r0, #16]",
        "str r1, [sp, #8]",
        "movs r12, #0",
        "vidup.u32 q5, r12, #2", // 0, 2, 4, 6
        "movs r12, #1",
        "vidup.u32 q6, r12, #2",
        "movs r12, #2",
        "vidup.u32 q7, r12, #2",
        "ldr r1, [r0, #32]",
        "cmp r1, #0",
        "bne 5f",
        "1:",
        "ldr r12, [sp, #12]",
        "ldr lr, [r12, #8]", // ldx
        "ldr r0, [sp]",
        "add r1, r0, lr",
        "add r2, r1, lr",
        "str r2, [sp]",        // the next row's top-left input
        "ldr r12, [r12, #20]", // ow
        "dlstp.32 lr, r12",
        "ldr r12, [sp, #4]",
        "2:",
        "vmov q0, q4",
        "vldrw.u32 q1, [r0, q5, uxtw #2]",
        "vldrw.u32 q2, [r0, q6, uxtw #2]",
        "vldrw.u32 q3, [r0, q7, uxtw #2]",
        "adds r0, #32",
        "vfma.f32 q0, q1, r3",
        "vfma.f32 q0, q2, r4",
        "vfma.f32 q0, q3, r5",
        "vldrw.u32 q1, [r1, q5, uxtw #2]",
        "vldrw.u32 q2, [r1, q6, uxtw #2]",
        "vldrw.u32 q3, [r1, q7, uxtw #2]",
        "adds r1, #32",
        "vfma.f32 q0, q1, r6",
        "vfma.f32 q0, q2, r7",
        "vfma.f32 q0, q3, r8",
        "vldrw.u32 q1, [r2, q5, uxtw #2]",
        "vldrw.u32 q2, [r2, q6, uxtw #2]",
        "vldrw.u32 q3, [r2, q7, uxtw #2]",
        "adds r2, #32",
        "vfma.f32 q0, q1, r9",
        "vfma.f32 q0, q2, r10",
        "vfma.f32 q0, q3, r11",
        "vstrw.32 q0, [r12], #16",
        "letp lr, 2b",
        "ldr r12, [sp, #12]",
        "ldr r0, [sp, #4]",
        "ldr r1, [r12, #12]", // ldy
        "add r0, r1",
        "str r0, [sp, #4]",
        "ldr r0, [sp, #8]",
        "subs r0, #1",
        "str r0, [sp, #8]",
        "bne 1b",
        "b 9f",
        "5:", // the same with Relu
        "ldr r12, [sp, #12]",
        "ldr lr, [r12, #8]", // ldx
        "ldr r0, [sp]",
        "add r1, r0, lr",
        "add r2, r1, lr",
        "str r2, [sp]",        // the next row's top-left input
        "ldr r12, [r12, #20]", // ow
        "dlstp.32 lr, r12",
        "ldr r12, [sp, #4]",
        "6:",
        "vmov q0, q4",
        "vldrw.u32 q1, [r0, q5, uxtw #2]",
        "vldrw.u32 q2, [r0, q6, uxtw #2]",
        "vldrw.u32 q3, [r0, q7, uxtw #2]",
        "adds r0, #32",
        "vfma.f32 q0, q1, r3",
        "vfma.f32 q0, q2, r4",
        "vfma.f32 q0, q3, r5",
        "vldrw.u32 q1, [r1, q5, uxtw #2]",
        "vldrw.u32 q2, [r1, q6, uxtw #2]",
        "vldrw.u32 q3, [r1, q7, uxtw #2]",
        "adds r1, #32",
        "vfma.f32 q0, q1, r6",
        "vfma.f32 q0, q2, r7",
        "vfma.f32 q0, q3, r8",
        "vldrw.u32 q1, [r2, q5, uxtw #2]",
        "vldrw.u32 q2, [r2, q6, uxtw #2]",
        "vldrw.u32 q3, [r2, q7, uxtw #2]",
        "adds r2, #32",
        "vfma.f32 q0, q1, r9",
        "vfma.f32 q0, q2, r10",
        "vfma.f32 q0, q3, r11",
        "vpt.f32 lt, q0, zr",
        "vmovt.i32 q0, #0",
        "vstrw.32 q0, [r12], #16",
        "letp lr, 6b",
        "ldr r12, [sp, #12]",
        "ldr r0, [sp, #4]",
        "ldr r1, [r12, #12]", // ldy
        "add r0, r1",
        "str r0, [sp, #4]",
        "ldr r0, [sp, #8]",
        "subs r0, #1",
        "str r0, [sp, #8]",
        "bne 5b",
        "9:",
        "add sp, #16",
        "vpop {{d8-d15}}",
        "pop {{r4-r11, pc}}",
    )
}

impl Micro for Helium {
    #[inline]
    fn mk4x4(a: &[f32], b: &[f32], ldb: usize, sb: usize, acc: &mut [[f32; 4]; 4]) {
        let k = check_mk4x4(a, b, ldb, sb);
        if k == 0 {
            return;
        }
        let args = Args {
            a: a.as_ptr(),
            b: b.as_ptr(),
            k,
            // Unused when k == 1, where ldb may be anything.
            ldb: ldb.wrapping_mul(4),
            sb: sb * 4,
            acc: acc.as_mut_ptr().cast(),
            offs: core::ptr::null(),
        };
        // SAFETY: check_mk4x4 proved a.len() >= 4k and b.len() > (k-1)ldb + 3sb;
        // acc is 16 contiguous floats. MVE: see the module documentation.
        unsafe { mk4x4_asm(&args) }
    }

    #[inline]
    fn mk4x4_store(
        a: &[f32],
        b: &[f32],
        ldb: usize,
        acc: [[f32; 4]; 4],
        rows: usize,
        relu: bool,
        y: &mut [f32],
        ldy: usize,
    ) {
        check_store(rows, y.len(), ldy);
        let k = check_mk4x4(a, b, ldb, 1);
        if k == 0 {
            for (i, ai) in acc.iter().enumerate().take(rows) {
                for (o, &v) in y[i * ldy..][..4].iter_mut().zip(ai) {
                    *o = if relu && v < 0.0 { 0.0 } else { v };
                }
            }
            return;
        }
        let mut acc = acc;
        let args = StoreArgs {
            a: a.as_ptr(),
            b: b.as_ptr(),
            k,
            ldb: ldb.wrapping_mul(4),
            sb: 4,
            acc: acc.as_mut_ptr().cast(),
            y: y.as_mut_ptr(),
            ldy: ldy.wrapping_mul(4),
            rows,
            relu: usize::from(relu),
        };
        // SAFETY: check_mk4x4 proved a.len() >= 4k and b.len() > (k-1)ldb + 3;
        // check_store that y holds (rows-1)·ldy + 4 floats with rows in 1..=4;
        // acc is 16 writable floats. MVE: see the module documentation.
        unsafe { mk4x4_store_asm(&args) }
    }

    #[inline]
    fn mk4x4_ind(a: &[f32], b: &[f32], offs: &[u32], sb: usize, acc: &mut [[f32; 4]; 4]) {
        let k = check_mk4x4_ind(a, b, offs, sb);
        if k == 0 {
            return;
        }
        let args = Args {
            a: a.as_ptr(),
            b: b.as_ptr(),
            k,
            ldb: 0,
            sb: sb * 4,
            acc: acc.as_mut_ptr().cast(),
            offs: offs.as_ptr(),
        };
        // SAFETY: check_mk4x4_ind proved a.len() >= 4k, offs.len() >= k and
        // b.len() > offs[t] + 3sb for every t < k; acc is 16 contiguous floats.
        unsafe { mk4x4_ind_asm(&args) }
    }

    #[inline]
    fn mk4x4_taps(a: &[f32], b: &[f32], taps: &Taps<'_>, sb: usize, acc: &mut [[f32; 4]; 4]) {
        let k = check_mk4x4_taps(a, b, taps, sb);
        if k == 0 {
            return;
        }
        let args = Args {
            a: a.as_ptr(),
            b: b.as_ptr(),
            k,
            ldb: 0,
            sb: sb * 4,
            acc: acc.as_mut_ptr().cast(),
            offs: taps.offs().as_ptr(),
        };
        // SAFETY: check_mk4x4_taps proved a.len() >= 4k and b.len() > max + 3sb,
        // max being the largest of the k offsets; acc is 16 contiguous floats.
        unsafe { mk4x4_ind_asm(&args) }
    }

    #[inline]
    fn mk8x1(a: &[f32], b: &[f32], acc: &mut [f32; 8]) {
        let k = check_mk8x1(a, b);
        if k == 0 {
            return;
        }
        let args = Args {
            a: a.as_ptr(),
            b: b.as_ptr(),
            k,
            ldb: 0,
            sb: 0,
            acc: acc.as_mut_ptr(),
            offs: core::ptr::null(),
        };
        // SAFETY: check_mk8x1 proved a.len() >= 8k and b.len() >= k.
        unsafe { mk8x1_asm(&args) }
    }

    #[inline]
    fn dw3<const S: usize>(
        x: &[f32],
        w: &[f32],
        bias: f32,
        act: Activation,
        y: &mut [f32],
        g: &Plane,
    ) {
        if S != 1 && S != 2 {
            return plane::<3, S>(x, w, bias, act, y, g);
        }
        if !check_plane(x.len(), y.len(), 3, S, g) {
            return;
        }
        let mut args = DwArgs::new(x, w, bias, act, y, g);
        let args = args.bias4();
        // SAFETY: check_plane proved that x and y hold every element of the
        // plane, DwArgs::new that w holds 9 floats; bias4 points into args.
        // MVE: see the module documentation.
        unsafe {
            if S == 1 {
                dw3s1_asm(args)
            } else {
                dw3s2_asm(args)
            }
        }
        args.finish(act, y, g);
    }
}
