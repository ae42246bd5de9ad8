//! Compile-fail tests of the derive macros: each file under `tests/ui/` must fail to compile
//! with the error committed next to it, which names the field (or variant) at fault and says
//! what is supported. Regenerate the `.stderr` files with `TRYBUILD=overwrite` and review them.

#[test]
fn derive_errors_name_the_field_and_what_is_supported() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
