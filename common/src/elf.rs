//! Symbols of an ELF, read once for every crate that needs them (sizes,
//! benchmark markers, fault addresses, budget diffs).

use std::collections::BTreeMap;

use object::{Object, ObjectSymbol};

/// What a symbol names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolKind {
    /// Code.
    Text,
    /// Data (initialized or not).
    Data,
    /// Anything else (sections, files, labels).
    Other,
}

/// One symbol of an ELF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Symbol<'d> {
    /// Raw (mangled) name.
    pub name: &'d str,
    /// Address, with the Thumb bit of Arm code cleared.
    pub address: u64,
    /// Size in bytes (0 when unknown).
    pub size: u64,
    /// What it names.
    pub kind: SymbolKind,
}

impl Symbol<'_> {
    /// The demangled name without the hash suffix (stable across builds).
    pub fn demangled(&self) -> String {
        format!("{:#}", rustc_demangle::demangle(self.name))
    }

    fn contains(&self, addr: u64) -> bool {
        addr >= self.address && addr < self.address + self.size
    }
}

/// The file is not an object file `object` can read.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ElfError(#[from] object::Error);

/// A parsed ELF.
#[derive(Debug)]
pub struct Elf<'d> {
    file: object::File<'d>,
}

impl<'d> Elf<'d> {
    /// Parses the bytes of an ELF.
    pub fn parse(data: &'d [u8]) -> Result<Elf<'d>, ElfError> {
        Ok(Elf {
            file: object::File::parse(data)?,
        })
    }

    /// The underlying `object` file (sections, segments).
    pub fn object(&self) -> &object::File<'d> {
        &self.file
    }

    /// Every named symbol, in file order.
    pub fn symbols(&self) -> impl Iterator<Item = Symbol<'d>> + '_ {
        let thumb = matches!(self.file.architecture(), object::Architecture::Arm);
        self.file.symbols().filter_map(move |s| {
            let name = s.name().ok()?;
            let kind = match s.kind() {
                object::SymbolKind::Text => SymbolKind::Text,
                object::SymbolKind::Data => SymbolKind::Data,
                _ => SymbolKind::Other,
            };
            let address = if thumb && kind == SymbolKind::Text {
                s.address() & !1
            } else {
                s.address()
            };
            Some(Symbol {
                name,
                address,
                size: s.size(),
                kind,
            })
        })
    }

    /// Address of the symbol called `name` (Thumb bit cleared).
    pub fn address_of(&self, name: &str) -> Option<u64> {
        self.symbols().find(|s| s.name == name).map(|s| s.address)
    }

    /// The function containing `addr`, demangled, with the offset into it
    /// (`app::main+0x1c`).
    pub fn function_at(&self, addr: u64) -> Option<String> {
        self.symbols()
            .find(|s| s.kind == SymbolKind::Text && s.size > 0 && s.contains(addr))
            .map(|s| format!("{}+0x{:x}", s.demangled(), addr - s.address))
    }

    /// `(address, count)` pairs summed by the function each address lies
    /// in (demangled name; the nearest function before it when no sized
    /// symbol covers it; `(no symbol)` before the first), most first, ties
    /// by name.
    pub fn functions_of(&self, counts: &[(u64, u64)]) -> Vec<(String, u64)> {
        let mut funcs: Vec<Symbol<'d>> = self
            .symbols()
            .filter(|s| s.kind == SymbolKind::Text && !s.name.starts_with('$'))
            .collect();
        // Sized symbols first at an address, so they win a tie.
        funcs.sort_by_key(|s| (s.address, std::cmp::Reverse(s.size)));
        funcs.dedup_by_key(|s| s.address);
        let mut by_name: BTreeMap<String, u64> = BTreeMap::new();
        for &(addr, n) in counts {
            let i = funcs.partition_point(|s| s.address <= addr);
            let name = match i.checked_sub(1).map(|i| &funcs[i]) {
                Some(s) => s.demangled(),
                None => "(no symbol)".to_string(),
            };
            *by_name.entry(name).or_insert(0) += n;
        }
        let mut out: Vec<(String, u64)> = by_name.into_iter().collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }

    /// Sizes of the functions and data objects, by demangled name (symbols
    /// of the same name summed).
    pub fn sizes(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for s in self.symbols() {
            if s.size > 0 && s.kind != SymbolKind::Other {
                *out.entry(s.demangled()).or_insert(0) += s.size;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_what_is_not_an_elf() {
        assert!(Elf::parse(b"not an elf").is_err());
    }

    #[test]
    fn counts_are_summed_by_the_function_they_lie_in() {
        let exe = std::env::current_exe().unwrap();
        let data = std::fs::read(exe).unwrap();
        let elf = Elf::parse(&data).unwrap();
        let main = elf.symbols().find(|s| s.name == "main").unwrap();
        let f = elf.functions_of(&[(main.address, 5), (main.address, 2), (0, 1)]);
        assert_eq!(f[0], ("main".to_string(), 7));
        assert_eq!(f.iter().map(|x| x.1).sum::<u64>(), 8);
    }

    #[test]
    fn reads_its_own_test_binary() {
        // The running test executable is an object file with symbols.
        let exe = std::env::current_exe().unwrap();
        let data = std::fs::read(exe).unwrap();
        let elf = Elf::parse(&data).unwrap();
        let sizes = elf.sizes();
        assert!(!sizes.is_empty());
        let main = elf.symbols().find(|s| s.name == "main").unwrap();
        assert_eq!(elf.address_of("main"), Some(main.address));
        if main.size > 0 {
            assert!(elf
                .function_at(main.address)
                .unwrap()
                .starts_with("main+0x0"));
        }
    }
}
