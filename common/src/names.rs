//! Names derived from user-given names (ONNX tensors, models, memory regions).

/// Lowercases ASCII letters, turns every other non-alphanumeric character
/// into `_`, collapses runs of `_` and trims them at both ends
/// (`"Conv 1/out:0"` → `"conv_1_out_0"`). The result may be empty or start
/// with a digit; callers that need an identifier guard that themselves.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        let c = if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '_'
        };
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    out.trim_matches('_').to_string()
}

/// The linker section holding the arena of memory region `region`: the model
/// crate places its arena there and the firmware's linker script maps it.
pub fn arena_section(region: &str) -> String {
    format!(".bss.zant_arena.{}", snake_case(region))
}

/// The linker section holding the weights placed in flash region `region`
/// when a board spreads them over several regions: the model crate puts
/// each weight there and the firmware's linker script maps it.
pub fn weights_section(region: &str) -> String {
    format!(".zant_weights.{}", snake_case(region))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_collapses_and_trims() {
        assert_eq!(snake_case("Conv 1/out:0"), "conv_1_out_0");
        assert_eq!(snake_case("__a--b__"), "a_b");
        assert_eq!(snake_case("---"), "");
        assert_eq!(snake_case("DTCM"), "dtcm");
    }

    #[test]
    fn arena_section_of_region() {
        assert_eq!(arena_section("sram"), ".bss.zant_arena.sram");
        assert_eq!(arena_section("SRAM 2"), ".bss.zant_arena.sram_2");
    }

    #[test]
    fn weights_section_of_region() {
        assert_eq!(weights_section("QSPI Flash"), ".zant_weights.qspi_flash");
    }
}
