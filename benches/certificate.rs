// Placeholder: no benchmark written yet for this area.
fn main() {}
