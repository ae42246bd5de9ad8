//! Start-up validation, `--help` and `--version`, and the commands without JWT variables.

use crate::common::*;

#[tokio::test]
async fn missing_jwt_variables_are_each_a_clear_line_and_exit_code_2() {
    let dir = WorkDir::new("missing-jwt");
    let started = run(dir.path(), &[], &[]);
    assert_eq!(started.code, Some(2), "{started}");
    let lines: Vec<&str> = started.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{started}");
    assert!(lines[0].starts_with("invalid configuration: JWT_SECRET is required"), "{started}");
    assert!(
        lines[1].starts_with("invalid configuration: JWT_EXPIRATION_TIME is required"),
        "{started}"
    );
    assert!(
        !dir.path().join("data").exists(),
        "nothing is opened before the configuration is valid"
    );
}

#[tokio::test]
async fn invalid_jwt_variables_are_reported_with_the_other_problems() {
    let dir = WorkDir::new("invalid-jwt");
    for expiration in ["0", "-5", "1h", "abc", "99999999999"] {
        let vars = [("JWT_SECRET", "s"), ("JWT_EXPIRATION_TIME", expiration), ("PORT", "http")];
        let started = run(dir.path(), &vars, &[]);
        assert_eq!(started.code, Some(2), "{expiration}: {started}");
        assert_eq!(started.stderr.lines().count(), 2, "{expiration}: {started}");
        assert!(started.stderr.contains("PORT must be a port number"), "{started}");
        assert!(
            started.stderr.contains("JWT_EXPIRATION_TIME must be a whole number of seconds"),
            "{started}"
        );
        assert!(started.stderr.contains(&format!("{expiration:?}")), "names the value: {started}");
    }
    let started = run(dir.path(), &[("JWT_SECRET", ""), ("JWT_EXPIRATION_TIME", "60")], &[]);
    assert_eq!(started.code, Some(2), "an empty secret is missing: {started}");
    assert!(started.stderr.contains("JWT_SECRET is required"), "{started}");
}

#[tokio::test]
async fn the_secret_is_never_printed() {
    let dir = WorkDir::new("secret");
    let vars = [("JWT_SECRET", "hunter2-secret"), ("JWT_EXPIRATION_TIME", "never")];
    let started = run(dir.path(), &vars, &[]);
    assert_eq!(started.code, Some(2), "{started}");
    assert!(
        !started.stderr.contains("hunter2") && !started.stdout.contains("hunter2"),
        "{started}"
    );
}

#[tokio::test]
async fn version_help_and_commands_need_no_jwt_variable() {
    let dir = WorkDir::new("commands");
    let version = run(dir.path(), &[], &["--version"]);
    assert_eq!(version.code, Some(0), "{version}");
    assert_eq!(version.stdout, format!("blog-api {}\n", env!("CARGO_PKG_VERSION")));
    let help = run(dir.path(), &[], &["--help"]);
    assert_eq!(help.code, Some(0), "{help}");
    assert!(help.stdout.contains("JWT_SECRET") && help.stdout.contains("migration:up"), "{help}");
    let up = run(dir.path(), &[], &["migration:up"]);
    assert_eq!(up.code, Some(0), "{up}");
    assert!(up.stdout.contains("create_blog_tables"), "{up}");
    assert!(dir.path().join("data/blog.sqlite").is_file(), "the default SQLite file");
    let check = run(dir.path(), &[], &["migration:check"]);
    assert_eq!(check.code, Some(0), "the migrations fit the entities: {check}");
}
