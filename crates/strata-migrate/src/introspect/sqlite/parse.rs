//! What SQLite's pragmas do not report, read from the `create table` text SQLite keeps in
//! `sqlite_master.sql`: the names of constraints, the enum CHECK constraints, and whether the
//! table is `without rowid`.

/// A token of SQLite's SQL.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// A bare or quoted identifier, or a keyword, unquoted.
    Word {
        text: String,
        quoted: bool,
    },
    /// A string literal, unquoted.
    Str(String),
    Open,
    Close,
    Comma,
    Other,
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
}

impl Token {
    /// True for the unquoted keyword `kw` (any case).
    fn is(&self, kw: &str) -> bool {
        matches!(&self.kind, Kind::Word { text, quoted: false } if text.eq_ignore_ascii_case(kw))
    }

    fn word(&self) -> Option<&str> {
        match &self.kind {
            Kind::Word { text, .. } => Some(text),
            _ => None,
        }
    }
}

fn tokens(sql: &str) -> Vec<Token> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    // Reads a quoted run from `i` (at the opening quote) to its closing `close`, where a
    // doubled closing quote stands for one.
    let quoted = |i: usize, close: u8| -> (String, usize) {
        let mut text = Vec::new();
        let mut j = i + 1;
        while j < b.len() {
            if b[j] == close {
                if close != b']' && b.get(j + 1) == Some(&close) {
                    text.push(close);
                    j += 2;
                    continue;
                }
                return (String::from_utf8_lossy(&text).into_owned(), j + 1);
            }
            text.push(b[j]);
            j += 1;
        }
        (String::from_utf8_lossy(&text).into_owned(), b.len())
    };
    while i < b.len() {
        let c = b[i];
        let start = i;
        let kind = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(b.len(), |n| i + n + 1);
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = sql[i + 2..].find("*/").map_or(b.len(), |n| i + 2 + n + 2);
                continue;
            }
            b'\'' => {
                let (text, next) = quoted(i, b'\'');
                i = next;
                Kind::Str(text)
            }
            b'"' | b'`' | b'[' => {
                let close = if c == b'[' { b']' } else { c };
                let (text, next) = quoted(i, close);
                i = next;
                Kind::Word { text, quoted: true }
            }
            b'(' => {
                i += 1;
                Kind::Open
            }
            b')' => {
                i += 1;
                Kind::Close
            }
            b',' => {
                i += 1;
                Kind::Comma
            }
            _ if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80)
                {
                    i += 1;
                }
                Kind::Word { text: sql[start..i].to_owned(), quoted: false }
            }
            _ => {
                i += 1;
                while i < b.len() && !sql.is_char_boundary(i) {
                    i += 1;
                }
                Kind::Other
            }
        };
        out.push(Token { kind });
    }
    out
}

/// A named or unnamed constraint found in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Named {
    /// The name after `constraint`, if any.
    pub(super) name: Option<String>,
    /// The constrained columns.
    pub(super) columns: Vec<String>,
}

/// An enum check: `"col" in ('a', 'b')`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct EnumCheck {
    pub(super) name: Option<String>,
    pub(super) column: String,
    pub(super) values: Vec<String>,
}

/// What the `create table` text says beyond the pragmas.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct CreateTable {
    pub(super) primary_key: Option<Named>,
    pub(super) uniques: Vec<Named>,
    pub(super) foreign_keys: Vec<Named>,
    pub(super) checks: Vec<EnumCheck>,
    pub(super) without_rowid: bool,
}

