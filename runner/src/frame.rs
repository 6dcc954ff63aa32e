//! The host side of the data-set protocol for hardware boards, where samples
//! cannot be read through semihosting: each sample goes down to the
//! firmware as one frame (over an RTT down-channel or the UART), and the
//! firmware answers with the same `ZANT-SAMPLE` line as under QEMU.
//!
//! A frame: `ZS` (2 bytes), the sample's index (u32 LE), the payload's
//! length (u32 LE), the payload (the sample's inputs back to back), and the
//! CRC-32 (IEEE, u32 LE) of everything before it. A frame with index
//! [`END_INDEX`] and no payload ([`end`]) ends the data set.
//!
//! The firmware side is `templates/common/frame.rs` (copied into data-set
//! firmware for RTT and UART boards); `runner/tests/firmware_frame.rs`
//! compiles that same file on the host and checks it against [`encode`].
//! [`crate::link`] drives a data set over such a transport.

/// The bytes a frame starts with.
pub const MAGIC: [u8; 2] = *b"ZS";

/// The index of the frame that ends the data set.
pub const END_INDEX: u32 = u32::MAX;

/// Bytes of a frame around its payload: magic, index, length, CRC.
pub const OVERHEAD: usize = 2 + 4 + 4 + 4;

/// CRC-32 (IEEE 802.3, reflected, as zlib computes it), bit by bit: the
/// firmware side needs no table.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// The frame of sample `index` with `payload`.
pub fn encode(index: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(payload.len() + OVERHEAD);
    f.extend_from_slice(&MAGIC);
    f.extend_from_slice(&index.to_le_bytes());
    f.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    f.extend_from_slice(payload);
    let crc = crc32(&f);
    f.extend_from_slice(&crc.to_le_bytes());
    f
}

/// The frame that ends the data set: index [`END_INDEX`], no payload.
pub fn end() -> Vec<u8> {
    encode(END_INDEX, &[])
}

/// Why bytes are not a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The bytes do not start with [`MAGIC`].
    #[error("no frame start (`ZS`) at byte {0}")]
    Magic(usize),
    /// The payload is longer than the receiver takes.
    #[error("a frame of {got} payload bytes, at most {max} taken")]
    TooLong {
        /// Payload length announced.
        got: usize,
        /// Largest accepted.
        max: usize,
    },
    /// The CRC does not match: a byte was lost or changed on the way.
    #[error("frame {index}: CRC {got:08x}, computed {want:08x}")]
    Crc {
        /// The frame's sample index.
        index: u32,
        /// CRC in the frame.
        got: u32,
        /// CRC of the bytes received.
        want: u32,
    },
}

/// A decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The sample's index.
    pub index: u32,
    /// The sample's bytes.
    pub payload: Vec<u8>,
}

/// Reads frames from a byte stream that arrives in pieces of any size.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    max: usize,
    seen: usize,
}

impl Decoder {
    /// A decoder taking payloads of at most `max` bytes.
    pub fn new(max: usize) -> Decoder {
        Decoder {
            buf: Vec::new(),
            max,
            seen: 0,
        }
    }

    /// Adds received bytes; returns the frames they complete, in order.
    /// After an error the decoder is in an unknown place of the stream and
    /// should be dropped.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<Frame>, FrameError> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        loop {
            if self.buf.len() < 10 {
                if self.buf.len() >= 2 && self.buf[..2] != MAGIC {
                    return Err(FrameError::Magic(self.seen));
                }
                return Ok(out);
            }
            if self.buf[..2] != MAGIC {
                return Err(FrameError::Magic(self.seen));
            }
            let word =
                |at: usize| u32::from_le_bytes(self.buf[at..at + 4].try_into().expect("4 bytes"));
            let (index, len) = (word(2), word(6) as usize);
            if len > self.max {
                return Err(FrameError::TooLong {
                    got: len,
                    max: self.max,
                });
            }
            let total = len + OVERHEAD;
            if self.buf.len() < total {
                return Ok(out);
            }
            let want = crc32(&self.buf[..total - 4]);
            let got = word(total - 4);
            if got != want {
                return Err(FrameError::Crc { index, got, want });
            }
            out.push(Frame {
                index,
                payload: self.buf[10..10 + len].to_vec(),
            });
            self.buf.drain(..total);
            self.seen += total;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_of_known_strings() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn frames_round_trip_in_pieces_of_any_size() {
        let mut stream = encode(0, &[1, 2, 3]);
        stream.extend(encode(1, &[]));
        stream.extend(encode(7, &[9; 40]));
        for piece in [1, 3, 13, 1000] {
            let mut d = Decoder::new(64);
            let mut got = Vec::new();
            for c in stream.chunks(piece) {
                got.extend(d.push(c).unwrap());
            }
            assert_eq!(
                got.iter()
                    .map(|f| (f.index, f.payload.len()))
                    .collect::<Vec<_>>(),
                vec![(0, 3), (1, 0), (7, 40)],
                "pieces of {piece}"
            );
            assert_eq!(got[0].payload, vec![1, 2, 3]);
        }
    }

    #[test]
    fn damaged_frames_are_errors() {
        let mut f = encode(3, &[1, 2, 3, 4]);
        f[11] ^= 0x40;
        assert!(matches!(
            Decoder::new(64).push(&f),
            Err(FrameError::Crc { index: 3, .. })
        ));
        assert_eq!(Decoder::new(64).push(b"XS"), Err(FrameError::Magic(0)));
        assert_eq!(
            Decoder::new(2).push(&encode(0, &[0; 3])),
            Err(FrameError::TooLong { got: 3, max: 2 })
        );
    }
}
