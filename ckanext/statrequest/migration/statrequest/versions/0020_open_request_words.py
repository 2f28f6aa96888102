"""The open requests' words, one row per word and request, with what a search filters and
sorts on beside each (#16, a text search that stays flat at a million).

A staff search among open requests (`q=stunting category=… sla=overdue`) must count its
matches (up to 1,000) and sort them by date. Through the GIN index of migration 0019 every
match is a visit to a heap row for its state, deadline and date: 950 matches at 1M spread over
835 pages (~2.1 ms), against 25 at 1k. Here a word's rows sit next to each other in one
B-tree (word, id) whose entries also carry category, state, deadline and date, so a prefix
(`stunting:*`) is one range of that index read without the table (an index-only scan): the
same search at 1M reads ~30 index pages (~1.2 ms).

A prefix may match several words of one request (`padi`: padi, padinya); counting those
twice, or deduplicating 950 rows per search, is avoided by `shared`: the length of the common
beginning of a word and the request's previous word in byte order. A request's words that
begin with p are consecutive in that order, and only the first of them shares fewer than
len(p) characters with its predecessor, so `word ^@ p AND shared < len(p)` is one row per
request.

Kept by triggers on statrequest_open_request, in the writer's transaction, like that table
itself: a new open request adds its words; a transition or a moved deadline rewrites the
state and deadline of its words; new words, category or date replace them; a closed or
deleted request removes them; TRUNCATE (the bench's reseed) empties the table too (with a
DELETE, as the same TRUNCATE statement may name this table as well).
A stored word is cut at 100 characters: the list searches here only with query words of at
most 100 ASCII letters and digits, for which a prefix of the cut word is a prefix of the word
(longer or other words use the GIN index). The table must stay visible-all for index-only
scans: vacuumed after 2 % of its rows changed or were inserted.

Revision ID: 0020_open_request_words
Revises: 0019_open_request_table
Create Date: 2026-12-04
"""
from alembic import op

revision = "0020_open_request_words"
down_revision = "0019_open_request_table"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE statrequest_open_request_word (
            word text COLLATE "C" NOT NULL,
            id text NOT NULL,
            category text NOT NULL,
            state text NOT NULL,
            sla_due_at timestamptz,
            created_at timestamptz NOT NULL,
            shared smallint NOT NULL,
            PRIMARY KEY (word, id) INCLUDE (shared, category, state, sla_due_at, created_at)
        ) WITH (autovacuum_vacuum_scale_factor = 0.02,
                autovacuum_vacuum_insert_scale_factor = 0.02,
                autovacuum_analyze_scale_factor = 0.05)""")
    op.execute("""
        CREATE OR REPLACE FUNCTION statrequest_shared_length(a text, b text) RETURNS int
        LANGUAGE plpgsql IMMUTABLE AS $$
        DECLARE
            i int := 0;
        BEGIN
            IF a IS NULL OR b IS NULL THEN
                RETURN 0;
            END IF;
            WHILE i < least(length(a), length(b)) AND substr(a, i + 1, 1) = substr(b, i + 1, 1) LOOP
                i := i + 1;
            END LOOP;
            RETURN i;
        END $$""")
    # a request's words (cut at 100 characters) in byte order, each with the length of the
    # beginning it shares with the previous one
    op.execute("""
        CREATE OR REPLACE FUNCTION statrequest_search_words(v tsvector)
        RETURNS TABLE (word text, shared int) LANGUAGE sql IMMUTABLE AS $$
            SELECT w, statrequest_shared_length(lag(w) OVER (ORDER BY w COLLATE "C"), w)
            FROM (SELECT DISTINCT left(x, 100) AS w FROM unnest(tsvector_to_array(v)) x) s
        $$""")
    op.execute("""
        INSERT INTO statrequest_open_request_word (word, id, shared, category, state, sla_due_at, created_at)
        SELECT w.word, o.id, w.shared, o.category, o.state, o.sla_due_at, o.created_at
        FROM statrequest_open_request o, statrequest_search_words(o.search_vector) w""")
    op.execute("""
        CREATE OR REPLACE FUNCTION statrequest_open_request_words_keep() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND (OLD.search_vector, OLD.category, OLD.created_at)
                    IS NOT DISTINCT FROM (NEW.search_vector, NEW.category, NEW.created_at) THEN
                UPDATE statrequest_open_request_word SET state = NEW.state, sla_due_at = NEW.sla_due_at
                WHERE word = ANY (ARRAY(SELECT word FROM statrequest_search_words(NEW.search_vector)))
                  AND id = NEW.id;
                RETURN NULL;
            END IF;
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                DELETE FROM statrequest_open_request_word
                WHERE word = ANY (ARRAY(SELECT word FROM statrequest_search_words(OLD.search_vector)))
                  AND id = OLD.id;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                INSERT INTO statrequest_open_request_word (word, id, shared, category, state, sla_due_at, created_at)
                SELECT w.word, NEW.id, w.shared, NEW.category, NEW.state, NEW.sla_due_at, NEW.created_at
                FROM statrequest_search_words(NEW.search_vector) w;
            END IF;
            RETURN NULL;
        END $$""")
    op.execute("""
        CREATE OR REPLACE FUNCTION statrequest_open_request_words_empty() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            -- not TRUNCATE: the same TRUNCATE statement may be emptying this table already
            DELETE FROM statrequest_open_request_word;
            RETURN NULL;
        END $$""")
    op.execute("""
        CREATE TRIGGER statrequest_open_request_words_write
        AFTER INSERT OR DELETE ON statrequest_open_request
        FOR EACH ROW EXECUTE FUNCTION statrequest_open_request_words_keep()""")
    op.execute("""
        CREATE TRIGGER statrequest_open_request_words_update AFTER UPDATE ON statrequest_open_request
        FOR EACH ROW WHEN (
            (OLD.state, OLD.category, OLD.sla_due_at, OLD.created_at, OLD.search_vector)
            IS DISTINCT FROM
            (NEW.state, NEW.category, NEW.sla_due_at, NEW.created_at, NEW.search_vector))
        EXECUTE FUNCTION statrequest_open_request_words_keep()""")
    op.execute("""
        CREATE TRIGGER statrequest_open_request_words_truncate AFTER TRUNCATE ON statrequest_open_request
        FOR EACH STATEMENT EXECUTE FUNCTION statrequest_open_request_words_empty()""")


def downgrade() -> None:
    for trigger in ("truncate", "update", "write"):
        op.execute(f"DROP TRIGGER statrequest_open_request_words_{trigger} ON statrequest_open_request")
    op.execute("DROP FUNCTION IF EXISTS statrequest_open_request_words_empty()")
    op.execute("DROP FUNCTION IF EXISTS statrequest_open_request_words_keep()")
    op.execute("DROP TABLE statrequest_open_request_word")
    op.execute("DROP FUNCTION IF EXISTS statrequest_search_words(tsvector)")
    op.execute("DROP FUNCTION IF EXISTS statrequest_shared_length(text, text)")
