//! One index on ID numbers' blind indexes instead of two. `person_identifier` had an index on
//! `(kind, blind_index)` for finding an ID number, and a unique index on `blind_index` partial
//! to CURPs for one person per CURP: two entries on random keys for every CURP stored, which
//! an import of a million people writes all over both indexes in every chunk.
//!
//! A blind index is keyed by its kind (`Vault::blind_index`), so two kinds never share one and
//! `blind_index` alone finds an ID number. The one index that replaces them is unique on
//! `(blind_index, CASE WHEN kind = 'curp' THEN 0 END)`: for a CURP the second part is 0, so a
//! CURP's blind index is held once; for other kinds it is NULL, and NULLs never collide in a
//! unique index (on both engines), so other ID numbers may repeat until someone reviews them.
//! Any lookup by blind index uses it, with the kind bound or written out: unlike the partial
//! index, which PostgreSQL's generic plans cannot use through a bound `kind`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const ONE: &str = "uq_person_identifier_blind";
const BY_KIND: &str = "idx_person_identifier_blind";
const CURP: &str = "uq_person_identifier_curp";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // Created before the two are dropped: one person per CURP holds throughout.
        db.execute_unprepared(&format!(
            "CREATE UNIQUE INDEX {ONE} ON person_identifier \
             (blind_index, (CASE WHEN kind = 'curp' THEN 0 END))"
        ))
        .await?;
        db.execute_unprepared(&format!("DROP INDEX {CURP}")).await?;
        db.execute_unprepared(&format!("DROP INDEX {BY_KIND}"))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(&format!(
            "CREATE INDEX {BY_KIND} ON person_identifier (kind, blind_index)"
        ))
        .await?;
        db.execute_unprepared(&format!(
            "CREATE UNIQUE INDEX {CURP} ON person_identifier (blind_index) WHERE kind = 'curp'"
        ))
        .await?;
        db.execute_unprepared(&format!("DROP INDEX {ONE}")).await?;
        Ok(())
    }
}
