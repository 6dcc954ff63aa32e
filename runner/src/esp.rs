//! Flashing and running firmware on ESP32 boards over their USB serial
//! port, with espflash as a library: find the port (or take `--port`),
//! reset the chip into its ROM download mode, check that the chip answering
//! is the board's, write the ESP-IDF boot loader, partition table and
//! application image with a progress callback (verified), reset it into the
//! application, and read the firmware's report from the UART with a time
//! limit.
//!
//! [`app_image`] makes the image without hardware: `zant build` writes it
//! beside the ELF, so that a firmware that would not boot (no application
//! descriptor, too big for its partition) fails before anything is flashed.

use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use espflash::connection::{Connection, Port, ResetAfterOperation, ResetBeforeOperation};
use espflash::flasher::{FlashData, FlashSettings, Flasher};
use espflash::image_format::{idf::IdfBootloaderFormat, ImageFormat};
use espflash::target::{Chip, ProgressCallbacks};
use serialport::{SerialPortType, UsbPortInfo};

use crate::link::{Link, LinkError};
use crate::report::{self, Report, TargetError};

/// USB serial adapters found on ESP32 boards: the chips' own USB-Serial-JTAG
/// and the USB-UART bridges of the development kits.
const KNOWN_ADAPTERS: &[(u16, u16, &str)] = &[
    (0x303a, 0x1001, "Espressif USB-Serial-JTAG"),
    (0x10c4, 0xea60, "Silicon Labs CP210x"),
    (0x1a86, 0x7523, "WCH CH340"),
    (0x1a86, 0x55d3, "WCH CH343"),
    (0x1a86, 0x55d4, "WCH CH9102"),
    (0x0403, 0x6001, "FTDI FT232R"),
    (0x0403, 0x6010, "FTDI FT2232"),
    (0x0403, 0x6014, "FTDI FT232H"),
    (0x0403, 0x6015, "FTDI FT231X"),
];

/// The name of a known ESP32 USB serial adapter.
fn known_adapter(vid: u16, pid: u16) -> Option<&'static str> {
    KNOWN_ADAPTERS
        .iter()
        .find(|(v, p, _)| *v == vid && *p == pid)
        .map(|(_, _, n)| *n)
}

/// The speed the ROM boot loader and the firmware's UART talk at.
const BAUD: u32 = 115_200;

/// A USB serial port as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortInfo {
    /// Device path (`/dev/ttyUSB0`, `COM3`).
    pub name: String,
    /// USB vendor id.
    pub vid: u16,
    /// USB product id.
    pub pid: u16,
    /// USB serial number.
    pub serial: Option<String>,
    /// What the adapter is: the product string, or the known adapter's name.
    pub product: Option<String>,
}

impl PortInfo {
    /// True for the USB serial adapters found on ESP32 boards.
    pub fn is_known_adapter(&self) -> bool {
        known_adapter(self.vid, self.pid).is_some()
    }

    fn usb(&self) -> UsbPortInfo {
        UsbPortInfo {
            vid: self.vid,
            pid: self.pid,
            serial_number: self.serial.clone(),
            manufacturer: None,
            product: self.product.clone(),
            interface: None,
        }
    }
}

