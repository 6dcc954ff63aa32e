//! Micro-kernels for Cortex-M cores with a single-precision FPU (Cortex-M4F,
//! M7, M33F, M55): fused multiply-add `vfma.f32`, operands loaded several
//! registers at a time with `vldmia`.
//!
//! Registers of `mk4x4`: the 16 accumulators live in `s16`–`s31` (saved and
//! restored, they are callee-saved), `a` in `s0`–`s7`, `b` in `s8`–`s15`.
//! With `sb == 1` two steps take one `vldmia` of `a`, two of `b`, two
//! pointer increments, 32 `vfma` and the loop's `subs`/`bne`: 39
//! instructions for 32 multiply-accumulates.

use super::super::fast::depthwise::{check_plane, plane, Plane};
use super::super::micro::{
    check_mk4x4, check_mk4x4_ind, check_mk4x4_taps, check_mk8x1, check_store, Micro, Taps,
};
use super::super::reference::activation::Activation;
use super::{Args, DwArgs, StoreArgs};

/// Single-precision FPU micro-kernels (`vfma.f32`).
#[derive(Clone, Copy, Debug, Default)]
pub struct CortexMFpu;

/// The assembler state the kernels need. Module-level assembly may be parsed
/// without the target's CPU and features (to list the symbols of bitcode for
/// link-time optimization), so the FPU is named here: FPv5 with double
/// precision, a superset of every Cortex-M FPU, so that assembly which
/// follows in the same module, and shares the assembler state, still
/// assembles.
macro_rules! fpu {
    () => {
        ".fpu fpv5-d16\n"
    };
}

/// The 16 `vfma` of one step: `s(16 + 4i + j) += a_i * b_j`.
macro_rules! fma16 {
    ($a0:literal, $a1:literal, $a2:literal, $a3:literal,
     $b0:literal, $b1:literal, $b2:literal, $b3:literal) => {
        concat!(
            "vfma.f32 s16, ",
            $a0,
            ", ",
            $b0,
            "\n",
            "vfma.f32 s17, ",
            $a0,
            ", ",
            $b1,
            "\n",
            "vfma.f32 s18, ",
            $a0,
            ", ",
            $b2,
            "\n",
            "vfma.f32 s19, ",
            $a0,
            ", ",
            $b3,
            "\n",
            "vfma.f32 s20, ",
            $a1,
            ", ",
            $b0,
            "\n",
            "vfma.f32 s21, ",
            $a1,
            ", ",
            $b1,
            "\n",
            "vfma.f32 s22, ",
            $a1,
            ", ",
            $b2,
            "\n",
            "vfma.f32 s23, ",
            $a1,
            ", ",
            $b3,
            "\n",
            "vfma.f32 s24, ",
            $a2,
            ", ",
            $b0,
            "\n",
            "vfma.f32 s25, ",
            $a2,
            ", ",
            $b1,
            "\n",
            "vfma.f32 s26, ",
            $a2,
            ", ",
            $b2,
            "\n",
            "vfma.f32 s27, ",
            $a2,
            ", ",
            $b3,
            "\n",
            "vfma.f32 s28, ",
            $a3,
            ", ",
            $b0,
            "\n",
            "vfma.f32 s29, ",
            $a3,
            ", ",
            $b1,
            "\n",
            "vfma.f32 s30, ",
            $a3,
            ", ",
            $b2,
            "\n",
            "vfma.f32 s31, ",
            $a3,
            ", ",
            $b3,
            "\n",
        )
    };
}

