//! Which migrations a run applies or reverts, as MikroORM's `migration:up` and
//! `migration:down` choose them:
//!
//! | run | chooses |
//! | --- | --- |
//! | `up` | every pending migration, in id order |
//! | `up --from A` | the pending migrations after `A` (`A` itself is not applied; `--from 0`: all) |
//! | `up --to B` | the pending migrations up to and including `B` (`--to 0`: all) |
//! | `up --from A --to B` | both limits |
//! | `up --only A,B` | the named migrations, if pending, in id order |
//! | `down` | the newest applied migration |
//! | `down --to B` | every migration applied after `B`, and `B` (`--to 0`: all) |
//! | `down --only A,B` | the named migrations, if applied, newest first |
//!
//! A migration is named by its full id, a unique prefix of it (its timestamp), or its name
//! after the timestamp.
//!
//! Resolution also matches the source's files with the tracking table's records: an applied
//! migration whose file changed stops every run ([`verify`]), one whose file is missing is
//! reported and listed as missing, and cannot be reverted ([`revert_steps`]).

use super::progress::{MigrationState, MigrationStatus, Progress, Reporter};
use super::storage::Record;
use crate::files::Migration;
use std::collections::{HashMap, HashSet};
use strata_core::{Error, Result};

/// How far `down` reverts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DownTo {
    /// The last applied migration only.
    #[default]
    OneStep,
    /// Every applied migration (`--to 0`).
    All,
    /// Every migration applied after this one, and this one.
    Migration(String),
    /// These applied migrations only, newest first (`--only`); the others stay applied.
    Only(Vec<String>),
}

impl DownTo {
    /// Reads the `--to` argument of `migration:down`: none is one step, `0` is all, anything else
    /// names a migration.
    pub fn parse(to: Option<&str>) -> Self {
        match to {
            None => Self::OneStep,
            Some("0") => Self::All,
            Some(name) => Self::Migration(name.to_owned()),
        }
    }
}

/// Which pending migrations `up` applies: all of them by default.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpTo {
    /// Only the migrations after this one (`--from`); it is not applied itself. `0` means no
    /// limit.
    pub from: Option<String>,
    /// Only the migrations up to and including this one (`--to`); `0` means no limit.
    pub to: Option<String>,
    /// Only these migrations (`--only`); empty means no such limit. Not combined with `from`
    /// or `to`.
    pub only: Vec<String>,
}

impl UpTo {
    /// Every pending migration.
    pub fn all() -> Self {
        Self::default()
    }

    /// The pending migrations up to and including `to`, when given.
    pub fn to(to: Option<&str>) -> Self {
        Self { to: to.map(str::to_owned), ..Self::default() }
    }
}

/// Stops on an edited applied migration; reports applied migrations without a file.
pub(super) fn verify(
    records: &[Record],
    migrations: &[Migration],
    reporter: &Reporter,
) -> Result<()> {
    let by_id: HashMap<&str, &Migration> = migrations.iter().map(|m| (m.id.as_str(), m)).collect();
    for r in records {
        match by_id.get(r.name.as_str()) {
            Some(m) if m.checksum != r.checksum => {
                return Err(Error::usage(format!(
                    "migration {} was changed after it was applied (checksum {} recorded, \
                     {} now): restore its up SQL as it was applied, and put the change in a \
                     new migration",
                    r.name, r.checksum, m.checksum
                )));
            }
            Some(_) => {}
            None => reporter.report(&Progress::Missing { id: &r.name }),
        }
    }
    Ok(())
}

/// Every migration, applied, pending or missing, in id order.
pub(super) fn status(records: &[Record], migrations: &[Migration]) -> Vec<MigrationStatus> {
    let recorded: HashMap<&str, &Record> = records.iter().map(|r| (r.name.as_str(), r)).collect();
    let mut out: Vec<MigrationStatus> = migrations
        .iter()
        .map(|m| MigrationStatus {
            name: m.id.clone(),
            state: match recorded.get(m.id.as_str()) {
                Some(r) => MigrationState::Executed(r.executed_at),
                None => MigrationState::Pending,
            },
        })
        .collect();
    let known: HashSet<&str> = migrations.iter().map(|m| m.id.as_str()).collect();
    out.extend(records.iter().filter(|r| !known.contains(r.name.as_str())).map(|r| {
        MigrationStatus { name: r.name.clone(), state: MigrationState::Missing(r.executed_at) }
    }));
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The migrations not recorded yet, in id order.
pub(super) fn pending<'m>(records: &[Record], migrations: &'m [Migration]) -> Vec<&'m Migration> {
    let recorded: HashSet<&str> = records.iter().map(|r| r.name.as_str()).collect();
    migrations.iter().filter(|m| !recorded.contains(m.id.as_str())).collect()
}

