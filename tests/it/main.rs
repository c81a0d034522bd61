//! Cross-crate tests: rules about the workspace itself.

mod architecture;
