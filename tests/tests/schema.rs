//! The column lists in `hostview_core::schema` match the tables the migrations create.

use anyhow::Result;
use hostview_core::schema::SESSION_TABLES;
use hostview_e2e::{Backend, TestEnv};

fn check_columns_exist(backend: Backend) -> Result<()> {
    let env = TestEnv::new(backend)?;
    let _store = env.store()?;
    for table in SESSION_TABLES {
        for column in table.columns {
            let sql = match backend {
                Backend::Sqlite => format!(
                    "SELECT count(*) FROM pragma_table_info('{}') WHERE name = '{}'",
                    table.name, column.name
                ),
                Backend::Postgres => format!(
                    "SELECT count(*) FROM information_schema.columns \
                     WHERE table_name = '{}' AND column_name = '{}'",
                    table.name, column.name
                ),
            };
            assert_eq!(
                env.query_i64(&sql)?,
                1,
                "{}.{} is missing",
                table.name,
                column.name
            );
        }
    }
    Ok(())
}

#[test]
fn schema_columns_exist_sqlite() -> Result<()> {
    check_columns_exist(Backend::Sqlite)
}

#[test]
fn schema_columns_exist_postgres() -> Result<()> {
    check_columns_exist(Backend::Postgres)
}

fn check_migrations_idempotent(backend: Backend) -> Result<()> {
    let env = TestEnv::new(backend)?;
    drop(env.store()?);
    drop(env.store()?);
    assert_eq!(env.count("hostview_migrations")?, 1);
    Ok(())
}

#[test]
fn migrations_apply_once_sqlite() -> Result<()> {
    check_migrations_idempotent(Backend::Sqlite)
}

#[test]
fn migrations_apply_once_postgres() -> Result<()> {
    check_migrations_idempotent(Backend::Postgres)
}