/// The pending migrations that `up` applies, in id order.
pub(super) fn apply_steps<'m>(
    records: &[Record],
    migrations: &'m [Migration],
    up: &UpTo,
) -> Result<Vec<&'m Migration>> {
    let ids: Vec<&str> = migrations.iter().map(|m| m.id.as_str()).collect();
    let pending: Vec<&str> = pending(records, migrations).iter().map(|m| m.id.as_str()).collect();
    let chosen: HashSet<&str> = to_apply(&ids, &pending, up)?.into_iter().collect();
    Ok(migrations.iter().filter(|m| chosen.contains(m.id.as_str())).collect())
}

/// The migrations that `down` reverts, newest first, each with its down SQL. An error, before
/// anything is reverted, for one whose file is missing from `source` or has no down SQL.
pub(super) fn revert_steps<'m>(
    records: &[Record],
    migrations: &'m [Migration],
    to: &DownTo,
    source: &str,
) -> Result<Vec<(&'m Migration, &'m str)>> {
    let newest_first: Vec<&str> = records.iter().rev().map(|r| r.name.as_str()).collect();
    let mut known: Vec<&str> = migrations.iter().map(|m| m.id.as_str()).collect();
    known.extend(newest_first.iter().copied());
    known.sort_unstable();
    known.dedup();
    let chosen = to_revert(&newest_first, &known, to)?;
    let by_id: HashMap<&str, &Migration> = migrations.iter().map(|m| (m.id.as_str(), m)).collect();
    chosen
        .into_iter()
        .map(|id| {
            let Some(m) = by_id.get(id) else {
                return Err(Error::usage(format!(
                    "cannot revert migration {id}: its file is missing from {source}; nothing \
                     was reverted"
                )));
            };
            let Some(down) = m.down.as_deref() else {
                return Err(Error::usage(format!(
                    "cannot revert migration {}: it has no down SQL ({}.down.sql); nothing was \
                     reverted",
                    m.id, m.id
                )));
            };
            Ok((*m, down))
        })
        .collect()
}

