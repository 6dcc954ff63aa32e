//! One module per subcommand.

pub mod boards;
pub mod build;
pub mod common;
pub mod compile;
pub mod inspect;
pub mod size;
