//! The built-in boards and chips: every file of `defs/` and `defs/chips/`,
//! listed by the build script and embedded so the binary works anywhere.

use crate::resolve::resolve;
use crate::types::Board;

include!(concat!(env!("OUT_DIR"), "/builtin_defs.rs"));

/// Names of the built-in boards.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN_BOARDS.iter().map(|(n, _)| *n).collect()
}

/// Every built-in board, resolved.
pub fn builtin_boards() -> Vec<Board> {
    BUILTIN_BOARDS
        .iter()
        .map(|(n, _)| resolve(n).unwrap_or_else(|e| panic!("built-in board {n} is invalid: {e}")))
        .collect()
}
