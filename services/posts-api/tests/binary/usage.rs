//! `--help`, `--version`, usage errors and invalid configuration.

use crate::common::*;

#[tokio::test]
async fn version_prints_the_name_and_version() {
    let dir = WorkDir::new("version");
    for flag in ["--version", "-V"] {
        let version = run(dir.path(), &[], &[flag]);
        assert_eq!(version.code, Some(0), "{version}");
        assert_eq!(version.stdout, format!("posts-api {}\n", env!("CARGO_PKG_VERSION")));
    }
    assert!(!dir.path().join("data").exists(), "--version opens no database");
}

/// `help <command>` and `<command> --help` print that command's help only, not the
/// service's introduction.
#[tokio::test]
async fn help_for_one_command_prints_only_that_command() {
    let dir = WorkDir::new("help-command");
    for args in [&["help", "migration:up"][..], &["migration:up", "--help"]] {
        let help = run(dir.path(), &[], args);
        assert_eq!(help.code, Some(0), "{args:?}: {help}");
        assert!(help.stdout.starts_with("Apply the pending migrations"), "{args:?}: {help}");
        assert!(!help.stdout.contains("posts REST API"), "{args:?}: {help}");
    }
}

#[tokio::test]
async fn help_exits_0_and_lists_the_commands() {
    let dir = WorkDir::new("help");
    for args in [&["--help"][..], &["-h"], &["help"]] {
        let help = run(dir.path(), &[], args);
        assert_eq!(help.code, Some(0), "{args:?}: {help}");
        for command in ["migration:create", "migration:up", "migration:check", "debug"] {
            assert!(help.stdout.contains(command), "{args:?} lists {command}: {help}");
        }
    }
    let help = run(dir.path(), &[], &["migration:up", "--help"]);
    assert_eq!(help.code, Some(0), "{help}");
    assert!(help.stdout.contains("--to"), "{help}");
    // Help is shown even when the configuration is invalid.
    let help = run(dir.path(), &[("PORT", "abc")], &["--help"]);
    assert_eq!(help.code, Some(0), "{help}");
    assert!(help.stdout.contains("migration:up"), "{help}");
    assert!(!dir.path().join("data").exists(), "--help opens no database");
}

#[tokio::test]
async fn an_unknown_flag_or_command_is_a_usage_error_with_exit_code_2() {
    let dir = WorkDir::new("usage");
    let cases: &[(&[&str], &str)] = &[
        (&["--bogus"], "--bogus"),
        (&["migration:up", "--bogus"], "--bogus"),
        (&["migration:nope"], "migration:nope"),
    ];
    for (args, named) in cases {
        let usage = run(dir.path(), &[], args);
        assert_eq!(usage.code, Some(2), "{args:?}: {usage}");
        assert!(usage.stderr.contains(named), "{args:?} names {named}: {usage}");
    }
    assert!(!dir.path().join("data").exists(), "a usage error opens no database");
}

#[tokio::test]
async fn invalid_configuration_prints_one_line_per_problem_and_exits_2() {
    let dir = WorkDir::new("invalid");
    /// The variables, and the variable each line of the answer names, in order.
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);
    let cases: &[Case<'_>] = &[
        (&[("PORT", "abc")], &["PORT"]),
        (
            &[("PORT", "abc"), ("LOG_LEVEL", "loud"), ("REQUEST_TIMEOUT_SECS", "0")],
            &["PORT", "REQUEST_TIMEOUT_SECS", "LOG_LEVEL"],
        ),
        (&[("DATABASE_URL", "mysql://root:hunter2@db/posts")], &["DATABASE_URL"]),
        (&[("POSTGRES_PORT", "99999")], &["POSTGRES_PORT"]),
    ];
    for (vars, variables) in cases {
        for args in [&[][..], &["migration:up"]] {
            let run = run(dir.path(), vars, args);
            assert_eq!(run.code, Some(2), "{vars:?} {args:?}: {run}");
            assert_eq!(run.stdout, "", "{vars:?} {args:?}");
            let lines: Vec<&str> = run.stderr.lines().collect();
            assert_eq!(lines.len(), variables.len(), "one line per problem: {run}");
            for (line, variable) in lines.iter().zip(*variables) {
                let expected = format!("invalid configuration: {variable}");
                assert!(line.starts_with(&expected), "{vars:?}: {line:?}");
            }
            assert!(!run.stderr.contains("hunter2"), "{run}");
        }
    }
    assert!(!dir.path().join("data").exists(), "nothing was started");
}
