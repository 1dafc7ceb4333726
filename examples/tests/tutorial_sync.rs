//! The tutorial's code must be the example's code: every ```rust block of
//! docs/tutorial.md must appear verbatim in examples/src/chat.rs.

#[test]
fn tutorial_code_matches_the_compiled_example() {
    let tutorial = include_str!("../../docs/tutorial.md");
    let source = include_str!("../src/chat.rs");
    let mut blocks = 0;
    let mut rest = tutorial;
    while let Some(start) = rest.find("```rust\n") {
        let body = &rest[start + 8..];
        let end = body.find("\n```").expect("unclosed code block");
        let code = &body[..end];
        assert!(
            source.contains(code),
            "tutorial block not found in chat.rs:\n{code}"
        );
        blocks += 1;
        rest = &body[end..];
    }
    assert!(blocks >= 10, "only {blocks} code blocks checked");
}
