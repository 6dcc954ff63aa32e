//! Recurrent layers: ONNX `RNN`, `GRU` and `LSTM` (layout 0:
//! `X` is `[seq_len, batch, input_size]`).
//!
//! No allocation: the caller passes the `Y_h` (and for LSTM `Y_c`) buffers,
//! which hold the running state, and a scratch buffer of
//! `2 * batch * hidden` floats.

use super::activation::Activation;
use super::gemm::dot;

/// Which recurrent cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RnnKind {
    /// `H = f(X W^T + H R^T + Wb + Rb)`; gates in W: 1.
    Rnn,
    /// GRU; gates in W in the order z, r, h.
    Gru {
        /// Apply the reset gate after the recurrent product (ONNX
        /// `linear_before_reset != 0`).
        linear_before_reset: bool,
    },
    /// LSTM; gates in W in the order i, o, f, c.
    Lstm {
        /// Couple the input and forget gates (`f = 1 - i`).
        input_forget: bool,
    },
}

impl RnnKind {
    /// Number of gates (rows of W per hidden unit).
    pub const fn gates(self) -> usize {
        match self {
            RnnKind::Rnn => 1,
            RnnKind::Gru { .. } => 3,
            RnnKind::Lstm { .. } => 4,
        }
    }
}

/// Direction of the recurrence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RnnDirection {
    /// First to last time step.
    Forward,
    /// Last to first.
    Reverse,
    /// Both; outputs stacked on the direction axis (forward first).
    Bidirectional,
}

/// Parameters of [`rnn`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RnnParams {
    /// Cell type.
    pub kind: RnnKind,
    /// Direction(s).
    pub direction: RnnDirection,
    /// Number of time steps.
    pub seq_len: usize,
    /// Batch size.
    pub batch: usize,
    /// Input features per step.
    pub input_size: usize,
    /// Hidden units.
    pub hidden: usize,
    /// Gate pre-activations are clipped to `[-clip, clip]` (`f32::INFINITY`
    /// for no clipping).
    pub clip: f32,
    /// Activations per direction: RNN uses `[f, -, -]` (default Tanh), GRU
    /// `[f, g, -]` (Sigmoid, Tanh), LSTM `[f, g, h]` (Sigmoid, Tanh, Tanh).
    pub activations: [[Activation; 3]; 2],
}

/// Inputs of [`rnn`]; optional ones as in ONNX.
#[derive(Clone, Copy, Debug)]
pub struct RnnInputs<'a> {
    /// `[seq_len, batch, input_size]`.
    pub x: &'a [f32],
    /// `[num_directions, gates * hidden, input_size]`.
    pub w: &'a [f32],
    /// `[num_directions, gates * hidden, hidden]`.
    pub r: &'a [f32],
    /// `[num_directions, 2 * gates * hidden]` (Wb then Rb), or `None` for 0.
    pub b: Option<&'a [f32]>,
    /// Valid steps per batch entry (`[batch]`), or `None` for all.
    pub sequence_lens: Option<&'a [i32]>,
    /// `[num_directions, batch, hidden]`, or `None` for 0.
    pub initial_h: Option<&'a [f32]>,
    /// LSTM only: `[num_directions, batch, hidden]`, or `None` for 0.
    pub initial_c: Option<&'a [f32]>,
    /// LSTM only: peepholes `[num_directions, 3 * hidden]` (i, o, f), or `None`.
    pub peepholes: Option<&'a [f32]>,
}

#[inline(always)]
fn clipped(v: f32, clip: f32) -> f32 {
    if v > clip {
        clip
    } else if v < -clip {
        -clip
    } else {
        v
    }
}

