"""Running the alembic migrations from code (scripts and tests)."""
from alembic import command
from alembic.config import Config


def alembic_config(url=None, connection=None):
    config = Config()
    config.set_main_option("script_location", "cabinet:alembic")
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine):
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection=connection), "head")
