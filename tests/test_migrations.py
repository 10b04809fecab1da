"""The alembic migrations and the models agree: a model changed without a migration
fails here. The ``engine`` fixture has upgraded the test database to head."""
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Index, Integer, MetaData, String, Table, inspect

from cabinet.migrations import alembic_config, upgrade
from cabinet.models import Base


def differences(engine, metadata=Base.metadata):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, metadata)


def current_revision(engine):
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def heads():
    return ScriptDirectory.from_config(alembic_config()).get_heads()


def test_models_and_migrations_agree(engine):
    diff = differences(engine)
    assert diff == [], "the models differ from the migrations; write a migration:\n" + \
        "\n".join(map(str, diff))


def test_database_is_at_the_single_head(engine):
    assert len(heads()) == 1, f"several alembic heads: {heads()}"
    assert current_revision(engine) == heads()[0]


def test_upgrade_is_idempotent(engine):
    tables = set(inspect(engine).get_table_names())
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == heads()[0]
    assert set(inspect(engine).get_table_names()) == tables
    assert differences(engine) == []


def test_the_comparison_sees_a_model_change(engine):
    """(So that the first test can fail.) A column, a table and an index added to a
    copy of the models are reported."""
    changed = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    nodes = changed.tables["nodes"]
    nodes.append_column(Column("colour", String(20)))
    Index("ix_nodes_title", nodes.c.title)
    Table("unmigrated", changed, Column("id", Integer, primary_key=True))
    kinds = {(d[0], getattr(d[-1], "name", None) if isinstance(d, tuple) else None)
             for d in differences(engine, changed)}
    assert ("add_column", "colour") in kinds
    assert ("add_table", "unmigrated") in kinds
    assert ("add_index", "ix_nodes_title") in kinds
