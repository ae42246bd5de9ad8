//! The commit order: tables sorted so that a row is inserted after the rows it references and
//! deleted before them (MikroORM's CommitOrderCalculator). Without relations every table is
//! independent and the order is the order in which tables were first used.

use crate::error::{Error, Result};

/// Sorts `tables` (names with the names they reference) topologically, stable with respect
/// to the input order. A cycle is reported as an error naming the tables in it.
pub fn commit_order<'a>(tables: &[(&'a str, &'a [&'a str])]) -> Result<Vec<usize>> {
    let n = tables.len();
    let index_of = |name: &str| tables.iter().position(|(t, _)| *t == name);
    // deps[i]: the tables i references that are part of this flush (self-references ignored).
    let deps: Vec<Vec<usize>> = tables
        .iter()
        .enumerate()
        .map(|(i, (_, refs))| refs.iter().filter_map(|r| index_of(r)).filter(|&j| j != i).collect())
        .collect();
    let mut done = vec![false; n];
    let mut order = Vec::with_capacity(n);
    while order.len() < n {
        let next = (0..n).find(|&i| !done[i] && deps[i].iter().all(|&d| done[d]));
        match next {
            Some(i) => {
                done[i] = true;
                order.push(i);
            }
            None => {
                let cycle: Vec<&str> = (0..n).filter(|&i| !done[i]).map(|i| tables[i].0).collect();
                return Err(Error::usage(format!(
                    "cannot order the flush: the tables {} reference each other in a cycle",
                    cycle.join(", ")
                )));
            }
        }
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::commit_order;

    #[test]
    fn independent_tables_keep_their_order() {
        let t = [("a", &[][..]), ("b", &[][..]), ("c", &[][..])];
        assert_eq!(commit_order(&t).unwrap(), vec![0, 1, 2]);
    }

    #[test]
    fn referenced_tables_come_first() {
        // comment -> post -> author; given in the worst order.
        let t =
            [("comment", &["post", "author"][..]), ("post", &["author"][..]), ("author", &[][..])];
        assert_eq!(commit_order(&t).unwrap(), vec![2, 1, 0]);
    }

    #[test]
    fn references_outside_the_flush_and_self_references_are_ignored() {
        let t = [("category", &["category", "elsewhere"][..]), ("tag", &[][..])];
        assert_eq!(commit_order(&t).unwrap(), vec![0, 1]);
    }

    #[test]
    fn cycles_are_reported() {
        let t = [("a", &["b"][..]), ("b", &["a"][..]), ("c", &[][..])];
        let err = commit_order(&t).unwrap_err();
        assert!(err.message().contains("a, b"), "{}", err.message());
    }
}