/// Errors of the ESP32 path, each with what to do.
#[derive(Debug, thiserror::Error)]
pub enum EspError {
    /// The board's chip is not one espflash knows.
    #[error("espflash does not know chip `{0}`")]
    UnknownChip(String),
    /// No USB serial port is attached.
    #[error("no serial port found (zant would flash chip `{chip}` through espflash)")]
    NoPort {
        /// Chip zant would have flashed.
        chip: String,
    },
    /// Several ports and no choice.
    #[error("{} serial ports found; choose one with --port:\n{}", .0.len(), .0.iter().map(|p| format!("  {}  {:04x}:{:04x} {}", p.name, p.vid, p.pid, p.product.as_deref().unwrap_or(""))).collect::<Vec<_>>().join("\n"))]
    Ambiguous(Vec<PortInfo>),
    /// `--port` names no device.
    #[error("serial port {0} does not exist")]
    NoSuchPort(String),
    /// The port could not be opened: permissions.
    #[error("no permission to open serial port {0}")]
    Permission(String),
    /// The port could not be opened: in use or other.
    #[error("cannot open serial port {port}: {source}")]
    Open {
        /// Port.
        port: String,
        /// Cause.
        #[source]
        source: serialport::Error,
    },
    /// The ROM boot loader did not answer.
    #[error("no ESP32 answered on {port}: {}", chain(.source))]
    Connect {
        /// Port.
        port: String,
        /// Cause.
        #[source]
        source: espflash::Error,
    },
    /// Another chip answered.
    #[error("the chip on {port} is {found}, but board file says {expected}")]
    WrongChip {
        /// Port.
        port: String,
        /// Chip of the board file.
        expected: String,
        /// Chip that answered.
        found: String,
    },
    /// The ELF could not be read to make its firmware image.
    #[error("cannot make the flash image of {elf}: {source}")]
    ReadElf {
        /// ELF.
        elf: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The firmware image could not be made from the ELF.
    #[error("cannot make the flash image of {elf}: {}", chain(.source))]
    Image {
        /// ELF.
        elf: String,
        /// Cause.
        #[source]
        source: espflash::Error,
    },
    /// Flashing or verifying failed.
    #[error("flashing {elf} failed: {}", flash_failure(.source))]
    Flash {
        /// ELF.
        elf: String,
        /// Cause.
        #[source]
        source: espflash::Error,
    },
    /// The chip could not be reset into the application after flashing.
    #[error("cannot read the firmware's report from {port}: cannot reset the chip into the application: {}", chain(.source))]
    Reset {
        /// Port.
        port: String,
        /// Cause.
        #[source]
        source: espflash::Error,
    },
    /// The serial port failed while reading the report and did not come back.
    #[error("cannot read the firmware's report from {port}: the port failed ({source}) and did not come back within {timeout:?}")]
    PortLost {
        /// Port.
        port: String,
        /// How long zant waited for it.
        timeout: Duration,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A data-set run over the serial port failed: no ready line, no
    /// answer to a frame, or frames refused.
    #[error("data set over {port}: {detail}")]
    DataSet {
        /// Port.
        port: String,
        /// What went wrong.
        detail: String,
    },
    /// The firmware failed, or did not report in time.
    #[error(transparent)]
    Target(#[from] TargetError),
}

impl EspError {
    /// What to do about the error, kept apart from its message (`None`
    /// when zant has no advice for it).
    pub fn help(&self) -> Option<String> {
        match self {
            EspError::UnknownChip(..) => Some("use one of esp32, esp32c2, esp32c3, esp32c5, esp32c6, esp32h2, esp32p4, esp32s2, esp32s3 in the board's [run.espflash] table".into()),
            EspError::NoPort { .. } => Some("connect the board's USB port (the one marked UART or USB); check the cable carries data; or use --no-flash to stop after building".into()),
            EspError::NoSuchPort(..) => Some("`zant doctor` lists the serial ports it sees".into()),
            EspError::Permission(..) => Some("on Linux add yourself to the group owning it (usually `dialout`: `sudo usermod -aG dialout $USER`, then log in again)".into()),
            EspError::Open { .. } => Some("close other programs using it (espflash monitor, screen, minicom, an IDE's serial monitor)".into()),
            EspError::Connect { .. } => Some("hold the board's BOOT button, press and release RESET, release BOOT, and try again; or check that this port is the board's".into()),
            EspError::WrongChip { .. } => Some("connect the right board, or give the board file the chip it has ([run.espflash] chip)".into()),
            _ => None,
        }
    }
}

/// What a failed flash write says: verification failures get their own
/// advice; any other error is shown with its causes.
fn flash_failure(e: &espflash::Error) -> String {
    match e {
        espflash::Error::VerifyFailed => "the flash contents differ from the image after writing (verification failed); try again, or another USB cable or port".into(),
        e => chain(e),
    }
}

/// An error and its causes, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// The espflash chip of a board file's `[run.espflash] chip`.
pub fn chip(name: &str) -> Result<Chip, EspError> {
    Chip::from_str(name).map_err(|_| EspError::UnknownChip(name.to_string()))
}

/// Lists the USB serial ports.
pub fn list() -> Vec<PortInfo> {
    // serialport walks /sys/class/tty without libudev, and panics if it is
    // missing (some containers).
    if cfg!(target_os = "linux") && !Path::new("/sys/class/tty").is_dir() {
        return Vec::new();
    }
    let mut ports: Vec<PortInfo> = serialport::available_ports()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| match p.port_type {
            SerialPortType::UsbPort(u) => Some(PortInfo {
                product: u
                    .product
                    .clone()
                    .or_else(|| known_adapter(u.vid, u.pid).map(str::to_string)),
                name: p.port_name,
                vid: u.vid,
                pid: u.pid,
                serial: u.serial_number,
            }),
            _ => None,
        })
        .collect();
    ports.sort_by(|a, b| a.name.cmp(&b.name));
    ports
}

/// Checks that `--port` names a device that exists (any `COM…` name on
/// Windows, where ports are not files).
pub fn check_port(name: &str) -> Result<(), EspError> {
    if !Path::new(name).exists() && !name.to_ascii_uppercase().starts_with("COM") {
        return Err(EspError::NoSuchPort(name.to_string()));
    }
    Ok(())
}

/// Picks a port: `--port` (a device path, listed or not), else the only
/// known ESP32 adapter, else the only USB serial port.
pub fn choose(ports: &[PortInfo], port: Option<&str>, chip: &str) -> Result<PortInfo, EspError> {
    if let Some(name) = port {
        if let Some(p) = ports.iter().find(|p| p.name == name) {
            return Ok(p.clone());
        }
        check_port(name)?;
        return Ok(PortInfo {
            name: name.to_string(),
            vid: 0,
            pid: 0,
            serial: None,
            product: None,
        });
    }
    let known: Vec<&PortInfo> = ports.iter().filter(|p| p.is_known_adapter()).collect();
    match (known.as_slice(), ports) {
        (&[one], _) => Ok(one.clone()),
        ([], []) => Err(EspError::NoPort {
            chip: chip.to_string(),
        }),
        ([], [one]) => Ok(one.clone()),
        ([], many) => Err(EspError::Ambiguous(many.to_vec())),
        (many, _) => Err(EspError::Ambiguous(
            many.iter().map(|p| (*p).clone()).collect(),
        )),
    }
}

/// One part of the flash image: where it goes and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagePart {
    /// Flash offset.
    pub offset: u32,
    /// Bytes.
    pub data: Vec<u8>,
}

/// The flash image of a firmware: ESP-IDF second-stage boot loader,
/// partition table and the application image made from the ELF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppImage {
    /// The parts in flash order (boot loader, partition table, application).
    pub parts: Vec<ImagePart>,
    /// Bytes of the application image.
    pub app_bytes: u64,
    /// Bytes of the application partition it is written to.
    pub partition_bytes: u64,
}

