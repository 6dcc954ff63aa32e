//! One property-test suite for the [`Micro`] signature, instantiated for
//! every variant that runs on the host. The reference is a plain triple loop
//! written from the trait's documented formula, in `f64`.

use proptest::prelude::*;
use zant_kernels::micro::{Micro, Portable, Taps};

/// Tolerance of an `f32` sum of `k` products of values in [-1, 1] against
/// its `f64` value.
fn tol(k: usize) -> f64 {
    1e-5 * (k as f64 + 1.0)
}

fn check_mk4x4<M: Micro>(k: usize, ldb: usize, sb: usize, data: &[f32]) {
    let a: Vec<f32> = data.iter().cycle().take(4 * k).copied().collect();
    let blen = if k == 0 {
        0
    } else {
        (k - 1) * ldb + 3 * sb + 1
    };
    let b: Vec<f32> = data.iter().rev().cycle().take(blen).copied().collect();
    let mut acc = [[0.5f32; 4]; 4];
    M::mk4x4(&a, &b, ldb, sb, &mut acc);
    for i in 0..4 {
        for j in 0..4 {
            let want: f64 = 0.5
                + (0..k)
                    .map(|t| a[t * 4 + i] as f64 * b[t * ldb + j * sb] as f64)
                    .sum::<f64>();
            assert!(
                (acc[i][j] as f64 - want).abs() <= tol(k),
                "mk4x4 k={k} ldb={ldb} sb={sb} [{i}][{j}]: {} vs {want}",
                acc[i][j]
            );
        }
    }
}

fn check_mk4x4_ind<M: Micro>(k: usize, sb: usize, offs: &[u32], data: &[f32]) {
    let k = k.min(offs.len());
    let a: Vec<f32> = data.iter().cycle().take(4 * k).copied().collect();
    let blen = offs[..k]
        .iter()
        .max()
        .map_or(0, |&m| m as usize + 3 * sb + 1);
    let b: Vec<f32> = data.iter().rev().cycle().take(blen).copied().collect();
    let mut acc = [[-0.25f32; 4]; 4];
    M::mk4x4_ind(&a, &b, &offs[..k], sb, &mut acc);
    let mut acc2 = [[-0.25f32; 4]; 4];
    M::mk4x4_taps(&a, &b, &Taps::new(&offs[..k]), sb, &mut acc2);
    assert_eq!(acc, acc2, "mk4x4_taps and mk4x4_ind differ");
    for i in 0..4 {
        for j in 0..4 {
            let want: f64 = -0.25
                + (0..k)
                    .map(|t| a[t * 4 + i] as f64 * b[offs[t] as usize + j * sb] as f64)
                    .sum::<f64>();
            assert!(
                (acc[i][j] as f64 - want).abs() <= tol(k),
                "mk4x4_ind k={k} sb={sb} [{i}][{j}]: {} vs {want}",
                acc[i][j]
            );
        }
    }
}

fn check_mk8x1<M: Micro>(k: usize, data: &[f32]) {
    let a: Vec<f32> = data.iter().cycle().take(8 * k).copied().collect();
    let b: Vec<f32> = data.iter().rev().cycle().take(k).copied().collect();
    let mut acc = [1.0f32; 8];
    M::mk8x1(&a, &b, &mut acc);
    for (i, &got) in acc.iter().enumerate() {
        let want: f64 = 1.0
            + (0..k)
                .map(|t| a[t * 8 + i] as f64 * b[t] as f64)
                .sum::<f64>();
        assert!(
            (got as f64 - want).abs() <= tol(k),
            "mk8x1 k={k} [{i}]: {got} vs {want}"
        );
    }
}

/// Instantiates the suite for one variant.
macro_rules! micro_suite {
    ($name:ident, $ty:ty) => {
        mod $name {
            use super::*;
            proptest! {
                #[test]
                fn mk4x4(k in 0usize..70, ldb in 1usize..23, sb in 0usize..7,
                         data in prop::collection::vec(-1.0f32..1.0, 1..97)) {
                    check_mk4x4::<$ty>(k, ldb, sb, &data);
                }

                #[test]
                fn mk4x4_ind(k in 0usize..70, sb in 0usize..7,
                             offs in prop::collection::vec(0u32..300, 0..70),
                             data in prop::collection::vec(-1.0f32..1.0, 1..97)) {
                    check_mk4x4_ind::<$ty>(k, sb, &offs, &data);
                }

                #[test]
                fn mk8x1(k in 0usize..90, data in prop::collection::vec(-1.0f32..1.0, 1..97)) {
                    check_mk8x1::<$ty>(k, &data);
                }
            }

            #[test]
            #[should_panic(expected = "too short")]
            fn short_b_panics_before_reading() {
                let a = [1.0f32; 8];
                let b = [1.0f32; 4];
                let mut acc = [[0.0f32; 4]; 4];
                <$ty>::mk4x4(&a, &b, 2, 1, &mut acc);
            }

            #[test]
            #[should_panic(expected = "too short")]
            fn taps_beyond_b_panic() {
                let a = [1.0f32; 8];
                let b = [1.0f32; 8];
                let mut acc = [[0.0f32; 4]; 4];
                <$ty>::mk4x4_taps(&a, &b, &Taps::new(&[0, 5]), 1, &mut acc);
            }

            #[test]
            #[should_panic(expected = "fewer offsets")]
            fn missing_offsets_panic() {
                let a = [1.0f32; 8];
                let b = [1.0f32; 8];
                let mut acc = [[0.0f32; 4]; 4];
                <$ty>::mk4x4_ind(&a, &b, &[0], 1, &mut acc);
            }
        }
    };
}

micro_suite!(portable, Portable);
