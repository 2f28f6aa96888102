"""The open requests' search columns in a table of their own (#16, search flat at a million).

A text search among open requests (a state or SLA filter with no final state) read each
candidate of the text index from the requests table to check its category, state and
deadline and to sort it: at 1M, `stunting:*` among the open requests is 1,920 candidates on
1,835 pages of wide rows (~6 ms), against a few dozen at 1k. This table holds only what such a
search filters and sorts on, for the open requests only (rows of ~200 bytes, ~40 a page), with
one GIN index over the words *and* the category (btree_gin), so the candidates are fewer
(1,140) and packed (811 pages): 5.5 → 3.3 ms at 1M.

It is kept by triggers on statrequest_request, in the writer's own transaction, so every path
that writes a request (the actions, the jobs, the bench's COPY, a hand-run UPDATE) keeps it
right: a row exists exactly while the request's `closed_at` is NULL. An update that changes
none of the copied columns writes nothing here. A small table rewritten on every
transition: vacuumed after 2 % of its rows changed rather than PostgreSQL's 20 %, so dead
rows do not spread the matches over more pages.

Revision ID: 0019_open_request_table
Revises: 0018_task_per_routed_opd
Create Date: 2026-12-04
"""
from alembic import op

revision = "0019_open_request_table"
down_revision = "0018_task_per_routed_opd"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # btree_gin is a trusted extension (PostgreSQL 13+): the database's owner may create it
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.execute("""
        CREATE TABLE statrequest_open_request (
            id text PRIMARY KEY REFERENCES statrequest_request (id) ON DELETE CASCADE,
            state text NOT NULL,
            category text NOT NULL,
            sla_due_at timestamptz,
            created_at timestamptz NOT NULL,
            identity_number_hash text,
            search_vector tsvector
        ) WITH (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05)""")
    op.execute("""
        INSERT INTO statrequest_open_request (id, state, category, sla_due_at, created_at, identity_number_hash, search_vector)
        SELECT id, state, category, sla_due_at, created_at, identity_number_hash, search_vector FROM statrequest_request WHERE closed_at IS NULL""")
    # every transition rewrites its row here: GIN's pending list of fast inserts would be
    # read on every search until a vacuum (661 entries after one bench run, ~0.8 ms)
    op.execute("CREATE INDEX statrequest_open_request_search_idx ON statrequest_open_request "
               "USING gin (search_vector, category) WITH (fastupdate = off)")
    op.execute("CREATE INDEX statrequest_open_request_nik_hash_idx ON statrequest_open_request "
               "(identity_number_hash)")
    op.execute("""
        CREATE OR REPLACE FUNCTION statrequest_open_request_keep() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.closed_at IS NOT NULL THEN
                IF TG_OP = 'UPDATE' THEN
                    DELETE FROM statrequest_open_request WHERE id = NEW.id;
                END IF;
                RETURN NULL;
            END IF;
            INSERT INTO statrequest_open_request (id, state, category, sla_due_at, created_at, identity_number_hash, search_vector)
            VALUES (NEW.id, NEW.state, NEW.category, NEW.sla_due_at, NEW.created_at,
                    NEW.identity_number_hash, NEW.search_vector)
            ON CONFLICT (id) DO UPDATE SET
                state = EXCLUDED.state, category = EXCLUDED.category,
                sla_due_at = EXCLUDED.sla_due_at, created_at = EXCLUDED.created_at,
                identity_number_hash = EXCLUDED.identity_number_hash,
                search_vector = EXCLUDED.search_vector;
            RETURN NULL;
        END $$""")
    op.execute("""
        CREATE TRIGGER statrequest_open_request_insert AFTER INSERT ON statrequest_request
        FOR EACH ROW EXECUTE FUNCTION statrequest_open_request_keep()""")
    op.execute("""
        CREATE TRIGGER statrequest_open_request_update AFTER UPDATE ON statrequest_request
        FOR EACH ROW WHEN (
            (OLD.closed_at, OLD.state, OLD.category, OLD.sla_due_at, OLD.created_at,
             OLD.identity_number_hash, OLD.search_vector)
            IS DISTINCT FROM
            (NEW.closed_at, NEW.state, NEW.category, NEW.sla_due_at, NEW.created_at,
             NEW.identity_number_hash, NEW.search_vector))
        EXECUTE FUNCTION statrequest_open_request_keep()""")


def downgrade() -> None:
    op.execute("DROP TRIGGER statrequest_open_request_update ON statrequest_request")
    op.execute("DROP TRIGGER statrequest_open_request_insert ON statrequest_request")
    op.execute("DROP FUNCTION IF EXISTS statrequest_open_request_keep()")
    op.execute("DROP TABLE statrequest_open_request")
