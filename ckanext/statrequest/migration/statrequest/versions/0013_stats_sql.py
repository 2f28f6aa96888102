"""Statistics computed by the database: per-request figures and a summary of each period.

`statrequest_stats_request` holds, per request, what the statistics need from its event log
(state, when and how it finished, working days taken, on time or not, extension days, the
decision and its reason, the OPD it was routed to); `statrequest_stats_wait` the working days
it waited in each state it has left. Both are derived (lib/stats_sql.py keeps them current from
the event log; dropping them loses nothing). `statrequest_stats_summary` keeps the figures of a
period until the event log changes.

Revision ID: 0013_stats_sql
Revises: 0012_opd_tasks
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0013_stats_sql"
down_revision = "0012_opd_tasks"
branch_labels = None
depends_on = None

TS = sa.TIMESTAMP(timezone=True)


def upgrade() -> None:
    op.create_table(
        "statrequest_stats_request",
        sa.Column("request_id", sa.UnicodeText,
                  sa.ForeignKey("statrequest_request.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("last_event_id", sa.BigInteger, nullable=False),
        sa.Column("state", sa.UnicodeText),
        sa.Column("finished_at", TS),
        sa.Column("days", sa.Float(precision=53)),
        sa.Column("on_time", sa.Boolean),
        sa.Column("extension_days", sa.Integer, nullable=False, server_default="0"),
        sa.Column("outcome", sa.UnicodeText),
        sa.Column("reason", sa.UnicodeText),
        sa.Column("opd", ARRAY(sa.UnicodeText), nullable=False, server_default="{}"),
    )
    op.create_table(
        "statrequest_stats_wait",
        sa.Column("request_id", sa.UnicodeText,
                  sa.ForeignKey("statrequest_request.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("state", sa.UnicodeText, primary_key=True),
        sa.Column("days", sa.Float(precision=53), nullable=False),
    )
    op.create_table(
        "statrequest_stats_summary",
        sa.Column("period", sa.UnicodeText, primary_key=True),
        sa.Column("fingerprint", sa.UnicodeText, nullable=False),
        sa.Column("watermark", sa.BigInteger, nullable=False),
        sa.Column("figures", JSONB, nullable=False),
        sa.Column("computed_at", TS, nullable=False, server_default=sa.func.now()),
    )
    # the rules the per-request figures were computed under, and the last event seen
    op.create_table(
        "statrequest_stats_state",
        sa.Column("key", sa.UnicodeText, primary_key=True),
        sa.Column("value", sa.UnicodeText, nullable=False),
    )


def downgrade() -> None:
    for table in ("statrequest_stats_state", "statrequest_stats_summary",
                  "statrequest_stats_wait", "statrequest_stats_request"):
        op.drop_table(table)