/// The ids of `pending` (a subset of `ids`, both in id order) that `up` applies.
fn to_apply<'a>(ids: &[&'a str], pending: &[&'a str], up: &UpTo) -> Result<Vec<&'a str>> {
    if !up.only.is_empty() {
        if up.from.is_some() || up.to.is_some() {
            return Err(Error::usage(
                "migration:up --only names the migrations to apply: give it without --from and --to",
            ));
        }
        let named: HashSet<&str> = up
            .only
            .iter()
            .map(|n| resolve(ids, n, "migration:up --only"))
            .collect::<Result<_>>()?;
        return Ok(pending.iter().copied().filter(|id| named.contains(id)).collect());
    }
    let from = match up.from.as_deref() {
        None | Some("0") => None,
        Some(f) => Some(resolve(ids, f, "migration:up --from")?),
    };
    let to = match up.to.as_deref() {
        None | Some("0") => None,
        Some(t) => Some(resolve(ids, t, "migration:up --to")?),
    };
    Ok(pending
        .iter()
        .copied()
        .filter(|id| from.is_none_or(|f| *id > f) && to.is_none_or(|t| *id <= t))
        .collect())
}

/// The ids of `applied_newest_first` that `down` reverts, in the order to revert them. `known`
/// is every id a name may refer to (the files' and the applied ones).
fn to_revert<'a>(
    applied_newest_first: &[&'a str],
    known: &[&'a str],
    to: &DownTo,
) -> Result<Vec<&'a str>> {
    let count = match to {
        DownTo::OneStep => applied_newest_first.len().min(1),
        DownTo::All => applied_newest_first.len(),
        DownTo::Migration(name) => {
            let target = resolve(applied_newest_first, name, "migration:down --to")?;
            applied_newest_first.iter().position(|id| *id == target).map_or(0, |p| p + 1)
        }
        DownTo::Only(names) => {
            let named: HashSet<&str> = names
                .iter()
                .map(|n| resolve(known, n, "migration:down --only"))
                .collect::<Result<_>>()?;
            return Ok(applied_newest_first
                .iter()
                .copied()
                .filter(|id| named.contains(id))
                .collect());
        }
    };
    Ok(applied_newest_first[..count].to_vec())
}

/// The id among `ids` that `wanted` names: the id itself, a unique prefix (the timestamp), or
/// the name after the timestamp.
fn resolve<'a>(ids: &[&'a str], wanted: &str, option: &str) -> Result<&'a str> {
    if let Some(id) = ids.iter().find(|id| **id == wanted) {
        return Ok(id);
    }
    let mut matches: Vec<&'a str> = ids
        .iter()
        .copied()
        .filter(|id| id.starts_with(wanted) || id.split_once('_').is_some_and(|(_, n)| n == wanted))
        .collect();
    matches.dedup();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(Error::usage(format!(
            "{option} {wanted}: no such migration{}",
            if ids.is_empty() {
                String::from(" (there are none)")
            } else {
                format!("; known: {}", ids.join(", "))
            }
        ))),
        many => Err(Error::usage(format!(
            "{option} {wanted} is ambiguous: it matches {}; give the full id",
            many.join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDS: [&str; 4] =
        ["20260101000000_a", "20260102000000_b", "20260103000000_c", "20260104000000_d"];

    #[test]
    fn down_to_reads_the_cli_argument() {
        assert_eq!(DownTo::parse(None), DownTo::OneStep);
        assert_eq!(DownTo::parse(Some("0")), DownTo::All);
        assert_eq!(DownTo::parse(Some("x")), DownTo::Migration("x".into()));
    }

    #[test]
    fn resolve_accepts_id_prefix_or_name() {
        let ids = ["20260101000000_a", "20260102000000_b", "20260102000001_c"];
        assert_eq!(resolve(&ids, "20260101000000_a", "--to").unwrap(), ids[0]);
        assert_eq!(resolve(&ids, "20260101", "--to").unwrap(), ids[0]);
        assert_eq!(resolve(&ids, "b", "--to").unwrap(), ids[1]);
        let err = resolve(&ids, "20260102", "--to").unwrap_err();
        assert!(err.message().contains("ambiguous"), "{err}");
        let err = resolve(&ids, "zzz", "--to").unwrap_err();
        assert!(err.message().contains("no such migration"), "{err}");
    }

    #[test]
    fn up_from_excludes_its_migration_and_to_includes_its_own() {
        let pending = IDS;
        let up = |from: Option<&str>, to: Option<&str>| UpTo {
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
            only: Vec::new(),
        };
        assert_eq!(to_apply(&IDS, &pending, &UpTo::all()).unwrap(), IDS);
        assert_eq!(to_apply(&IDS, &pending, &up(Some("a"), None)).unwrap(), &IDS[1..]);
        assert_eq!(to_apply(&IDS, &pending, &up(None, Some("c"))).unwrap(), &IDS[..3]);
        assert_eq!(to_apply(&IDS, &pending, &up(Some("a"), Some("c"))).unwrap(), &IDS[1..3]);
        assert_eq!(to_apply(&IDS, &pending, &up(None, Some("0"))).unwrap(), IDS, "--to 0: all");
        assert_eq!(to_apply(&IDS, &pending, &up(Some("0"), None)).unwrap(), IDS, "--from 0: all");
        // Applied migrations are never chosen again.
        assert_eq!(to_apply(&IDS, &IDS[2..], &up(Some("a"), None)).unwrap(), &IDS[2..]);
    }

    #[test]
    fn up_only_applies_the_named_pending_migrations_in_id_order() {
        let only = |names: &[&str]| UpTo {
            only: names.iter().map(|n| (*n).to_owned()).collect(),
            ..UpTo::default()
        };
        assert_eq!(to_apply(&IDS, &IDS, &only(&["d", "20260102"])).unwrap(), [IDS[1], IDS[3]]);
        assert!(to_apply(&IDS, &IDS[1..], &only(&["a"])).unwrap().is_empty(), "a is applied");
        assert!(to_apply(&IDS, &IDS, &only(&["zzz"])).is_err());
        let mixed = UpTo { to: Some("c".into()), ..only(&["a"]) };
        let err = to_apply(&IDS, &IDS, &mixed).unwrap_err();
        assert!(err.message().contains("without --from and --to"), "{err}");
    }

    #[test]
    fn down_only_reverts_the_named_applied_migrations_newest_first() {
        let applied: Vec<&str> = IDS.iter().rev().copied().collect();
        let only = DownTo::Only(vec!["a".into(), "c".into()]);
        assert_eq!(to_revert(&applied, &IDS, &only).unwrap(), [IDS[2], IDS[0]]);
        assert_eq!(
            to_revert(&applied, &IDS, &DownTo::Migration("c".into())).unwrap(),
            [IDS[3], IDS[2]]
        );
        assert_eq!(to_revert(&applied, &IDS, &DownTo::OneStep).unwrap(), [IDS[3]]);
        assert_eq!(to_revert(&applied, &IDS, &DownTo::All).unwrap(), applied);
        let err = to_revert(&applied, &IDS, &DownTo::Only(vec!["zzz".into()])).unwrap_err();
        assert!(err.message().contains("no such migration"), "{err}");
    }
}
