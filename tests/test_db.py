"""The schema comes from Alembic migrations and matches the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from kb import db as kbdb


def test_migrations_create_the_schema_the_models_describe(database_url):
    engine = kbdb.make_engine(database_url)
    assert not kbdb.has_schema(engine)
    kbdb.upgrade(engine)
    kbdb.upgrade(engine)  # a second run is a no-op
    assert kbdb.has_schema(engine)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    assert diffs == [], "models changed without a migration: add one with alembic revision --autogenerate"
