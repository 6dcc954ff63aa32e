//! The firmware side of zant's data-set framing (hardware boards, where
//! samples cannot be read through semihosting). zant copies this file as it
//! is into a data-set firmware (`src/frame.rs`), and compiles the same file
//! into a host test against the host's encoder (`zant_runner::frame`).
//!
//! A frame: `ZS` (2 bytes), the sample's index (u32 LE), the payload's
//! length (u32 LE), the payload (the sample's inputs back to back), and the
//! CRC-32 (IEEE, u32 LE) of everything before it. A frame with index
//! [`END_INDEX`] and no payload ends the data set.
//!
//! [`Reader`] takes the bytes one at a time as they arrive, writes the
//! payload straight into the firmware's input buffers through a [`Sink`]
//! (no second copy), and says when a frame is complete, the end frame has
//! come, or a frame is bad. It never panics and needs no allocation.

/// The bytes a frame starts with.
pub const MAGIC: [u8; 2] = *b"ZS";

/// The index of the frame that ends the data set (its payload is empty).
pub const END_INDEX: u32 = u32::MAX;

/// Bytes of a frame header: magic, index, length.
const HEADER: usize = 10;

/// Where a frame's payload goes, byte by byte: `at` is the byte's offset in
/// the payload (below the length the [`Reader`] was made with).
pub trait Sink {
    /// Stores the payload byte at offset `at`.
    fn put(&mut self, at: usize, byte: u8);
}

/// Why a frame was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// Bytes that do not start a frame (`ZS`); the reader skips to the next
    /// `ZS` and reports this once for the whole run of such bytes.
    Magic,
    /// The header announces a payload of a length the firmware does not
    /// take (every sample has the same length; the end frame has none).
    Length {
        /// The frame's index.
        index: u32,
        /// The length announced.
        got: u32,
    },
    /// The CRC does not match: a byte was lost or changed on the way. The
    /// sample was not run.
    Crc {
        /// The frame's index.
        index: u32,
    },
}

/// What a byte completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A sample's frame is complete and checked: its payload is in the sink.
    Sample(u32),
    /// The end frame has come.
    End,
    /// A bad frame (nothing of it should be used).
    Error(FrameError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the header (`n` bytes of it so far).
    Header,
    /// Reading the payload (`n` bytes of it so far).
    Payload,
    /// Reading the CRC (`n` bytes of it so far).
    Crc,
}

/// Reads frames of `sample`-byte payloads from a byte stream.
#[derive(Debug, Clone)]
pub struct Reader {
    sample: usize,
    state: State,
    n: usize,
    header: [u8; HEADER],
    crc_bytes: [u8; 4],
    crc: u32,
    index: u32,
    len: usize,
    /// Skipping bytes after a bad start, until the next `ZS`.
    skipping: bool,
}

/// One byte into a running CRC-32 (IEEE, reflected; start with `!0`, end
/// with `!`), bit by bit: no table in flash.
pub fn crc32_update(mut c: u32, b: u8) -> u32 {
    c ^= u32::from(b);
    let mut i = 0;
    while i < 8 {
        c = if c & 1 != 0 {
            (c >> 1) ^ 0xEDB8_8320
        } else {
            c >> 1
        };
        i += 1;
    }
    c
}

impl Reader {
    /// A reader of frames whose payload is `sample` bytes (one sample's
    /// inputs back to back).
    pub const fn new(sample: usize) -> Reader {
        Reader {
            sample,
            state: State::Header,
            n: 0,
            header: [0; HEADER],
            crc_bytes: [0; 4],
            crc: !0,
            index: 0,
            len: 0,
            skipping: false,
        }
    }

    /// Back to waiting for a header.
    fn restart(&mut self) {
        self.state = State::Header;
        self.n = 0;
        self.crc = !0;
    }

    /// A byte that cannot start a frame: an error for the first of a run of
    /// them, then silence until the next `ZS`.
    fn bad_start(&mut self, b: u8) -> Option<Event> {
        let first = !self.skipping;
        self.skipping = true;
        self.restart();
        if b == MAGIC[0] {
            // May be the start of the next frame.
            self.header[0] = b;
            self.crc = crc32_update(self.crc, b);
            self.n = 1;
        }
        first.then_some(Event::Error(FrameError::Magic))
    }

    /// Takes the next byte of the stream; payload bytes go to `sink`.
    pub fn push(&mut self, b: u8, sink: &mut impl Sink) -> Option<Event> {
        match self.state {
            State::Header => {
                if self.n < 2 && b != MAGIC[self.n] {
                    return self.bad_start(b);
                }
                self.header[self.n] = b;
                self.crc = crc32_update(self.crc, b);
                self.n += 1;
                if self.n < HEADER {
                    return None;
                }
                self.skipping = false;
                let h = &self.header;
                self.index = u32::from_le_bytes([h[2], h[3], h[4], h[5]]);
                let len = u32::from_le_bytes([h[6], h[7], h[8], h[9]]);
                let want = if self.index == END_INDEX {
                    0
                } else {
                    self.sample
                };
                if len as usize != want || (len == 0 && self.index != END_INDEX) {
                    // The stream's place is unknown: look for the next start.
                    self.restart();
                    self.skipping = true;
                    return Some(Event::Error(FrameError::Length {
                        index: self.index,
                        got: len,
                    }));
                }
                self.len = len as usize;
                self.n = 0;
                self.state = if self.len == 0 {
                    State::Crc
                } else {
                    State::Payload
                };
                None
            }
            State::Payload => {
                sink.put(self.n, b);
                self.crc = crc32_update(self.crc, b);
                self.n += 1;
                if self.n == self.len {
                    self.n = 0;
                    self.state = State::Crc;
                }
                None
            }
            State::Crc => {
                self.crc_bytes[self.n] = b;
                self.n += 1;
                if self.n < 4 {
                    return None;
                }
                let got = u32::from_le_bytes(self.crc_bytes);
                let want = !self.crc;
                let index = self.index;
                self.restart();
                Some(if got != want {
                    Event::Error(FrameError::Crc { index })
                } else if index == END_INDEX {
                    Event::End
                } else {
                    Event::Sample(index)
                })
            }
        }
    }
}