/// Reads a `create table` statement. Anything it does not understand is left out.
pub(super) fn create_table(sql: &str) -> CreateTable {
    let toks = tokens(sql);
    let mut out = CreateTable::default();
    let Some(open) = toks.iter().position(|t| t.kind == Kind::Open) else { return out };
    // The definitions: split at top-level commas up to the matching parenthesis.
    let mut depth = 0;
    let mut items: Vec<&[Token]> = Vec::new();
    let mut from = open + 1;
    let mut close = toks.len();
    for (i, t) in toks.iter().enumerate().skip(open) {
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close => {
                depth -= 1;
                if depth == 0 {
                    items.push(&toks[from..i]);
                    close = i;
                    break;
                }
            }
            Kind::Comma if depth == 1 => {
                items.push(&toks[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    let rest = &toks[(close + 1).min(toks.len())..];
    out.without_rowid = rest.windows(2).any(|w| w[0].is("without") && w[1].is("rowid"));
    for item in items {
        definition(item, &mut out);
    }
    out
}

/// The tokens inside the parentheses that open at `toks[0]`, and the index after them.
fn parenthesized(toks: &[Token]) -> Option<(&[Token], usize)> {
    if toks.first()?.kind != Kind::Open {
        return None;
    }
    let mut depth = 0;
    for (i, t) in toks.iter().enumerate() {
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close => {
                depth -= 1;
                if depth == 0 {
                    return Some((&toks[1..i], i + 1));
                }
            }
            _ => {}
        }
    }
    None
}

/// The column names of `("a", "b" collate nocase, "c" desc)`.
fn column_list(toks: &[Token]) -> Vec<String> {
    toks.split(|t| t.kind == Kind::Comma)
        .filter_map(|part| part.first().and_then(Token::word).map(str::to_owned))
        .collect()
}

/// One column definition or table constraint.
fn definition(item: &[Token], out: &mut CreateTable) {
    let starts_constraint =
        |t: &Token| ["constraint", "primary", "unique", "check", "foreign"].iter().any(|k| t.is(k));
    let Some(first) = item.first() else { return };
    if starts_constraint(first) {
        constraints(item, None, out);
        return;
    }
    let Some(column) = first.word() else { return };
    // The column constraints begin at the first keyword that starts one (the type name may be
    // several words: `double precision`, `varchar(255)`).
    let at = item.iter().position(|t| {
        starts_constraint(t)
            || t.is("not")
            || t.is("null")
            || t.is("default")
            || t.is("references")
            || t.is("collate")
            || t.is("generated")
            || t.is("as")
    });
    if let Some(at) = at.filter(|at| *at > 0) {
        constraints(&item[at..], Some(column), out);
    }
}

/// Reads constraints from `toks`; `column` is the column they belong to, for column
/// constraints.
fn constraints(toks: &[Token], column: Option<&str>, out: &mut CreateTable) {
    let mut name: Option<String> = None;
    let mut i = 0;
    let own = || column.map(|c| vec![c.to_owned()]).unwrap_or_default();
    while i < toks.len() {
        let t = &toks[i];
        if t.is("constraint") {
            name = toks.get(i + 1).and_then(Token::word).map(str::to_owned);
            i += 2;
            continue;
        }
        let list_after = |at: usize| -> (Vec<String>, usize) {
            match column {
                Some(_) => (own(), at),
                None => toks
                    .get(at..)
                    .and_then(parenthesized)
                    .map_or((Vec::new(), at), |(inner, n)| (column_list(inner), at + n)),
            }
        };
        if t.is("primary") {
            let (columns, next) = list_after(i + 2);
            out.primary_key = Some(Named { name: name.take(), columns });
            i = next;
        } else if t.is("unique") {
            let (columns, next) = list_after(i + 1);
            out.uniques.push(Named { name: name.take(), columns });
            i = next;
        } else if t.is("foreign") || t.is("references") {
            let (columns, next) = if t.is("foreign") { list_after(i + 2) } else { (own(), i + 1) };
            out.foreign_keys.push(Named { name: name.take(), columns });
            // Skip `references "t" ("id")`, whose `references` starts no second key.
            i = if t.is("foreign") { next + 1 } else { next };
        } else if t.is("check") {
            let Some((inner, n)) = toks.get(i + 1..).and_then(parenthesized) else { return };
            if let Some(check) = enum_check(inner, name.take()) {
                out.checks.push(check);
            }
            i += 1 + n;
        } else {
            i += 1;
        }
    }
}

/// `"col" in ('a', 'b')`, and nothing else.
fn enum_check(toks: &[Token], name: Option<String>) -> Option<EnumCheck> {
    let [col, kw_in, rest @ ..] = toks else { return None };
    if !kw_in.is("in") {
        return None;
    }
    let column = col.word()?.to_owned();
    let (inner, n) = parenthesized(rest)?;
    if n != rest.len() {
        return None;
    }
    let mut values = Vec::new();
    for part in inner.split(|t| t.kind == Kind::Comma) {
        match part {
            [Token { kind: Kind::Str(s), .. }] => values.push(s.clone()),
            _ => return None,
        }
    }
    (!values.is_empty()).then_some(EnumCheck { name, column, values })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: Option<&str>, cols: &[&str]) -> Named {
        Named {
            name: name.map(str::to_owned),
            columns: cols.iter().map(|c| (*c).to_owned()).collect(),
        }
    }

    #[test]
    fn constraints_are_read_with_their_names() {
        let t = create_table(
            r#"CREATE TABLE "post" ( -- a comment, with a comma
                "id" INTEGER PRIMARY KEY AUTOINCREMENT,
                [slug] varchar(100) NOT NULL CONSTRAINT "post_slug_unique" UNIQUE,
                `status` TEXT NOT NULL DEFAULT 'it''s' CHECK ("status" IN ('draft', 'it''s')),
                "author" INT CONSTRAINT post_author_foreign REFERENCES "author" ("id"),
                "kind" text, /* (unbalanced */
                CONSTRAINT "post_kind_check" CHECK ("kind" in ('a')),
                CHECK (length("kind") > 2),
                UNIQUE ("kind", "slug"),
                CONSTRAINT "post_pair_foreign" FOREIGN KEY ("kind") REFERENCES x ("k") ON DELETE CASCADE
            )"#,
        );
        assert_eq!(t.primary_key, Some(named(None, &["id"])));
        assert_eq!(
            t.uniques,
            [named(Some("post_slug_unique"), &["slug"]), named(None, &["kind", "slug"])]
        );
        assert_eq!(
            t.foreign_keys,
            [
                named(Some("post_author_foreign"), &["author"]),
                named(Some("post_pair_foreign"), &["kind"])
            ]
        );
        assert_eq!(
            t.checks,
            [
                EnumCheck {
                    name: None,
                    column: "status".into(),
                    values: vec!["draft".into(), "it's".into()]
                },
                EnumCheck {
                    name: Some("post_kind_check".into()),
                    column: "kind".into(),
                    values: vec!["a".into()]
                },
            ]
        );
        assert!(!t.without_rowid);
    }

    #[test]
    fn table_keys_and_without_rowid_are_read() {
        let t = create_table(
            "create table t (a int not null, b text, constraint t_key primary key (a, b)) without rowid",
        );
        assert_eq!(t.primary_key, Some(named(Some("t_key"), &["a", "b"])));
        assert!(t.without_rowid);
    }
}