impl AppImage {
    /// The application image (what `espflash save-image` writes).
    pub fn app(&self) -> &[u8] {
        self.parts.last().map(|p| p.data.as_slice()).unwrap_or(&[])
    }

    /// One file of the whole flash from offset 0 up to the end of the
    /// application, gaps filled with 0xFF (erased flash), for
    /// `esptool write_flash 0x0 FILE` or a web flasher.
    pub fn merged(&self) -> Vec<u8> {
        let end = self
            .parts
            .iter()
            .map(|p| p.offset as usize + p.data.len())
            .max()
            .unwrap_or(0);
        let mut out = vec![0xFF; end];
        for p in &self.parts {
            out[p.offset as usize..p.offset as usize + p.data.len()].copy_from_slice(&p.data);
        }
        out
    }
}

fn image_format<'a>(elf: &'a [u8], chip: Chip, path: &Path) -> Result<ImageFormat<'a>, EspError> {
    let err = |source: espflash::Error| EspError::Image {
        elf: path.display().to_string(),
        source,
    };
    let data = FlashData::new(
        FlashSettings::default(),
        0,
        None,
        chip,
        chip.default_xtal_frequency(),
    );
    let f = IdfBootloaderFormat::new(elf, &data, None, None, None, None).map_err(err)?;
    Ok(f.into())
}

