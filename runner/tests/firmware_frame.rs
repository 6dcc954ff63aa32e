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
        vec![
            Event::Error(FrameError::Crc { index: 5 }),
            Event::Sample(6)
        ]
    );
    // The CRC itself damaged.
    let mut s = frame::encode(2, &[7; 4]);
    let last = s.len() - 1;
    s[last] ^= 1;
    assert_eq!(
        feed(4, &s)[0].0,
        Event::Error(FrameError::Crc { index: 2 })
    );
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
