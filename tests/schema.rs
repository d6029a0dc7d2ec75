//! Migrations and the reference-catalog seed, on SQLite and (with `ANGEL_TEST_DATABASE_URL`)
//! on PostgreSQL.

use angel_entity::{office, program};
use angel_migration::{Migrator, MigratorTrait, TABLES};
use angel_tests::TestDb;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
};
use sea_orm_migration::SchemaManager;

async fn existing_tables(t: &TestDb) -> Vec<&'static str> {
    let manager = SchemaManager::new(&t.db);
    let mut found = Vec::new();
    for table in TABLES {
        if manager.has_table(*table).await.expect("has_table") {
            found.push(*table);
        }
    }
    found
}

async fn table_counts(t: &TestDb) -> Vec<(&'static str, i64)> {
    let mut counts = Vec::new();
    for table in TABLES {
        counts.push((*table, t.count(table).await));
    }
    counts
}

#[tokio::test]
async fn migrations_go_up_down_and_up_again() {
    let t = TestDb::empty().await;
    assert!(existing_tables(&t).await.is_empty());

    Migrator::up(&t.db, None).await.expect("up");
    assert_eq!(existing_tables(&t).await, TABLES);
    assert!(
        Migrator::get_pending_migrations(&t.db)
            .await
            .unwrap()
            .is_empty()
    );

    Migrator::down(&t.db, None).await.expect("down");
    assert!(
        existing_tables(&t).await.is_empty(),
        "down must remove every table"
    );
    assert_eq!(
        Migrator::get_pending_migrations(&t.db).await.unwrap().len(),
        Migrator::migrations().len()
    );

    Migrator::up(&t.db, None).await.expect("up again");
    assert_eq!(existing_tables(&t).await, TABLES);
}

#[tokio::test]
async fn seeding_twice_gives_the_same_row_counts() {
    let t = TestDb::migrated().await;
    let first = angel_server::seed::run(&t.db).await.expect("first seed");
    assert_eq!(
        (
            first.agencies,
            first.programs,
            first.life_events,
            first.boroughs,
            first.offices
        ),
        (9, 15, 15, 16, 17)
    );
    let before = table_counts(&t).await;

    let second = angel_server::seed::run(&t.db).await.expect("second seed");
    assert_eq!(
        second,
        angel_server::seed::SeedReport::default(),
        "second run inserts nothing"
    );
    assert_eq!(table_counts(&t).await, before);
    assert_eq!(t.count("life_event_program").await, first.links as i64);
}

#[tokio::test]
async fn seeding_never_overwrites_an_edited_row() {
    let t = TestDb::seeded().await;
    let paam = program::Entity::find()
        .filter(program::Column::Code.eq("PAAM"))
        .one(&t.db)
        .await
        .unwrap()
        .expect("PAAM seeded");
    let mut edited = paam.into_active_model();
    edited.name_es = Set("Pensión Universal para Personas Adultas Mayores".into());
    edited.update(&t.db).await.unwrap();

    angel_server::seed::run(&t.db).await.unwrap();

    let paam = program::Entity::find()
        .filter(program::Column::Code.eq("PAAM"))
        .one(&t.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        paam.name_es,
        "Pensión Universal para Personas Adultas Mayores"
    );
}

#[tokio::test]
async fn the_schema_refuses_an_office_kind_outside_the_closed_set() {
    let t = TestDb::migrated().await;
    let bad = office::ActiveModel {
        code: Set("X-1".into()),
        name: Set("Oficina".into()),
        kind: Set("embassy".into()),
        ..Default::default()
    };
    assert!(office::Entity::insert(bad).exec(&t.db).await.is_err());
    assert_eq!(t.count("office").await, 0, "nothing written");
}

#[tokio::test]
async fn the_schema_refuses_a_program_of_an_unknown_agency() {
    let t = TestDb::migrated().await;
    let orphan = program::ActiveModel {
        code: Set("ORPHAN".into()),
        agency_id: Set(999),
        name_es: Set("x".into()),
        name_en: Set("x".into()),
        eligibility_es: Set(String::new()),
        eligibility_en: Set(String::new()),
        benefit_es: Set(String::new()),
        benefit_en: Set(String::new()),
        verified: Set(true),
        sources: Set(String::new()),
        ..Default::default()
    };
    assert!(
        program::Entity::insert(orphan).exec(&t.db).await.is_err(),
        "foreign keys enforced"
    );
    assert_eq!(t.count("program").await, 0);
}

#[tokio::test]
async fn the_suite_runs_on_the_engine_it_was_asked_for() {
    let t = TestDb::empty().await;
    let wants_pg = std::env::var(angel_tests::PG_ENV).is_ok();
    assert_eq!(t.is_postgres(), wants_pg);
    let backend = format!(
        "{:?}",
        sea_orm::ConnectionTrait::get_database_backend(&t.db)
    );
    assert_eq!(backend, if wants_pg { "Postgres" } else { "Sqlite" });
}