/// Makes the flash image of the ELF for `chip` (no hardware needed).
pub fn app_image(elf: &Path, chip_name: &str) -> Result<AppImage, EspError> {
    let chip = chip(chip_name)?;
    let bytes = std::fs::read(elf).map_err(|source| EspError::ReadElf {
        elf: elf.display().to_string(),
        source,
    })?;
    let format = image_format(&bytes, chip, elf)?;
    let meta = format.metadata();
    let num = |k: &str| meta.get(k).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let (app_bytes, partition_bytes) = (num("app_size"), num("part_size"));
    let parts = format
        .flash_segments()
        .into_iter()
        .map(|s| ImagePart {
            offset: s.addr,
            data: s.data().to_vec(),
        })
        .collect();
    Ok(AppImage {
        parts,
        app_bytes,
        partition_bytes,
    })
}

/// What to flash and how.
#[derive(Debug, Clone)]
pub struct EspJob {
    /// espflash chip name (`esp32c3`).
    pub chip: String,
    /// `--port`.
    pub port: Option<String>,
    /// The ELF.
    pub elf: PathBuf,
    /// Time limit for the report.
    pub timeout: Duration,
}

/// espflash's progress callbacks as one `(done, total)` function over all parts.
struct Progress<'a> {
    report: &'a mut dyn FnMut(u64, u64),
    total: u64,
    before: u64,
    current: u64,
}

impl ProgressCallbacks for Progress<'_> {
    fn init(&mut self, _addr: u32, total: usize) {
        self.before += self.current;
        self.current = 0;
        self.total = self.before + total as u64;
        (self.report)(self.before, self.total);
    }
    fn update(&mut self, current: usize) {
        self.current = current as u64;
        (self.report)(self.before + self.current, self.total);
    }
    fn verifying(&mut self) {}
    fn finish(&mut self, _skipped: bool) {
        (self.report)(self.total, self.total);
    }
}

fn open(port: &str) -> Result<Port, EspError> {
    serialport::new(port, BAUD)
        .flow_control(serialport::FlowControl::None)
        .timeout(Duration::from_millis(100))
        .open_native()
        .map_err(|e| match e.kind() {
            serialport::ErrorKind::Io(ErrorKind::PermissionDenied) => {
                EspError::Permission(port.to_string())
            }
            serialport::ErrorKind::NoDevice | serialport::ErrorKind::Io(ErrorKind::NotFound) => {
                EspError::NoSuchPort(port.to_string())
            }
            _ => EspError::Open {
                port: port.to_string(),
                source: e,
            },
        })
}

/// Opens the port, resets the chip into its ROM download mode and checks
/// that the chip answering is `chip` (espflash's connection, flasher stub
/// loaded, verified writes).
fn connect(port: &PortInfo, chip: Chip) -> Result<Flasher, EspError> {
    let connection = Connection::new(
        open(&port.name)?,
        port.usb(),
        ResetAfterOperation::HardReset,
        ResetBeforeOperation::DefaultReset,
        BAUD,
    );
    Flasher::connect(connection, true, true, false, Some(chip), None).map_err(|e| match e {
        espflash::Error::ChipMismatch(expected, found) => EspError::WrongChip {
            port: port.name.clone(),
            expected,
            found,
        },
        source => EspError::Connect {
            port: port.name.clone(),
            source,
        },
    })
}

/// Flashes the firmware over the serial port and resets the chip into it;
/// returns the open port. `progress(done, total)` is called while writing
/// flash.
fn flash(job: &EspJob, progress: &mut dyn FnMut(u64, u64)) -> Result<(Port, String), EspError> {
    let chip = chip(&job.chip)?;
    let elf_str = job.elf.display().to_string();
    let bytes = std::fs::read(&job.elf).map_err(|source| EspError::ReadElf {
        elf: elf_str.clone(),
        source,
    })?;
    // Made before anything touches the board: a bad image fails here.
    let format = image_format(&bytes, chip, &job.elf)?;
    let port = choose(&list(), job.port.as_deref(), &job.chip)?;
    let mut flasher = connect(&port, chip)?;
    let mut cb = Progress {
        report: progress,
        total: 0,
        before: 0,
        current: 0,
    };
    flasher
        .load_image_to_flash(&mut cb, format)
        .map_err(|source| EspError::Flash {
            elf: elf_str.clone(),
            source,
        })?;
    let mut connection = flasher.into_connection();
    connection
        .reset_after(true, chip)
        .map_err(|source| EspError::Reset {
            port: port.name.clone(),
            source,
        })?;
    Ok((connection.into_serial(), port.name))
}

