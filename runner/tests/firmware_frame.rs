//! The firmware's frame reader (`templates/common/frame.rs`, the very file
//! zant copies into data-set firmware for RTT and UART boards), compiled on
//! the host and fed by the host's encoder (`zant_runner::frame`): round
//! trips in pieces of any size, and damaged frames that must give an error
//! event, never a panic, and leave the reader ready for the next frame.

#[allow(dead_code)]
#[path = "../../templates/common/frame.rs"]
mod fw;

use fw::{Event, FrameError, Reader, Sink};
use proptest::prelude::*;
use zant_runner::frame;

/// The firmware's input buffer, as a vector (offsets checked).
struct Buf(Vec<u8>);

impl Sink for Buf {
    fn put(&mut self, at: usize, byte: u8) {
        self.0[at] = byte;
    }
}

/// Feeds `stream` to a reader of `sample`-byte payloads; returns each event
/// with the payload in the buffer at that moment (for samples).
fn feed(sample: usize, stream: &[u8]) -> Vec<(Event, Vec<u8>)> {
    let mut r = Reader::new(sample);
    let mut buf = Buf(vec![0; sample]);
    let mut out = Vec::new();
    for &b in stream {
        if let Some(e) = r.push(b, &mut buf) {
            out.push((e, buf.0.clone()));
        }
    }
    out
}

#[test]
fn crc_matches_the_hosts() {
    for s in [&b""[..], b"123456789", b"ZS\x01\x02"] {
        let c = s.iter().fold(!0u32, |c, &b| fw::crc32_update(c, b));
        assert_eq!(!c, frame::crc32(s));
    }
    assert_eq!(fw::MAGIC, frame::MAGIC);
    assert_eq!(fw::END_INDEX, frame::END_INDEX);
}

#[test]
fn samples_then_the_end_frame() {
    let mut s = frame::encode(0, &[1, 2, 3]);
    s.extend(frame::encode(1, &[4, 5, 6]));
    s.extend(frame::end());
    let ev = feed(3, &s);
    assert_eq!(
        ev,
        vec![
            (Event::Sample(0), vec![1, 2, 3]),
            (Event::Sample(1), vec![4, 5, 6]),
            (Event::End, vec![4, 5, 6]),
        ]
    );
}

#[test]
fn damaged_frames_are_error_events_and_the_next_frame_is_read() {
    // A payload byte changed: CRC error, then the next frame is fine.
    let mut bad = frame::encode(5, &[1, 2, 3, 4]);
    bad[12] ^= 0x40;
    let mut s = bad.clone();
    s.extend(frame::encode(6, &[9, 9, 9, 9]));
    let ev: Vec<Event> = feed(4, &s).into_iter().map(|e| e.0).collect();
    assert_eq!(
        ev,
        vec![Event::Error(FrameError::Crc { index: 5 }), Event::Sample(6)]
    );
    // The CRC itself damaged.
    let mut s = frame::encode(2, &[7; 4]);
    let last = s.len() - 1;
    s[last] ^= 1;
    assert_eq!(feed(4, &s)[0].0, Event::Error(FrameError::Crc { index: 2 }));
    // Noise before a frame: one error for the whole run, then the frame.
    let mut s = b"boot noise Z\r\nZZ".to_vec();
    s.extend(frame::encode(0, &[1, 2]));
    let ev: Vec<Event> = feed(2, &s).into_iter().map(|e| e.0).collect();
    assert_eq!(ev, vec![Event::Error(FrameError::Magic), Event::Sample(0)]);
    // A wrong length: refused at the header (no wait for bytes that never
    // come), the rest skipped up to the next frame.
    let mut s = frame::encode(3, &[1, 2, 3]);
    s.extend(frame::encode(4, &[1, 2]));
    let ev: Vec<Event> = feed(2, &s).into_iter().map(|e| e.0).collect();
    assert_eq!(
        ev,
        vec![
            Event::Error(FrameError::Length { index: 3, got: 3 }),
            Event::Sample(4)
        ]
    );
    // A sample frame with no payload, an end frame with one: both refused.
    assert_eq!(
        feed(2, &frame::encode(1, &[]))[0].0,
        Event::Error(FrameError::Length { index: 1, got: 0 })
    );
    assert_eq!(
        feed(2, &frame::encode(frame::END_INDEX, &[1, 2]))[0].0,
        Event::Error(FrameError::Length {
            index: frame::END_INDEX,
            got: 2
        })
    );
}

proptest! {
    /// Any payloads, in a stream cut anywhere: the reader gives back every
    /// sample exactly (the firmware sees bytes one at a time, whatever the
    /// transport's pieces were).
    #[test]
    fn round_trip(sample in 1usize..64, n in 1usize..6, seed in any::<u64>()) {
        let payloads: Vec<Vec<u8>> = (0..n)
            .map(|i| (0..sample).map(|j| (seed.wrapping_mul(31).wrapping_add((i * 977 + j * 13) as u64) >> 3) as u8).collect())
            .collect();
        let mut s = Vec::new();
        for (i, p) in payloads.iter().enumerate() {
            s.extend(frame::encode(i as u32, p));
        }
        s.extend(frame::end());
        let ev = feed(sample, &s);
        prop_assert_eq!(ev.len(), n + 1);
        for (i, p) in payloads.iter().enumerate() {
            prop_assert_eq!(&ev[i], &(Event::Sample(i as u32), p.clone()));
        }
        prop_assert_eq!(ev[n].0, Event::End);
    }

    /// Any single byte changed anywhere in a frame: an error event first,
    /// never the damaged sample, never a panic; and the frame after it is
    /// read.
    #[test]
    fn any_damaged_byte_is_caught(sample in 1usize..32, at in any::<usize>(), flip in 1u8..=255) {
        let p: Vec<u8> = (0..sample).map(|j| j as u8).collect();
        let mut bad = frame::encode(0, &p);
        let at = at % bad.len();
        bad[at] ^= flip;
        let mut s = bad;
        s.extend(frame::encode(1, &p));
        let ev = feed(sample, &s);
        prop_assert!(ev.iter().all(|(e, _)| *e != Event::Sample(0)), "{:?}", ev);
        prop_assert!(matches!(ev[0].0, Event::Error(_)), "{:?}", ev);
        prop_assert_eq!(ev.last().map(|e| e.0), Some(Event::Sample(1)));
    }

    /// Random bytes never panic the reader.
    #[test]
    fn noise_never_panics(sample in 0usize..16, noise in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = feed(sample, &noise);
    }
}

