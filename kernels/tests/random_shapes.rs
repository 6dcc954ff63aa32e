//! Randomized cross-checks of the strided kernels (broadcasting, transpose,
//! slice, reduce) against naive per-element index arithmetic, over many
//! shapes up to rank 6. Deterministic: a fixed-seed LCG, no dependencies.

use zant_kernels::reference::binary::{binary, BinaryOp, BroadcastParams};
use zant_kernels::reference::reduce::{reduce, ReduceOp, ReduceParams};
use zant_kernels::reference::shape::{dims, Dims, MAX_RANK};
use zant_kernels::reference::slice::{slice, SliceParams};
use zant_kernels::reference::transpose::{transpose, TransposeParams};

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> usize {
        (self.next() % n) as usize
    }
}

fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1];
    }
    s
}

fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        idx[d] = i % shape[d];
        i /= shape[d];
    }
    idx
}

#[test]
fn broadcast_binary_matches_naive() {
    let mut rng = Lcg(1);
    for _ in 0..2000 {
        let rank = rng.below(MAX_RANK as u64 + 1);
        let out: Vec<usize> = (0..rank).map(|_| 1 + rng.below(3)).collect();
        let mk = |rng: &mut Lcg| -> Vec<usize> {
            let r = rng.below(rank as u64 + 1);
            out[rank - r..]
                .iter()
                .map(|&d| if rng.below(2) == 0 { 1 } else { d })
                .collect()
        };
        let (a_s, b_s) = (mk(&mut rng), mk(&mut rng));
        let Some(p) = BroadcastParams::new(&a_s, &b_s) else {
            continue;
        };
        let a: Vec<f32> = (0..a_s.iter().product::<usize>())
            .map(|i| i as f32)
            .collect();
        let b: Vec<f32> = (0..b_s.iter().product::<usize>())
            .map(|i| (i * 10) as f32)
            .collect();
        let ps = &p.out_shape[..p.rank];
        let n: usize = ps.iter().product();
        let mut y = vec![0.0f32; n];
        binary(BinaryOp::Sub, &a, &b, &mut y, &p);
        let (pa, pb) = (&p.a_shape[..p.rank], &p.b_shape[..p.rank]);
        let (sa, sb) = (strides(pa), strides(pb));
        for (i, &v) in y.iter().enumerate() {
            let idx = unravel(i, ps);
            let ai: usize = (0..p.rank)
                .map(|d| if pa[d] == 1 { 0 } else { idx[d] * sa[d] })
                .sum();
            let bi: usize = (0..p.rank)
                .map(|d| if pb[d] == 1 { 0 } else { idx[d] * sb[d] })
                .sum();
            assert_eq!(v, a[ai] - b[bi], "a {a_s:?} b {b_s:?} at {idx:?}");
        }
    }
}

#[test]
fn transpose_and_slice_match_naive() {
    let mut rng = Lcg(2);
    for _ in 0..1000 {
        let rank = 1 + rng.below(MAX_RANK as u64);
        let shape: Vec<usize> = (0..rank).map(|_| 1 + rng.below(4)).collect();
        let n: usize = shape.iter().product();
        let x: Vec<i32> = (0..n as i32).collect();
        let si = strides(&shape);
        // Random permutation.
        let mut perm: Vec<usize> = (0..rank).collect();
        for i in (1..rank).rev() {
            perm.swap(i, rng.below(i as u64 + 1));
        }
        let out: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
        let mut y = vec![0; n];
        transpose(
            &x,
            &mut y,
            &TransposeParams {
                rank,
                in_shape: dims(&shape),
                perm: dims(&perm),
            },
        );
        for (i, &v) in y.iter().enumerate() {
            let idx = unravel(i, &out);
            let src: usize = (0..rank).map(|d| idx[d] * si[perm[d]]).sum();
            assert_eq!(v, x[src]);
        }
        // Random slice with steps of either sign.
        let mut starts: Dims = [0; MAX_RANK];
        let mut steps = [1isize; MAX_RANK];
        let mut osh = vec![0; rank];
        for d in 0..rank {
            let step = [1isize, 2, -1, -2][rng.below(4)];
            let start = rng.below(shape[d] as u64);
            let avail = if step > 0 {
                (shape[d] - start).div_ceil(step as usize)
            } else {
                (start + 1).div_ceil((-step) as usize)
            };
            osh[d] = 1 + rng.below(avail as u64);
            starts[d] = start;
            steps[d] = step;
        }
        let m: usize = osh.iter().product();
        let mut z = vec![0; m];
        slice(
            &x,
            &mut z,
            &SliceParams {
                rank,
                in_shape: dims(&shape),
                out_shape: dims(&osh),
                starts,
                steps,
            },
        );
        for (i, &v) in z.iter().enumerate() {
            let idx = unravel(i, &osh);
            let src: usize = (0..rank)
                .map(|d| (starts[d] as isize + idx[d] as isize * steps[d]) as usize * si[d])
                .sum();
            assert_eq!(v, x[src]);
        }
    }
}

#[test]
fn reduce_matches_naive() {
    let mut rng = Lcg(3);
    for _ in 0..1000 {
        let rank = 1 + rng.below(MAX_RANK as u64);
        let shape: Vec<usize> = (0..rank).map(|_| 1 + rng.below(4)).collect();
        let n: usize = shape.iter().product();
        let x: Vec<i64> = (0..n as i64).map(|v| v * 3 % 17).collect();
        let mut axes = [false; MAX_RANK];
        for a in axes.iter_mut().take(rank) {
            *a = rng.below(2) == 0;
        }
        let kept: Vec<usize> = (0..rank)
            .map(|d| if axes[d] { 1 } else { shape[d] })
            .collect();
        let m: usize = kept.iter().product();
        let mut y = vec![0i64; m];
        reduce(
            ReduceOp::Sum,
            &x,
            &mut y,
            &ReduceParams {
                rank,
                in_shape: dims(&shape),
                axes,
            },
        );
        let mut want = vec![0i64; m];
        let sk = strides(&kept);
        for (i, &v) in x.iter().enumerate() {
            let idx = unravel(i, &shape);
            let o: usize = (0..rank)
                .map(|d| if axes[d] { 0 } else { idx[d] * sk[d] })
                .sum();
            want[o] += v;
        }
        assert_eq!(y, want, "shape {shape:?} axes {axes:?}");
    }
}