/// The 8 `vfma` of one matrix-vector step: `s(i) += s(16 + 8u + i) * b`.
macro_rules! fma8 {
    ($a0:literal, $a1:literal, $a2:literal, $a3:literal,
     $a4:literal, $a5:literal, $a6:literal, $a7:literal, $b:literal) => {
        concat!(
            "vfma.f32 s0, ",
            $a0,
            ", ",
            $b,
            "\n",
            "vfma.f32 s1, ",
            $a1,
            ", ",
            $b,
            "\n",
            "vfma.f32 s2, ",
            $a2,
            ", ",
            $b,
            "\n",
            "vfma.f32 s3, ",
            $a3,
            ", ",
            $b,
            "\n",
            "vfma.f32 s4, ",
            $a4,
            ", ",
            $b,
            "\n",
            "vfma.f32 s5, ",
            $a5,
            ", ",
            $b,
            "\n",
            "vfma.f32 s6, ",
            $a6,
            ", ",
            $b,
            "\n",
            "vfma.f32 s7, ",
            $a7,
            ", ",
            $b,
            "\n",
        )
    };
}

/// `mk4x4` on `*args` (`k ≥ 1`).
///
/// # Safety
///
/// `args` points to an [`Args`] whose `a` holds `4k` floats, whose `b` holds
/// every `t·ldb + j·sb` for `t < k`, `j < 4` (in bytes), and whose `acc`
/// holds 16 writable floats.
#[unsafe(naked)]
unsafe extern "C" fn mk4x4_asm(args: *const Args) {
    core::arch::naked_asm!(
        fpu!(),
        "push {{r4-r11, lr}}",
        "vpush {{s16-s31}}",
        "ldm r0, {{r1-r7}}", // r1 a, r2 b, r3 k, r4 ldb, r5 sb, r6 acc
        "vldmia r6, {{s16-s31}}",
        "cmp r5, #4",
        "bne 5f",
        // sb == 1: an odd step first, then pairs of steps.
        "lsrs r0, r3, #1",
        "bcc 2f",
        "vldmia r1!, {{s0-s3}}",
        "vldmia r2, {{s8-s11}}",
        "add r2, r4",
        fma16!("s0", "s1", "s2", "s3", "s8", "s9", "s10", "s11"),
        "2:",
        "cmp r0, #0",
        "beq 9f",
        "1:",
        "vldmia r1!, {{s0-s7}}",
        "vldmia r2, {{s8-s11}}",
        "add r2, r4",
        "vldmia r2, {{s12-s15}}",
        "add r2, r4",
        fma16!("s0", "s1", "s2", "s3", "s8", "s9", "s10", "s11"),
        fma16!("s4", "s5", "s6", "s7", "s12", "s13", "s14", "s15"),
        "subs r0, #1",
        "bne 1b",
        "b 9f",
        // Any sb: column offsets sb, 2sb, 3sb in r8-r10, integer loads.
        "5:",
        "mov r8, r5",
        "add r9, r5, r5",
        "add r10, r9, r5",
        "6:",
        "ldr r0, [r2]",
        "ldr r7, [r2, r8]",
        "vmov s8, s9, r0, r7",
        "ldr r11, [r2, r9]",
        "ldr r12, [r2, r10]",
        "vmov s10, s11, r11, r12",
        "add r2, r4",
        "vldmia r1!, {{s0-s3}}",
        fma16!("s0", "s1", "s2", "s3", "s8", "s9", "s10", "s11"),
        "subs r3, #1",
        "bne 6b",
        "9:",
        "vstmia r6, {{s16-s31}}",
        "vpop {{s16-s31}}",
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
        fpu!(),
        "push {{r4-r11, lr}}",
        "vpush {{s16-s31}}",
        "ldm r0, {{r1-r7}}", // r1 a, r2 b, r3 k, r5 sb, r6 acc, r7 offs
        "vldmia r6, {{s16-s31}}",
        "cmp r5, #4",
        "bne 5f",
        "lsrs r0, r3, #1",
        "bcc 2f",
        "ldr r4, [r7], #4",
        "add r4, r2, r4, lsl #2",
        "vldmia r4, {{s8-s11}}",
        "vldmia r1!, {{s0-s3}}",
        fma16!("s0", "s1", "s2", "s3", "s8", "s9", "s10", "s11"),
        "2:",
        "cmp r0, #0",
        "beq 9f",
        "1:",
        "ldrd r4, r8, [r7], #8",
        "add r4, r2, r4, lsl #2",
        "add r8, r2, r8, lsl #2",
        "vldmia r4, {{s8-s11}}",
        "vldmia r8, {{s12-s15}}",
        "vldmia r1!, {{s0-s7}}",
        fma16!("s0", "s1", "s2", "s3", "s8", "s9", "s10", "s11"),
        fma16!("s4", "s5", "s6", "s7", "s12", "s13", "s14", "s15"),
        "subs r0, #1",
        "bne 1b",
        "b 9f",
        "5:",
        "mov r8, r5",
        "add r9, r5, r5",
        "add r10, r9, r5",
        "6:",
        "ldr r4, [r7], #4",
        "add r4, r2, r4, lsl #2",
        "ldr r0, [r4]",
        "ldr r11, [r4, r8]",
        "vmov s8, s9, r0, r11",
        "ldr r0, [r4, r9]",
        "ldr r11, [r4, r10]",
        "vmov s10, s11, r0, r11",
        "vldmia r1!, {{s0-s3}}",
        fma16!("s0", "s1", "s2", "s3", "s8", "s9", "s10", "s11"),
        "subs r3, #1",
        "bne 6b",
        "9:",
        "vstmia r6, {{s16-s31}}",
        "vpop {{s16-s31}}",
        "pop {{r4-r11, pc}}",
    )
}

