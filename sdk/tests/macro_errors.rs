//! Misusing `#[bifrost_plugin]` is a compile error that points at the
//! plugin author's code and says what to write instead; so is calling the
//! pointer layer (the host's entry points) from safe code.

#[test]
fn macro_misuse_is_reported_at_the_users_code() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
