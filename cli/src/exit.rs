//! Exit codes, and the failure a command ends with.

use vbolt::Error;

/// What the process exit code says. The help text's list is generated
/// from this enum, so the two cannot disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The answer is no: `get` found no such key, `check` found problems.
    No = 1,
    /// The command line is wrong.
    Usage = 2,
    /// The database cannot be opened.
    Open = 3,
    /// The operation failed.
    Failed = 4,
}

impl Exit {
    const ALL: [(Exit, &'static str); 4] = [
        (
            Exit::No,
            "the answer is no: `get` found no such key, `check` found problems",
        ),
        (Exit::Usage, "usage error"),
        (
            Exit::Open,
            "the file cannot be opened: missing, in use by another process, or not\n     a vbolt database",
        ),
        (
            Exit::Failed,
            "the operation failed (I/O error, invalid backup, ...)",
        ),
    ];

    /// The exit-code section of `--help`.
    pub fn help() -> String {
        let mut text = String::from("Exit codes:\n  0  success");
        for (exit, what) in Exit::ALL {
            text.push_str(&format!("\n  {}  {what}", exit as u8));
        }
        text
    }
}

/// A command's failure: the message printed and the exit code.
pub struct Failure {
    pub exit: Exit,
    pub message: String,
}

/// A failure with `exit` as its code.
pub fn fail(exit: Exit, message: impl Into<String>) -> Failure {
    Failure {
        exit,
        message: message.into(),
    }
}

/// A failed operation on an open database.
pub fn operation(e: Error) -> Failure {
    fail(Exit::Failed, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_help_lists_every_code_in_order() {
        let help = Exit::help();
        let codes: Vec<&str> = help
            .lines()
            .filter_map(|l| l.trim_start().split_once("  ").map(|(c, _)| c))
            .filter(|c| c.parse::<u8>().is_ok())
            .collect();
        assert_eq!(codes, ["0", "1", "2", "3", "4"]);
    }
}
