//! The untyped filter expression: what a filter is once its types have been checked, and what
//! `crate::sql` renders. The typed builders that produce it live in `filter`.

use crate::value::Value;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Gte,
    /// `<`
    Lt,
    /// `<=`
    Lte,
}

impl CmpOp {
    /// The SQL operator.
    pub fn sql(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Gt => ">",
            CmpOp::Gte => ">=",
            CmpOp::Lt => "<",
            CmpOp::Lte => "<=",
        }
    }
}

/// An untyped filter expression over the columns of one table. Drivers render it.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `column <op> value`; comparing with NULL renders `IS NULL` / `IS NOT NULL`.
    Compare {
        /// The column name.
        column: &'static str,
        /// The operator.
        op: CmpOp,
        /// The value.
        value: Value,
    },
    /// `column [NOT] IN (values…)`; an empty list is false (true when negated).
    InList {
        /// The column name.
        column: &'static str,
        /// The values.
        values: Vec<Value>,
        /// `NOT IN`.
        negated: bool,
    },
    /// `column [NOT] LIKE pattern`, or ILIKE when case-insensitive.
    Like {
        /// The column name.
        column: &'static str,
        /// The pattern, with `%` and `_` wildcards.
        pattern: String,
        /// ILIKE.
        case_insensitive: bool,
        /// NOT LIKE.
        negated: bool,
    },
    /// `column IS [NOT] NULL`.
    IsNull {
        /// The column name.
        column: &'static str,
        /// IS NOT NULL.
        negated: bool,
    },
    /// All of the expressions (true when empty).
    And(Vec<Expr>),
    /// Any of the expressions (false when empty).
    Or(Vec<Expr>),
    /// The negation.
    Not(Box<Expr>),
}