/// Runs the recurrence.
///
/// * `y`: `[seq_len, num_directions, batch, hidden]` or `None`; steps past a
///   batch entry's sequence length are 0.
/// * `y_h`: `[num_directions, batch, hidden]`, the last hidden state.
/// * `y_c`: LSTM: `[num_directions, batch, hidden]`, the last cell state,
///   or `None` when not needed (ignored for RNN and GRU).
/// * `scratch`: at least `2 * batch * hidden` floats.
pub fn rnn(
    inp: &RnnInputs<'_>,
    y: Option<&mut [f32]>,
    y_h: &mut [f32],
    y_c: Option<&mut [f32]>,
    scratch: &mut [f32],
    p: &RnnParams,
) {
    let (t_len, bn, isz, hn) = (p.seq_len, p.batch, p.input_size, p.hidden);
    let g = p.kind.gates();
    let dirs = if p.direction == RnnDirection::Bidirectional {
        2
    } else {
        1
    };
    let bh = bn * hn;
    let mut y = y;
    let mut y_c = y_c;
    if let Some(y) = y.as_deref_mut() {
        y.fill(0.0);
    }
    let (hp, rest) = scratch.split_at_mut(bh);
    let aux = &mut rest[..bh];
    for d in 0..dirs {
        let reverse = p.direction == RnnDirection::Reverse || d == 1;
        let w = &inp.w[d * g * hn * isz..][..g * hn * isz];
        let r = &inp.r[d * g * hn * hn..][..g * hn * hn];
        let bias = |k: usize| {
            inp.b.map_or(0.0, |b| {
                b[d * 2 * g * hn + k] + b[d * 2 * g * hn + g * hn + k]
            })
        };
        let wb = |k: usize| inp.b.map_or(0.0, |b| b[d * 2 * g * hn + k]);
        let rb = |k: usize| inp.b.map_or(0.0, |b| b[d * 2 * g * hn + g * hn + k]);
        let [fa, ga, ha] = p.activations[d];
        let h = &mut y_h[d * bh..][..bh];
        match inp.initial_h {
            Some(ih) => h.copy_from_slice(&ih[d * bh..][..bh]),
            None => h.fill(0.0),
        }
        // LSTM: the cell state (in `y_c` when given, else in scratch).
        // GRU: the reset gates of the current step.
        let work: &mut [f32] = match y_c.as_deref_mut() {
            Some(c) if matches!(p.kind, RnnKind::Lstm { .. }) => &mut c[d * bh..][..bh],
            _ => &mut aux[..],
        };
        if matches!(p.kind, RnnKind::Lstm { .. }) {
            match inp.initial_c {
                Some(ic) => work.copy_from_slice(&ic[d * bh..][..bh]),
                None => work.fill(0.0),
            }
        }
        for s in 0..t_len {
            hp.copy_from_slice(h);
            for b in 0..bn {
                let len = inp
                    .sequence_lens
                    .map_or(t_len, |l| (l[b].max(0) as usize).min(t_len));
                if s >= len {
                    continue;
                }
                let t = if reverse { len - 1 - s } else { s };
                let xr = &x_row(inp.x, t, b, bn, isz);
                let hpb = &hp[b * hn..][..hn];
                let pre = |gate: usize, j: usize, hvec: &[f32]| -> f32 {
                    let k = gate * hn + j;
                    dot(xr, &w[k * isz..][..isz]) + dot(hvec, &r[k * hn..][..hn])
                };
                match p.kind {
                    RnnKind::Rnn => {
                        for j in 0..hn {
                            let v = pre(0, j, hpb) + bias(j);
                            h[b * hn + j] = fa.apply(clipped(v, p.clip));
                        }
                    }
                    RnnKind::Gru {
                        linear_before_reset,
                    } => {
                        // Reset gate for every unit first (needed by r * H).
                        let rg = &mut work[b * hn..][..hn];
                        for (j, rv) in rg.iter_mut().enumerate() {
                            *rv = fa.apply(clipped(pre(1, j, hpb) + bias(hn + j), p.clip));
                        }
                        for j in 0..hn {
                            let z = fa.apply(clipped(pre(0, j, hpb) + bias(j), p.clip));
                            let k = 2 * hn + j;
                            let xw = dot(xr, &w[k * isz..][..isz]);
                            let rrow = &r[k * hn..][..hn];
                            let hh = if linear_before_reset {
                                xw + rg[j] * (dot(hpb, rrow) + rb(k)) + wb(k)
                            } else {
                                let mut acc = 0.0f32;
                                for (q, &rv) in rrow.iter().enumerate() {
                                    acc += rg[q] * hpb[q] * rv;
                                }
                                xw + acc + rb(k) + wb(k)
                            };
                            let hh = ga.apply(clipped(hh, p.clip));
                            h[b * hn + j] = (1.0 - z) * hh + z * hpb[j];
                        }
                    }
                    RnnKind::Lstm { input_forget } => {
                        let c = &mut *work;
                        let peep = |k: usize| inp.peepholes.map_or(0.0, |pp| pp[d * 3 * hn + k]);
                        for j in 0..hn {
                            let cp = c[b * hn + j];
                            let i =
                                fa.apply(clipped(pre(0, j, hpb) + bias(j) + peep(j) * cp, p.clip));
                            let f = if input_forget {
                                1.0 - i
                            } else {
                                fa.apply(clipped(
                                    pre(2, j, hpb) + bias(2 * hn + j) + peep(2 * hn + j) * cp,
                                    p.clip,
                                ))
                            };
                            let cc = ga.apply(clipped(pre(3, j, hpb) + bias(3 * hn + j), p.clip));
                            let cn = f * cp + i * cc;
                            c[b * hn + j] = cn;
                            let o = fa.apply(clipped(
                                pre(1, j, hpb) + bias(hn + j) + peep(hn + j) * cn,
                                p.clip,
                            ));
                            h[b * hn + j] = o * ha.apply(cn);
                        }
                    }
                }
                if let Some(y) = y.as_deref_mut() {
                    let dst = &mut y[((t * dirs + d) * bn + b) * hn..][..hn];
                    dst.copy_from_slice(&h[b * hn..][..hn]);
                }
            }
        }
    }
}

#[inline(always)]
fn x_row(x: &[f32], t: usize, b: usize, bn: usize, isz: usize) -> &[f32] {
    &x[(t * bn + b) * isz..][..isz]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lstm_single_unit_by_hand() {
        // One step, one input, one hidden unit, all weights 1, no bias.
        // i = o = f = sigmoid(1), c~ = tanh(1), C = i * c~, H = o * tanh(C).
        let p = RnnParams {
            kind: RnnKind::Lstm {
                input_forget: false,
            },
            direction: RnnDirection::Forward,
            seq_len: 1,
            batch: 1,
            input_size: 1,
            hidden: 1,
            clip: f32::INFINITY,
            activations: [[Activation::Sigmoid, Activation::Tanh, Activation::Tanh]; 2],
        };
        let inp = RnnInputs {
            x: &[1.0],
            w: &[1.0; 4],
            r: &[1.0; 4],
            b: None,
            sequence_lens: None,
            initial_h: None,
            initial_c: None,
            peepholes: None,
        };
        let (mut yh, mut yc, mut scratch) = ([0.0f32], [0.0f32], [0.0f32; 2]);
        rnn(&inp, None, &mut yh, Some(&mut yc), &mut scratch, &p);
        // numpy: s = 1/(1+e^-1); C = s*tanh(1); H = s*tanh(C)
        assert!((yc[0] - 0.556_77).abs() < 1e-6, "{}", yc[0]);
        assert!((yh[0] - 0.369_606_35).abs() < 1e-6, "{}", yh[0]);
    }
}
