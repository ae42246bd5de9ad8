//! The rule for migration ids, `<YYYYMMDDHHMMSS>_<name>`, in one file that two crates compile:
//! `strata-migrate` checks ids at run time, and `strata-macros` (which cannot depend on it,
//! since `strata-migrate` depends on the macros) includes this file with `#[path]` to check the
//! files `embed_migrations!` embeds at compile time. Keep it free of dependencies.

/// Why an id is malformed, or `Ok` for `<14 digits>_<name>` with a name of ASCII letters,
/// digits, `_` and `-`.
pub(crate) fn check_id(id: &str) -> Result<(), String> {
    let (stamp, name) = id.split_once('_').ok_or_else(|| {
        "expected <YYYYMMDDHHMMSS>_<name>, for example 20261124120000_create_post_entity".to_owned()
    })?;
    if stamp.len() != 14 || !stamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "the id must start with a 14-digit timestamp YYYYMMDDHHMMSS, found {stamp:?}"
        ));
    }
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(format!(
            "the name after the timestamp must be ASCII letters, digits, '_' or '-', found {name:?}"
        ));
    }
    Ok(())
}