/// `mk8x1` on `*args` (`k ≥ 1`): accumulators in `s0`–`s7`, two steps of
/// `a` in `s16`–`s31` (one `vldmia`), two of `b` in `s8`–`s9`.
///
/// # Safety
///
/// `args` points to an [`Args`] whose `a` holds `8k` floats, `b` `k` floats
/// and `acc` 8 writable floats.
#[unsafe(naked)]
unsafe extern "C" fn mk8x1_asm(args: *const Args) {
    core::arch::naked_asm!(
        fpu!(),
        "push {{r4-r7, lr}}",
        "vpush {{s16-s31}}",
        "ldm r0, {{r1-r7}}", // r1 a, r2 b, r3 k, r6 acc
        "vldmia r6, {{s0-s7}}",
        "lsrs r0, r3, #1",
        "bcc 2f",
        "vldmia r1!, {{s16-s23}}",
        "vldmia r2!, {{s8}}",
        fma8!("s16", "s17", "s18", "s19", "s20", "s21", "s22", "s23", "s8"),
        "2:",
        "cmp r0, #0",
        "beq 9f",
        "1:",
        "vldmia r1!, {{s16-s31}}",
        "vldmia r2!, {{s8-s9}}",
        fma8!("s16", "s17", "s18", "s19", "s20", "s21", "s22", "s23", "s8"),
        fma8!("s24", "s25", "s26", "s27", "s28", "s29", "s30", "s31", "s9"),
        "subs r0, #1",
        "bne 1b",
        "9:",
        "vstmia r6, {{s0-s7}}",
        "vpop {{s16-s31}}",
        "pop {{r4-r7, pc}}",
    )
}

