//! The Strata command line as a library of clap commands that an application's binary embeds.
