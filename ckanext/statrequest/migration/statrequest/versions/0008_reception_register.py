"""Reception at the front desk and the incoming-letter register (agenda numbers).

Revision ID: 0008_reception_register
Revises: 0007_outbox_without_request
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_reception_register"
down_revision = "0007_outbox_without_request"
branch_labels = None
depends_on = None

TABLE = "statrequest_request"


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("agenda_number", sa.UnicodeText, nullable=True))
    op.add_column(TABLE, sa.Column("channel", sa.UnicodeText, nullable=False,
                                   server_default="portal"))
    op.add_column(TABLE, sa.Column("received_by", sa.UnicodeText,
                                   sa.ForeignKey("user.id"), nullable=True))
    op.add_column(TABLE, sa.Column("sender_letter_number", sa.UnicodeText, nullable=True))
    op.add_column(TABLE, sa.Column("sender_letter_date", sa.Date, nullable=True))
    # the register has no holes: existing requests are numbered in the order they came, per
    # year of their tracking number (PDS-<year>-…, the year the request was received)
    op.execute("""
        UPDATE statrequest_request r SET agenda_number = lpad(n.seq::text, 4, '0') || '/AGD/' || n.year
        FROM (SELECT id, split_part(tracking_number, '-', 2) AS year,
                     row_number() OVER (PARTITION BY split_part(tracking_number, '-', 2)
                                        ORDER BY created_at, tracking_number) AS seq
              FROM statrequest_request) n
        WHERE r.id = n.id
    """)
    op.execute("""
        INSERT INTO statrequest_counter (name, year, value)
        SELECT 'agenda', split_part(tracking_number, '-', 2)::int, count(*)
        FROM statrequest_request GROUP BY 2
        ON CONFLICT (name, year) DO UPDATE SET value = EXCLUDED.value
    """)
    op.create_unique_constraint("statrequest_request_agenda_number_key", TABLE,
                                ["agenda_number"])


def downgrade() -> None:
    op.drop_constraint("statrequest_request_agenda_number_key", TABLE)
    op.execute("DELETE FROM statrequest_counter WHERE name = 'agenda'")
    for column in ("sender_letter_date", "sender_letter_number", "received_by", "channel",
                   "agenda_number"):
        op.drop_column(TABLE, column)