/// The 3×3, stride-1 depthwise plane kernel on `*args` (`oh`, `ow` ≥ 1):
/// weights in `s16`–`s24`, four outputs per pass in `s0`–`s3` (started from
/// four copies of the bias, one `vldmia`), the 6 inputs of a pass's
/// filter row in `s4`–`s9` (one `vldmia`), then one output at a time;
/// `Relu` as a compare and a conditional move per output when `relu ≠ 0`.
///
/// # Safety
///
/// `args` points to a [`DwArgs`] whose `x` holds every input of the plane
/// (`(oh - 1)·1 + 3` rows of `ldx` bytes, `(ow - 1)·1 + 3` floats each),
/// `y` every output (`oh` rows of `ldy` bytes, `ow` floats each), `w` 9
/// floats and `bias4` 4 floats.
#[unsafe(naked)]
unsafe extern "C" fn dw3s1_asm(args: *const DwArgs) {
    core::arch::naked_asm!(
        fpu!(),
        "push {{r4-r11, lr}}",
        "vpush {{s16-s31}}",
        "ldm r0, {{r1-r9}}", // r1 x, r2 y, r3 ldx, r4 ldy, r5 oh, r6 ow, r7 w, r8 bias4, r9 relu
        "vldmia r7, {{s16-s24}}",
        "mov r7, r9",
        "movs r0, #0",
        "vmov s26, r0",
        "1:", // an output row
        "mov r10, r1",
        "mov r11, r2",
        "lsrs r12, r6, #2",
        "beq 4f",
        "2:", // four outputs
        "vldmia r8, {{s0-s3}}",
        "mov r0, r10",
        "vldmia r0, {{s4-s9}}",
        "add r0, r3",
        "vfma.f32 s0, s4, s16",
        "vfma.f32 s1, s5, s16",
        "vfma.f32 s2, s6, s16",
        "vfma.f32 s3, s7, s16",
        "vfma.f32 s0, s5, s17",
        "vfma.f32 s1, s6, s17",
        "vfma.f32 s2, s7, s17",
        "vfma.f32 s3, s8, s17",
        "vfma.f32 s0, s6, s18",
        "vfma.f32 s1, s7, s18",
        "vfma.f32 s2, s8, s18",
        "vfma.f32 s3, s9, s18",
        "vldmia r0, {{s4-s9}}",
        "add r0, r3",
        "vfma.f32 s0, s4, s19",
        "vfma.f32 s1, s5, s19",
        "vfma.f32 s2, s6, s19",
        "vfma.f32 s3, s7, s19",
        "vfma.f32 s0, s5, s20",
        "vfma.f32 s1, s6, s20",
        "vfma.f32 s2, s7, s20",
        "vfma.f32 s3, s8, s20",
        "vfma.f32 s0, s6, s21",
        "vfma.f32 s1, s7, s21",
        "vfma.f32 s2, s8, s21",
        "vfma.f32 s3, s9, s21",
        "vldmia r0, {{s4-s9}}",
        "vfma.f32 s0, s4, s22",
        "vfma.f32 s1, s5, s22",
        "vfma.f32 s2, s6, s22",
        "vfma.f32 s3, s7, s22",
        "vfma.f32 s0, s5, s23",
        "vfma.f32 s1, s6, s23",
        "vfma.f32 s2, s7, s23",
        "vfma.f32 s3, s8, s23",
        "vfma.f32 s0, s6, s24",
        "vfma.f32 s1, s7, s24",
        "vfma.f32 s2, s8, s24",
        "vfma.f32 s3, s9, s24",
        "cbz r7, 3f",
        "vcmp.f32 s0, #0",
        "vmrs APSR_nzcv, fpscr",
        "it lt",
        "vmovlt.f32 s0, s26",
        "vcmp.f32 s1, #0",
        "vmrs APSR_nzcv, fpscr",
        "it lt",
        "vmovlt.f32 s1, s26",
        "vcmp.f32 s2, #0",
        "vmrs APSR_nzcv, fpscr",
        "it lt",
        "vmovlt.f32 s2, s26",
        "vcmp.f32 s3, #0",
        "vmrs APSR_nzcv, fpscr",
        "it lt",
        "vmovlt.f32 s3, s26",
        "3:",
        "vstmia r11!, {{s0-s3}}",
        "add r10, #16",
        "subs r12, #1",
        "bne 2b",
        "4:",
        "ands r12, r6, #3",
        "beq 7f",
        "5:", // one output
        "vldmia r8, {{s0}}",
        "mov r0, r10",
        "vldmia r0, {{s4-s6}}",
        "add r0, r3",
        "vfma.f32 s0, s4, s16",
        "vfma.f32 s0, s5, s17",
        "vfma.f32 s0, s6, s18",
        "vldmia r0, {{s4-s6}}",
        "add r0, r3",
        "vfma.f32 s0, s4, s19",
        "vfma.f32 s0, s5, s20",
        "vfma.f32 s0, s6, s21",
        "vldmia r0, {{s4-s6}}",
        "vfma.f32 s0, s4, s22",
        "vfma.f32 s0, s5, s23",
        "vfma.f32 s0, s6, s24",
        "cbz r7, 6f",
        "vcmp.f32 s0, #0",
        "vmrs APSR_nzcv, fpscr",
        "it lt",
        "vmovlt.f32 s0, s26",
        "6:",
        "vstmia r11!, {{s0}}",
        "add r10, #4",
        "subs r12, #1",
        "bne 5b",
        "7:",
        "add r1, r3",
        "add r2, r4",
        "subs r5, #1",
        "bne 1b",
        "vpop {{s16-s31}}",
        "pop {{r4-r11, pc}}",
    )
}

