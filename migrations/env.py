import logging
import os
from logging.config import fileConfig

from flask import current_app

from alembic import context

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger('alembic.env')


def get_engine():
    # Migrations run as the owner of the tables (DATABASE_OWNER_URL); the app itself connects
    # as a role that owns nothing, so row-level security applies to it (see README).
    owner_url = os.environ.get("DATABASE_OWNER_URL")
    if owner_url:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool
        from portal.config import normalise_db_url
        return create_engine(normalise_db_url(owner_url), poolclass=NullPool)
    return current_app.extensions['migrate'].db.engine


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace(
            '%', '%%')
    except AttributeError:
        return str(get_engine().url).replace('%', '%%')


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option('sqlalchemy.url', get_engine_url())
target_db = current_app.extensions['migrate'].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    if hasattr(target_db, 'metadatas'):
        return target_db.metadatas[None]
    return target_db.metadata


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url, target_metadata=get_metadata(), literal_binds=True
    )

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, 'autogenerate', False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info('No changes in schema detected.')

    conf_args = current_app.extensions['migrate'].configure_args
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    def include_name(name, type_, parent_names):
        # The owner's copy of the row-level security key (core/pgsecurity.py) is written by
        # apply_security, not by a model: autogenerate and `flask db check` leave it alone.
        from portal.core.pgsecurity import RLS_KEY_TABLE
        return not (type_ == "table" and name == RLS_KEY_TABLE)

    conf_args.setdefault("include_name", include_name)

    connectable = get_engine()

    with connectable.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite's batch migrations rebuild a table (copy, DROP, rename): with foreign keys
            # enforced, the DROP of a table other rows point at fails on a populated database.
            # They are off while migrating and checked after it (SQLite's documented procedure).
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=get_metadata(),
            **conf_args
        )

        with context.begin_transaction():
            context.run_migrations()
            if connection.dialect.name == "postgresql" and not getattr(config.cmd_opts, "autogenerate", False):
                # Row-level security, grants and the append-only audit table, derived from the
                # models so that no tenant-owned table can be left without its policy.
                from portal.core.pgsecurity import apply_security
                apply_security(connection, get_metadata())
        if sqlite:
            dbapi_connection = connection.connection.dbapi_connection
            broken = dbapi_connection.execute("PRAGMA foreign_key_check").fetchall()
            dbapi_connection.execute("PRAGMA foreign_keys=ON")
            if broken:
                raise RuntimeError(f"the migration left rows whose foreign keys point nowhere: {broken[:5]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
