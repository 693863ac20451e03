"""statement entry guard per statement on postgresql

Revision ID: 31f852e98104
Revises: 45abe2b80581
Create Date: 2026-11-29 21:16:41.372527

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '31f852e98104'
down_revision = '45abe2b80581'
branch_labels = None
depends_on = None


FROZEN = "('approved', 'paid')"
REFUSAL = "RAISE EXCEPTION 'an approved statement never changes' USING ERRCODE = 'integrity_constraint_violation'"

# A statement's entries (one per visit paid or penalised) are written and replaced in sets of up
# to a hundred thousand rows. On PostgreSQL the guard that keeps a frozen statement's entries fixed
# (migration 45abe2b80581) becomes one check per SQL statement over its transition table instead of
# one plpgsql call per row; the rule is unchanged. SQLite keeps its row triggers (it has no others).


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS statement_entry_frozen ON statement_entry")
    op.execute(f"""
        CREATE FUNCTION statement_entry_frozen_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            -- nested: a transition table that this event lacks must not even be planned
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                IF EXISTS (SELECT 1 FROM new_rows JOIN statement ON statement.id = new_rows.statement_id
                           WHERE statement.status IN {FROZEN}) THEN
                    {REFUSAL};
                END IF;
            END IF;
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                IF EXISTS (SELECT 1 FROM old_rows JOIN statement ON statement.id = old_rows.statement_id
                           WHERE statement.status IN {FROZEN}) THEN
                    {REFUSAL};
                END IF;
            END IF;
            RETURN NULL;
        END $$""")
    op.execute("CREATE TRIGGER statement_entry_frozen_insert AFTER INSERT ON statement_entry "
               "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION statement_entry_frozen_guard()")
    op.execute("CREATE TRIGGER statement_entry_frozen_update AFTER UPDATE ON statement_entry "
               "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
               "FOR EACH STATEMENT EXECUTE FUNCTION statement_entry_frozen_guard()")
    op.execute("CREATE TRIGGER statement_entry_frozen_delete AFTER DELETE ON statement_entry "
               "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION statement_entry_frozen_guard()")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS statement_entry_frozen_{event} ON statement_entry")
    op.execute("DROP FUNCTION IF EXISTS statement_entry_frozen_guard()")
    op.execute("CREATE TRIGGER statement_entry_frozen BEFORE INSERT OR UPDATE OR DELETE ON statement_entry "
               "FOR EACH ROW EXECUTE FUNCTION statement_child_frozen_guard()")