/// The 3×3, stride-2 depthwise plane kernel on `*args` (`oh`, `ow` ≥ 1):
/// weights in `s16`–`s24`, four outputs per pass in `s0`–`s3` (started from
/// four copies of the bias, one `vldmia`), the 9 inputs of a pass's
/// filter row in `s4`–`s12` (one `vldmia`), then one output at a time;
/// `Relu` as a compare and a conditional move per output when `relu ≠ 0`.
///
/// # Safety
///
/// `args` points to a [`DwArgs`] whose `x` holds every input of the plane
/// (`(oh - 1)·2 + 3` rows of `ldx` bytes, `(ow - 1)·2 + 3` floats each),
/// `y` every output (`oh` rows of `ldy` bytes, `ow` floats each), `w` 9
/// floats and `bias4` 4 floats.
#[unsafe(naked)]
unsafe extern "C" fn dw3s2_asm(args: *const DwArgs) {
    core::arch::naked_asm!(
        fpu!(),
        "push {{r4-r11, lr}}",
        "vpush {{s16-s31}}",
        "ldm r0, {{r1-r9}}", // r1 x, r2 y, r3 ldx, r4 ldy, r5 oh, r6 ow, r7 w, r8 bias4, r9 relu
        "vldmia r7, {{s16-s24}}",
        "mov r7, r9",
        "movs r0, #0",
        "vmov s26, r0",
        "1:", // an output row
        "mov r10, r1",
        "mov r11, r2",
        "lsrs r12, r6, #2",
        "beq 4f",
        "2:", // four outputs
        "vldmia r8, {{s0-s3}}",
        "mov r0, r10",
        "vldmia r0, {{s4-s12}}",
        "add r0, r3",
        "vfma.f32 s0, s4, s16",
        "vfma.f32 s1, s6, s16",
        "vfma.f32 s2, s8, s16",
        "vfma.f32 s3, s10, s16",
        "vfma.f32 s0, s5, s17",
        "vfma.f32 s1, s7, s17",
        "vfma.f32 s2, s9, s17",
        "vfma.f32 s3, s11, s17",
        "vfma.f32 s0, s6, s18",
        "vfma.f32 s1, s8, s18",
        "vfma.f32 s2, s10, s18",
        "vfma.f32 s3, s12, s18",
        "vldmia r0, {{s4-s12}}",
        "add r0, r3",
        "vfma.f32 s0, s4, s19",
        "vfma.f32 s1, s6, s19",
        "vfma.f32 s2, s8, s19",
        "vfma.f32 s3, s10, s19",
        "vfma.f32 s0, s5, s20",
        "vfma.f32 s1, s7, s20",
        "vfma.f32 s2, s9, s20",
        "vfma.f32 s3, s11, s20",
        "vfma.f32 s0, s6, s21",
        "vfma.f32 s1, s8, s21",
        "vfma.f32 s2, s10, s21",
        "vfma.f32 s3, s12, s21",
        "vldmia r0, {{s4-s12}}",
        "vfma.f32 s0, s4, s22",
        "vfma.f32 s1, s6, s22",
        "vfma.f32 s2, s8, s22",
        "vfma.f32 s3, s10, s22",
        "vfma.f32 s0, s5, s23",
        "vfma.f32 s1, s7, s23",
        "vfma.f32 s2, s9, s23",
        "vfma.f32 s3, s11, s23",
        "vfma.f32 s0, s6, s24",
        "vfma.f32 s1, s8, s24",
        "vfma.f32 s2, s10, s24",
        "vfma.f32 s3, s12, s24",
        "cbz r7, 3f",
        "vcmp.f32 s0, #0",
        "vmrs APSR_nzcv, fpscr",
        "it lt",
        "vmovlt.f32 s0, s26",
        "vcmp.f32 s1, #0",
        "vmrs APSR_nzcv, fpscr",
        "it lt",
        "vmovlt.f32 s1, s26",
        "vcmp.f32 s2, #0",
        "vmrs APSR_nzcv, fpscr",
        "it lt",
        "vmovlt.f32 s2, s26",
        "vcmp.f32 s3, #0",
        "vmrs APSR_nzcv, fpscr",
        "it lt",
        "vmovlt.f32 s3, s26",
        "3:",
        "vstmia r11!, {{s0-s3}}",
        "add r10, #32",
        "subs r12, #1",
        "bne 2b",
        "4:",
        "ands r12, r6, #3",
        "beq 7f",
        "5:", // one output
        "vldmia r8, {{s0}}",
        "mov r0, r10",
        "vldmia r0, {{s4-s6}}",
        "add r0, r3",
        "vfma.f32 s0, s4, s16",
        "vfma.f32 s0, s5, s17",
        "vfma.f32 s0, s6, s18",
        "vldmia r0, {{s4-s6}}",
        "add r0, r3",
        "vfma.f32 s0, s4, s19",
        "vfma.f32 s0, s5, s20",
        "vfma.f32 s0, s6, s21",
        "vldmia r0, {{s4-s6}}",
        "vfma.f32 s0, s4, s22",
        "vfma.f32 s0, s5, s23",
        "vfma.f32 s0, s6, s24",
        "cbz r7, 6f",
        "vcmp.f32 s0, #0",
        "vmrs APSR_nzcv, fpscr",
        "it lt",
        "vmovlt.f32 s0, s26",
        "6:",
        "vstmia r11!, {{s0}}",
        "add r10, #8",
        "subs r12, #1",
        "bne 5b",
        "7:",
        "add r1, r1, r3, lsl #1",
        "add r2, r4",
        "subs r5, #1",
        "bne 1b",
        "vpop {{s16-s31}}",
        "pop {{r4-r11, pc}}",
    )
}