/// Flashes the firmware over the serial port, runs it, and reads its report
/// from the UART. `progress(done, total)` is called while writing flash.
pub fn flash_and_run(job: &EspJob, progress: &mut dyn FnMut(u64, u64)) -> Result<Report, EspError> {
    let (serial, name) = flash(job, progress)?;
    read_report(serial, &name, job)
}

/// The serial port as a [`Link`]; a port that fails (the USB-Serial-JTAG
/// re-enumerates on reset) is opened again until `deadline`.
struct SerialLink<'a> {
    serial: Option<Port>,
    name: &'a str,
    deadline: Instant,
}

impl SerialLink<'_> {
    fn port(&mut self) -> std::io::Result<Option<&mut Port>> {
        if self.serial.is_none() {
            std::thread::sleep(Duration::from_millis(100));
            match open(self.name) {
                Ok(p) => self.serial = Some(p),
                Err(e) if Instant::now() > self.deadline => {
                    return Err(std::io::Error::other(format!(
                        "serial port {} lost: {e}",
                        self.name
                    )))
                }
                Err(_) => {}
            }
        }
        Ok(self.serial.as_mut())
    }
}

impl Link for SerialLink<'_> {
    fn send(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let Some(p) = self.port()? else {
            return Ok(0);
        };
        match p.write(bytes) {
            Ok(n) => Ok(n),
            Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::Interrupted) => Ok(0),
            Err(_) => {
                self.serial = None;
                Ok(0)
            }
        }
    }

    fn recv(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some(p) = self.port()? else {
            return Ok(0);
        };
        match p.read(buf) {
            Ok(n) => Ok(n),
            Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::Interrupted) => Ok(0),
            Err(_) => {
                self.serial = None;
                Ok(0)
            }
        }
    }
}

/// Sends `samples` (each one's inputs back to back) as frames over the
/// serial port `name` to a framed data-set firmware that is running, and
/// reads its answers ([`crate::link`]).
fn drive_dataset(
    serial: Port,
    name: &str,
    job: &EspJob,
    samples: &[Vec<u8>],
    on_sample: &mut dyn FnMut(usize),
) -> Result<(Report, Vec<report::SampleLine>), EspError> {
    let mut link = SerialLink {
        serial: Some(serial),
        name,
        deadline: Instant::now() + job.timeout,
    };
    crate::link::run_framed(&mut link, samples, job.timeout, &job.elf, on_sample).map_err(|e| {
        match e {
            LinkError::Target(t) => EspError::Target(t),
            e => EspError::DataSet {
                port: name.to_string(),
                detail: e.to_string(),
            },
        }
    })
}

/// Flashes a framed data-set build, runs it, and sends it `samples` over
/// the serial port, reading the answers from the same port.
/// `on_sample(done)` is called as samples complete.
pub fn run_dataset(
    job: &EspJob,
    samples: &[Vec<u8>],
    progress: &mut dyn FnMut(u64, u64),
    on_sample: &mut dyn FnMut(usize),
) -> Result<(Report, Vec<report::SampleLine>), EspError> {
    let (serial, name) = flash(job, progress)?;
    drive_dataset(serial, &name, job, samples, on_sample)
}

