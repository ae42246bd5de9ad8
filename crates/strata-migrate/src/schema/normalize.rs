//! Canonical forms of what the database reports differently from how it was declared: default
//! expressions and generated constraint names.

/// The longest identifier PostgreSQL keeps (`NAMEDATALEN - 1`); longer names are truncated.
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// The name Strata gives a constraint or index, as MikroORM does: `<table>_<column>_<suffix>`
/// (`post_title_unique`, `post_title_index`, `post_status_check`), or `<table>_<suffix>`
/// without a column (`post_pkey`). Cut to [`MAX_IDENTIFIER_BYTES`] the way PostgreSQL cuts it,
/// so the name the database reports back is the same.
pub fn constraint_name(table: &str, column: Option<&str>, suffix: &str) -> String {
    let name = match column {
        Some(c) => format!("{table}_{c}_{suffix}"),
        None => format!("{table}_{suffix}"),
    };
    truncate_identifier(&name)
}

/// Cuts `name` to [`MAX_IDENTIFIER_BYTES`] on a character boundary.
pub(crate) fn truncate_identifier(name: &str) -> String {
    if name.len() <= MAX_IDENTIFIER_BYTES {
        return name.to_owned();
    }
    let mut end = MAX_IDENTIFIER_BYTES;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_owned()
}

/// The canonical form of a default expression, so that what an entity declares and what
/// PostgreSQL reports back compare equal:
///
/// - whitespace outside quotes collapses to one space, and everything outside quotes is
///   lowercased (`NOW()` → `now()`, `CURRENT_TIMESTAMP` → `current_timestamp`);
/// - a literal with casts loses them (`'untitled'::character varying` → `'untitled'`,
///   `'{}'::jsonb` → `'{}'`), and a quoted number cast to a number type loses its quotes
///   (`'-1'::integer` → `-1`);
/// - an empty expression is no default.
///
/// Other expressions are compared as written, so write them the way PostgreSQL prints them
/// back (`pg_get_expr`): `(1 + 2)` rather than `1+2`.
pub fn normalize_default(expr: &str) -> Option<String> {
    let text = lower_outside_quotes(expr.trim());
    if text.is_empty() {
        return None;
    }
    Some(strip_literal_casts(&text).unwrap_or(text))
}

/// Lowercases and collapses whitespace outside `'…'` and `"…"`.
fn lower_outside_quotes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quote: Option<char> = None;
    let mut pending_space = false;
    for c in text.chars() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    // A doubled quote re-opens at once, which this handles as close + open.
                    quote = None;
                }
            }
            None if c.is_whitespace() => pending_space = true,
            None => {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                if c == '\'' || c == '"' {
                    quote = Some(c);
                }
                out.extend(c.to_lowercase());
            }
        }
    }
    out
}

/// `'<lit>'::type[::type…]` → `'<lit>'`, or the bare number for numeric casts; `None` when
/// `text` is not a single literal with casts.
fn strip_literal_casts(text: &str) -> Option<String> {
    let literal_end = literal_end(text)?;
    let (literal, mut rest) = text.split_at(literal_end);
    if rest.is_empty() {
        return None;
    }
    let mut numeric_cast = false;
    while !rest.is_empty() {
        let after = rest.strip_prefix("::")?;
        let end = after.find("::").unwrap_or(after.len());
        let ty = after[..end].trim();
        if ty.is_empty() || !ty.chars().all(|c| c.is_ascii_alphanumeric() || " _()[],".contains(c))
        {
            return None;
        }
        numeric_cast = is_numeric_type(ty);
        rest = &after[end..];
    }
    let inner = &literal[1..literal.len() - 1];
    if numeric_cast && is_number(inner) {
        return Some(inner.to_owned());
    }
    Some(literal.to_owned())
}

/// The byte length of the single-quoted literal `text` starts with.
fn literal_end(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    if bytes.first() != Some(&b'\'') {
        return None;
    }
    let mut i = 1;
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            if bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i + 1);
        }
        i += 1;
    }
    None
}

fn is_numeric_type(ty: &str) -> bool {
    matches!(
        ty,
        "smallint"
            | "integer"
            | "bigint"
            | "int"
            | "int2"
            | "int4"
            | "int8"
            | "real"
            | "double precision"
            | "float4"
            | "float8"
    ) || ty.starts_with("numeric")
}

fn is_number(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or_default();
    let frac = parts.next();
    !whole.is_empty()
        && whole.chars().all(|c| c.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_as_postgres_reports_them_equal_the_declared_ones() {
        for (reported, declared) in [
            ("'untitled'::character varying", "'untitled'"),
            ("'x'::text", "'x'"),
            ("''::text", "''"),
            ("'{}'::jsonb", "'{}'"),
            ("'-1'::integer", "-1"),
            ("'2.5'::numeric(10,2)", "2.5"),
            ("now()", "NOW()"),
            ("CURRENT_TIMESTAMP", "current_timestamp"),
            ("true", "TRUE"),
            ("gen_random_uuid()", "gen_random_uuid()"),
            ("'it''s'::text", "'it''s'"),
            ("(1 + 2)", "(1  +  2)"),
        ] {
            assert_eq!(
                normalize_default(reported),
                normalize_default(declared),
                "{reported} vs {declared}"
            );
        }
    }

    #[test]
    fn quoted_text_keeps_its_case_and_spaces() {
        assert_eq!(normalize_default("'Hello  World'::text").as_deref(), Some("'Hello  World'"));
        assert_eq!(normalize_default("'5'::text").as_deref(), Some("'5'"));
        assert_eq!(normalize_default("  ").as_deref(), None);
        assert_eq!(normalize_default("'a' || 'b'").as_deref(), Some("'a' || 'b'"));
    }

    #[test]
    fn long_names_are_cut_like_postgres_cuts_them() {
        let table = "t".repeat(60);
        let name = constraint_name(&table, Some("title"), "unique");
        assert_eq!(name.len(), MAX_IDENTIFIER_BYTES);
        assert!(name.starts_with(&table));
        assert_eq!(constraint_name("post", None, "pkey"), "post_pkey");
    }
}