/// `mk4x4_store` on `*args` (`k ≥ 1`): the `sb = 1` loop of
/// [`mk4x4_asm`], then `Relu` on the accumulators if asked (`vcmp` with 0:
/// a NaN or -0.0 is kept, as in the reference) and one `vstmia` a row.
///
/// # Safety
///
/// `args` points to a [`StoreArgs`] whose `a` holds `4k` floats, whose `b`
/// holds every `t·ldb + j` for `t < k`, `j < 4` (in floats), whose `acc`
/// holds 16 writable floats and whose `y` holds `(rows-1)·ldy + 16` writable bytes
/// with `rows` in `1..=4`.
#[unsafe(naked)]
unsafe extern "C" fn mk4x4_store_asm(args: *const StoreArgs) {
    core::arch::naked_asm!(
        fpu!(),
        "push {{r4-r11, lr}}",
        "vpush {{s16-s31}}",
        "ldm r0, {{r1-r7}}",  // r1 a, r2 b, r3 k, r4 ldb, r6 acc, r7 y
        "ldr r8, [r0, #28]",  // ldy
        "ldr r9, [r0, #32]",  // rows
        "ldr r10, [r0, #36]", // relu
        "vldmia r6, {{s16-s31}}",
        "lsrs r0, r3, #1",
        "bcc 2f",
        "vldmia r1!, {{s0-s3}}",
        "vldmia r2, {{s8-s11}}",
        "add r2, r4",
        fma16!("s0", "s1", "s2", "s3", "s8", "s9", "s10", "s11"),
        "2:",
        "cmp r0, #0",
        "beq 9f",
        "1:",
        "vldmia r1!, {{s0-s7}}",
        "vldmia r2, {{s8-s11}}",
        "add r2, r4",
        "vldmia r2, {{s12-s15}}",
        "add r2, r4",
        fma16!("s0", "s1", "s2", "s3", "s8", "s9", "s10", "s11"),
        fma16!("s4", "s5", "s6", "s7", "s12", "s13", "s14", "s15"),
        "subs r0, #1",
        "bne 1b",
        "9:",
        "cmp r10, #0",
        "beq 8f",
        "movs r11, #0",
        "vmov s0, r11",
        "vcmp.f32 s16, #0",
        "vmrs APSR_nzcv, fpscr",
        "it mi",
        "vmovmi.f32 s16, s0",
        "vcmp.f32 s17, #0",
        "vmrs APSR_nzcv, fpscr",
        "it mi",
        "vmovmi.f32 s17, s0",
        "vcmp.f32 s18, #0",
        "vmrs APSR_nzcv, fpscr",
        "it mi",
        "vmovmi.f32 s18, s0",
        "vcmp.f32 s19, #0",
        "vmrs APSR_nzcv, fpscr",
        "it mi",
        "vmovmi.f32 s19, s0",
        "vcmp.f32 s20, #0",
        "vmrs APSR_nzcv, fpscr",
        "it mi",
        "vmovmi.f32 s20, s0",
        "vcmp.f32 s21, #0",
        "vmrs APSR_nzcv, fpscr",
        "it mi",
        "vmovmi.f32 s21, s0",
        "vcmp.f32 s22, #0",
        "vmrs APSR_nzcv, fpscr",
        "it mi",
        "vmovmi.f32 s22, s0",
        "vcmp.f32 s23, #0",
        "vmrs APSR_nzcv, fpscr",
        "it mi",
        "vmovmi.f32 s23, s0",
        "vcmp.f32 s24, #0",
        "vmrs APSR_nzcv, fpscr",
        "it mi",
        "vmovmi.f32 s24, s0",
        "vcmp.f32 s25, #0",
        "vmrs APSR_nzcv, fpscr",
        "it mi",
        "vmovmi.f32 s25, s0",
        "vcmp.f32 s26, #0",
        "vmrs APSR_nzcv, fpscr",
        "it mi",
        "vmovmi.f32 s26, s0",
        "vcmp.f32 s27, #0",
        "vmrs APSR_nzcv, fpscr",
        "it mi",
        "vmovmi.f32 s27, s0",
        "vcmp.f32 s28, #0",
        "vmrs APSR_nzcv, fpscr",
        "it mi",
        "vmovmi.f32 s28, s0",
        "vcmp.f32 s29, #0",
        "vmrs APSR_nzcv, fpscr",
        "it mi",
        "vmovmi.f32 s29, s0",
        "vcmp.f32 s30, #0",
        "vmrs APSR_nzcv, fpscr",
        "it mi",
        "vmovmi.f32 s30, s0",
        "vcmp.f32 s31, #0",
        "vmrs APSR_nzcv, fpscr",
        "it mi",
        "vmovmi.f32 s31, s0",
        "8:",
        "vstmia r7, {{s16-s19}}",
        "cmp r9, #1",
        "beq 7f",
        "add r7, r8",
        "vstmia r7, {{s20-s23}}",
        "cmp r9, #2",
        "beq 7f",
        "add r7, r8",
        "vstmia r7, {{s24-s27}}",
        "cmp r9, #3",
        "beq 7f",
        "add r7, r8",
        "vstmia r7, {{s28-s31}}",
        "7:",
        "vpop {{s16-s31}}",
        "pop {{r4-r11, pc}}",
    )
}

impl Micro for CortexMFpu {
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
        // acc is 16 contiguous floats.
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
        // check_store that y holds (rows-1)·ldy + 4 floats with rows in 1..=4.
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
