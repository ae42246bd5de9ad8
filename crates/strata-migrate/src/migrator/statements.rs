//! Splits a migration file into its statements, to name the one that failed.
//!
//! The migrator runs a file as one batch, exactly as the database parses it; only after a failure
//! does it split the file here and re-run the statements one by one (in a transaction it rolls
//! back) to find the failing one. So a mistake in this splitter can only make an error message
//! less precise, never change what a migration does.
//!
//! It knows the lexical forms that may contain a `;` without ending a statement: `'…'` strings
//! (with `''`), `E'…'` strings (with backslash escapes), `"…"` identifiers, `$tag$…$tag$`
//! dollar quotes, `-- …` comments and nested `/* … */` comments.

/// The statements of `sql`, trimmed, without empty or comment-only ones.
pub(crate) fn split(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let mut has_code = false;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\'' => {
                let escapes =
                    i > 0 && matches!(bytes[i - 1], b'e' | b'E') && !ident_before(bytes, i - 1);
                i = skip_quoted(bytes, i, b'\'', escapes);
                has_code = true;
            }
            b'"' => {
                i = skip_quoted(bytes, i, b'"', false);
                has_code = true;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = skip_block_comment(bytes, i),
            b'$' => {
                i = match dollar_tag(sql, i) {
                    Some(tag) => {
                        let body = i + tag.len();
                        sql[body..].find(tag).map_or(bytes.len(), |n| body + n + tag.len())
                    }
                    None => i + 1,
                };
                has_code = true;
            }
            b';' => {
                if has_code {
                    out.push(sql[start..i].trim());
                }
                i += 1;
                start = i;
                has_code = false;
            }
            _ => {
                if !b.is_ascii_whitespace() {
                    has_code = true;
                }
                i += 1;
            }
        }
    }
    if has_code {
        out.push(sql[start..].trim());
    }
    out
}

/// True when the byte at `at` continues an identifier (so `e'…'` in `some'` is not `E'…'`).
fn ident_before(bytes: &[u8], at: usize) -> bool {
    at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_')
}

/// The index after the closing quote of the quoted text opening at `open`.
fn skip_quoted(bytes: &[u8], open: usize, quote: u8, backslash_escapes: bool) -> usize {
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if backslash_escapes => i += 2,
            q if q == quote => {
                if bytes.get(i + 1) == Some(&quote) {
                    i += 2;
                } else {
                    return i + 1;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The index after a (possibly nested) block comment opening at `open`.
fn skip_block_comment(bytes: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    let mut i = open;
    while i + 1 < bytes.len() {
        if bytes[i] == b'/' && bytes[i + 1] == b'*' {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes[i + 1] == b'/' {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// The dollar-quote tag (`$$`, `$body$`) opening at `at`, if one does.
fn dollar_tag(sql: &str, at: usize) -> Option<&str> {
    let bytes = sql.as_bytes();
    // `$1` is a parameter and `a$b` part of an identifier, not a quote.
    if ident_before(bytes, at) || (at > 0 && bytes[at - 1] == b'$') {
        return None;
    }
    let mut end = at + 1;
    while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
        end += 1;
    }
    let first = bytes.get(at + 1).copied();
    if bytes.get(end) == Some(&b'$') && !first.is_some_and(|b| b.is_ascii_digit()) {
        Some(&sql[at..=end])
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn splits_on_top_level_semicolons() {
        assert_eq!(
            split("create table a (x int);\n\ninsert into a values (1);"),
            ["create table a (x int)", "insert into a values (1)"]
        );
    }

    #[test]
    fn keeps_semicolons_inside_quotes_comments_and_dollar_quotes() {
        let sql = "insert into a values ('x;y', 'it''s;'); -- a comment; here\n\
                   select \"we;ird\" from t /* a ; /* nested ; */ still ; */;\n\
                   do $body$ begin perform 1; end $body$;\n\
                   select E'\\';' ;\n\
                   select $$a;b$$";
        let parts = split(sql);
        assert_eq!(parts.len(), 5, "{parts:#?}");
        assert_eq!(parts[0], "insert into a values ('x;y', 'it''s;')");
        assert!(parts[1].ends_with("still ; */"), "{}", parts[1]);
        assert_eq!(parts[2], "do $body$ begin perform 1; end $body$");
        assert_eq!(parts[3], "select E'\\';'");
        assert_eq!(parts[4], "select $$a;b$$");
    }

    #[test]
    fn drops_empty_and_comment_only_statements() {
        assert_eq!(split("-- only a comment\n;;  ; select 1; -- trailing"), ["select 1"]);
        assert!(split("  \n-- nothing\n").is_empty());
    }
}