/// Reads the UART until the report is complete, the firmware fails, or the
/// time runs out. A port that fails (the USB-Serial-JTAG re-enumerates on
/// reset) is opened again until the time runs out.
fn read_report(serial: Port, name: &str, job: &EspJob) -> Result<Report, EspError> {
    let t0 = Instant::now();
    let mut serial = Some(serial);
    let mut lost: Option<std::io::Error> = None;
    let mut text = String::new();
    let mut buf = [0u8; 1024];
    while t0.elapsed() <= job.timeout {
        let Some(s) = serial.as_mut() else {
            std::thread::sleep(Duration::from_millis(100));
            serial = open(name).ok();
            continue;
        };
        match s.read(&mut buf) {
            Ok(n) => {
                text.push_str(&String::from_utf8_lossy(&buf[..n]));
                if let Some(r) = report::check(&text, &job.elf)? {
                    return Ok(r);
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
            Err(e) => {
                lost = Some(e);
                serial = None;
            }
        }
    }
    match (serial, lost) {
        (None, Some(source)) => Err(EspError::PortLost {
            port: name.to_string(),
            timeout: job.timeout,
            source,
        }),
        _ => Err(TargetError::Timeout(job.timeout).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str, vid: u16, pid: u16) -> PortInfo {
        PortInfo {
            name: name.into(),
            vid,
            pid,
            serial: None,
            product: None,
        }
    }

    #[test]
    fn choosing_a_port() {
        let e = {
            let e = choose(&[], None, "esp32c3").unwrap_err();
            format!("{e}\n  help: {}", e.help().unwrap_or_default())
        };
        assert!(
            e.contains("no serial port found") && e.contains("esp32c3") && e.contains("--no-flash"),
            "{e}"
        );
        // The only known adapter wins over other USB serial devices.
        let ports = [
            p("/dev/ttyACM0", 0x2341, 0x0043),
            p("/dev/ttyUSB0", 0x10c4, 0xea60),
        ];
        assert_eq!(choose(&ports, None, "x").unwrap().name, "/dev/ttyUSB0");
        // One unknown USB serial device is taken; several are not.
        assert_eq!(choose(&ports[..1], None, "x").unwrap().name, "/dev/ttyACM0");
        let two_unknown = [p("/dev/ttyACM0", 1, 2), p("/dev/ttyACM1", 1, 3)];
        assert!(matches!(
            choose(&two_unknown, None, "x"),
            Err(EspError::Ambiguous(v)) if v.len() == 2
        ));
        let two_known = [
            p("/dev/ttyACM0", 0x303a, 0x1001),
            p("/dev/ttyUSB0", 0x10c4, 0xea60),
        ];
        let e = choose(&two_known, None, "x").unwrap_err().to_string();
        assert!(e.contains("--port") && e.contains("/dev/ttyUSB0"), "{e}");
        assert_eq!(
            choose(&two_known, Some("/dev/ttyACM0"), "x").unwrap().pid,
            0x1001
        );
        assert!(matches!(
            choose(&two_known, Some("/dev/zant-no-such-port"), "x"),
            Err(EspError::NoSuchPort(_))
        ));
    }

    #[test]
    fn chips_and_errors() {
        assert_eq!(chip("esp32c3").unwrap(), Chip::Esp32c3);
        assert_eq!(chip("esp32c6").unwrap(), Chip::Esp32c6);
        let e = {
            let e = chip("esp33").unwrap_err();
            format!("{e}\n  help: {}", e.help().unwrap_or_default())
        };
        assert!(e.contains("esp32c3"), "{e}");
        // A port that is not a serial device cannot be opened: a clear error.
        let e = open("/dev/null").unwrap_err();
        assert!(
            matches!(e, EspError::Open { .. } | EspError::Permission(_)),
            "{e}"
        );
    }

    #[test]
    fn listing_ports_works_without_hardware() {
        let _ = list();
    }

    #[test]
    fn an_elf_without_an_app_descriptor_is_refused() {
        // Any non-ESP ELF: the test binary itself.
        let me = std::env::current_exe().unwrap();
        let e = app_image(&me, "esp32c3").unwrap_err().to_string();
        assert!(e.contains("cannot make the flash image"), "{e}");
    }

    /// A pseudo-terminal: the firmware's side (master) and the device path
    /// zant opens (slave), a real tty like a USB serial adapter's.
    #[cfg(target_os = "linux")]
    fn pty() -> (std::fs::File, String) {
        use std::os::fd::FromRawFd;
        // SAFETY: plain libc calls on a descriptor this function owns; the
        // name buffer is large enough and NUL-terminated by ptsname_r.
        unsafe {
            let fd = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
            assert!(fd >= 0, "posix_openpt");
            assert_eq!(libc::grantpt(fd), 0);
            assert_eq!(libc::unlockpt(fd), 0);
            let mut name = [0 as libc::c_char; 128];
            assert_eq!(libc::ptsname_r(fd, name.as_mut_ptr(), name.len()), 0);
            let name = std::ffi::CStr::from_ptr(name.as_ptr())
                .to_string_lossy()
                .into_owned();
            (std::fs::File::from_raw_fd(fd), name)
        }
    }

    #[cfg(target_os = "linux")]
    fn job(timeout_ms: u64) -> EspJob {
        EspJob {
            chip: "esp32c3".into(),
            port: None,
            elf: std::env::current_exe().unwrap(),
            timeout: Duration::from_millis(timeout_ms),
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_report_is_read_from_a_tty_past_the_boot_log() {
        use std::io::Write;
        let (mut fw, name) = pty();
        let port = open(&name).unwrap();
        let writer = std::thread::spawn(move || {
            // What an ESP32-C3 prints: ROM and boot loader log, then the report.
            for chunk in [
                "ESP-ROM:esp32c3-api1-20210207\r\nrst:0x15 (USB_UART_CHIP_RESET),boot:0xc (SPI_FAST_FLASH_BOOT)\r\n",
                "I (24) boot: ESP-IDF v5.1 2nd stage bootloader\r\nZANT-REPORT v1\r\nboard=esp32-c3-devkit\r\n",
                "outputs=0000803f\r\noutput_lens=4\r\nstack_peak=1024\r\ncycles=123456\r\nZANT-END\r\n",
            ] {
                fw.write_all(chunk.as_bytes()).unwrap();
                std::thread::sleep(Duration::from_millis(20));
            }
            fw
        });
        let r = read_report(port, &name, &job(5_000)).unwrap();
        assert_eq!(r.int("cycles"), Some(123_456));
        assert_eq!(r.outputs, vec![1f32.to_le_bytes().to_vec()]);
        drop(writer.join());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_panic_or_silence_on_the_uart_is_an_error() {
        use std::io::Write;
        let (mut fw, name) = pty();
        let port = open(&name).unwrap();
        fw.write_all(b"ZANT-PANIC index out of bounds at src/main.rs:9\r\n")
            .unwrap();
        let e = read_report(port, &name, &job(5_000))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("panicked") && e.contains("index out of bounds"),
            "{e}"
        );
        let (_fw, name) = pty();
        let port = open(&name).unwrap();
        let e = read_report(port, &name, &job(300)).unwrap_err().to_string();
        assert!(e.contains("did not report within"), "{e}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_port_where_no_esp32_answers_is_named() {
        let (_adapter, name) = pty();
        let port = choose(&[], Some(&name), "esp32c3").unwrap();
        let e = {
            let e = connect(&port, Chip::Esp32c3).unwrap_err();
            format!("{e}\n  help: {}", e.help().unwrap_or_default())
        };
        assert!(
            e.contains(&format!("no ESP32 answered on {name}")) && e.contains("BOOT"),
            "{e}"
        );
    }

    #[test]
    fn merged_image_places_parts_at_their_offsets() {
        let img = AppImage {
            parts: vec![
                ImagePart {
                    offset: 0,
                    data: vec![1, 2],
                },
                ImagePart {
                    offset: 4,
                    data: vec![3],
                },
            ],
            app_bytes: 1,
            partition_bytes: 16,
        };
        assert_eq!(img.merged(), [1, 2, 0xFF, 0xFF, 3]);
        assert_eq!(img.app(), [3]);
    }

    /// The advice is the diagnostic's help, never part of the message; a
    /// run error forwards the help of the error it wraps.
    #[test]
    fn help_is_apart_from_the_message() {
        let errors: Vec<crate::RunError> = vec![
            EspError::NoPort {
                chip: "esp32c3".into(),
            }
            .into(),
            EspError::NoSuchPort("/dev/ttyUSB9".into()).into(),
            crate::probe::ProbeError::NoProbe {
                chip: "STM32H743ZITx".into(),
            }
            .into(),
            crate::qemu::QemuError::NotInstalled {
                binary: "qemu-system-arm".into(),
                package: "qemu-system-arm".into(),
            }
            .into(),
        ];
        for e in errors {
            let message = e.to_string();
            let help = e.help().unwrap_or_default();
            assert!(!message.contains("help"), "{message}");
            assert!(
                !help.is_empty() && !help.contains('\n'),
                "{message}: {help:?}"
            );
        }
        let e = crate::qemu::QemuError::NotInstalled {
            binary: "qemu-system-riscv32".into(),
            package: "qemu-system-misc".into(),
        };
        assert_eq!(e.to_string(), "qemu-system-riscv32 was not found");
        assert_eq!(
            e.help().unwrap(),
            "install QEMU: sudo apt-get install qemu-system-misc (or run `ci/setup.sh`)"
        );
    }
}
