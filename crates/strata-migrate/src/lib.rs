//! The schema engine of Strata: schema model, introspection, diff, DDL, migration files and the migrator.
