//! Default names: tables and columns from Rust names, and the stored text of enum variants.

/// MikroORM's UnderscoreNamingStrategy: `PostEntity` → `post_entity`, `HTTPServer` →
/// `http_server`, `createdAt` → `created_at`, `already_snake` unchanged.
///
/// An uppercase letter starts a new word after a lowercase letter or a digit, and after an
/// uppercase letter when a lowercase one follows (the `S` of `HTTPServer`).
///
/// ```
/// use strata_conventions::underscore;
/// assert_eq!(underscore("PostEntity"), "post_entity");
/// assert_eq!(underscore("HTTPServer"), "http_server");
/// ```
pub fn underscore(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let boundary = match prev {
                None | Some('_') => false,
                Some(p) if p.is_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_uppercase() => next_is_lower,
                Some(_) => false,
            };
            if boundary {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::underscore;

    #[test]
    fn underscore_naming_matches_mikro_orm() {
        for (input, expected) in [
            ("PostEntity", "post_entity"),
            ("Post", "post"),
            ("HTTPServer", "http_server"),
            ("createdAt", "created_at"),
            ("already_snake", "already_snake"),
            ("Version2Thing", "version2_thing"),
            ("InReview", "in_review"),
            ("A", "a"),
            ("", ""),
        ] {
            assert_eq!(underscore(input), expected, "naming of {input:?}");
        }
    }
}
