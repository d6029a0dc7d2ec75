//! Builders several migrations share (they build the same statements as writing them out).

use sea_orm_migration::prelude::*;

/// A named foreign key from `(table, column)` to `(table, column)`.
pub(crate) fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .to_owned()
}