/// The host's driver ([`zant_runner::link::run_framed`]) against the
/// firmware's frame reader on a thread: the firmware's loop as the data-set
/// template writes it (ready line, one `ZANT-SAMPLE` line a frame, a
/// `ZANT-FRAME-ERROR` line for a bad one, the report after the end frame),
/// over a byte pipe that can damage what the host sends.
mod driver {
    use super::*;
    use std::sync::mpsc::{channel, Receiver, Sender};
    use std::time::Duration;
    use zant_runner::link::{run_framed, Link, LinkError};

    struct Pipe {
        to_fw: Sender<Vec<u8>>,
        from_fw: Receiver<Vec<u8>>,
        pending: Vec<u8>,
        /// Flip a bit in this many bytes sent from now on (once each), at
        /// the 12th byte of a write: a damaged payload byte.
        damage: usize,
    }

    impl Link for Pipe {
        fn send(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let mut b = bytes.to_vec();
            if self.damage > 0 && b.len() > 12 {
                self.damage -= 1;
                b[12] ^= 0x10;
            }
            self.to_fw.send(b).map_err(std::io::Error::other)?;
            Ok(bytes.len())
        }
        fn recv(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            while let Ok(v) = self.from_fw.try_recv() {
                self.pending.extend(v);
            }
            let n = self.pending.len().min(buf.len());
            buf[..n].copy_from_slice(&self.pending[..n]);
            self.pending.drain(..n);
            Ok(n)
        }
    }

    /// The firmware: outputs are the inputs reversed (2-byte samples).
    fn firmware(rx: Receiver<Vec<u8>>, tx: Sender<Vec<u8>>) {
        let say = |s: String| {
            let _ = tx.send(s.into_bytes());
        };
        say("boot log\r\nZANT-READY bytes=2\n".into());
        let mut r = Reader::new(2);
        let mut buf = Buf(vec![0; 2]);
        let mut done = false;
        while !done {
            let Ok(chunk) = rx.recv() else { return };
            for b in chunk {
                match r.push(b, &mut buf) {
                    None => {}
                    Some(Event::Sample(i)) => say(format!(
                        "ZANT-SAMPLE index={i} outputs={:02x}{:02x} status=ok\n",
                        buf.0[1], buf.0[0]
                    )),
                    Some(Event::Error(FrameError::Crc { index })) => {
                        say(format!("ZANT-FRAME-ERROR reason=crc index={index}\n"))
                    }
                    Some(Event::Error(e)) => say(format!("ZANT-FRAME-ERROR {e:?}\n")),
                    Some(Event::End) => done = true,
                }
            }
        }
        say("ZANT-REPORT v1\nboard=t\nmodel=m\noutputs=0000\noutput_lens=2\nstack_peak=64\nstatus=ok\nZANT-END\n".into());
    }

    fn run(damage: usize) -> Result<Vec<Vec<u8>>, LinkError> {
        let (to_fw, fw_rx) = channel();
        let (fw_tx, from_fw) = channel();
        let t = std::thread::spawn(move || firmware(fw_rx, fw_tx));
        let mut pipe = Pipe {
            to_fw,
            from_fw,
            pending: Vec::new(),
            damage,
        };
        let samples = vec![vec![1, 2], vec![3, 4], vec![5, 6]];
        let mut seen = Vec::new();
        let me = std::env::current_exe().unwrap();
        let r = run_framed(&mut pipe, &samples, Duration::from_secs(5), &me, &mut |d| {
            seen.push(d)
        });
        drop(pipe);
        let _ = t.join();
        let (report, lines) = r?;
        assert_eq!(report.int("stack_peak"), Some(64));
        assert_eq!(seen, vec![1, 2, 3]);
        Ok(lines.into_iter().map(|l| l.outputs.concat()).collect())
    }

    #[test]
    fn samples_go_down_and_answers_come_back_in_order() {
        assert_eq!(run(0).unwrap(), vec![vec![2, 1], vec![4, 3], vec![6, 5]]);
    }

    #[test]
    fn a_damaged_frame_is_sent_again_and_one_that_stays_damaged_fails() {
        // Twice damaged: the firmware refuses it twice, the third try passes.
        assert_eq!(run(2).unwrap(), vec![vec![2, 1], vec![4, 3], vec![6, 5]]);
        let e = run(100).unwrap_err().to_string();
        assert!(
            e.contains("refused the frame of sample 0 3 times") && e.contains("reason=crc"),
            "{e}"
        );
    }
}
