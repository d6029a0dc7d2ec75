use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Borough::Table)
                    .col(pk_auto(Borough::Id))
                    // INEGI code: state 09 + municipality 002..017.
                    .col(char_len_uniq(Borough::InegiCode, 5).check(Expr::cust(
                        "length(inegi_code) = 5 AND inegi_code LIKE '09%'",
                    )))
                    .col(string(Borough::Name))
                    .col(
                        big_integer(Borough::Population2020)
                            .check(Expr::cust("population_2020 >= 0")),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Borough::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Borough {
    Table,
    Id,
    InegiCode,
    Name,
    #[sea_orm(iden = "population_2020")]
    Population2020,
}
