"""How long the last computation of each kept statistics summary took, and how many events
each request's statistics figures were computed from (#16, round 9).

A period whose figures take long to compute (all time at a million requests: about a minute)
is not recomputed in the reader's request once the event log moves on: the kept figures are
shown with their date and a background job recomputes them (lib/stats_sql.figures). Small
periods (under a second) stay exact at every reading.

`steps` lets a refresh recompute only the requests whose events changed (a new one, or one
committed late) instead of every request of the last LOOKBACK events.

Revision ID: 0016_stats_summary_seconds
Revises: 0015_inbox_indexes
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0016_stats_summary_seconds"
down_revision = "0015_inbox_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for summaries kept before this revision: treated as fast (recomputed at once)
    op.add_column("statrequest_stats_summary",
                  sa.Column("seconds", sa.Float(precision=53), nullable=True))
    # NULL (rows kept before): recomputed when the request next appears among recent events
    op.add_column("statrequest_stats_request", sa.Column("steps", sa.Integer, nullable=True))


def downgrade() -> None:
    op.drop_column("statrequest_stats_request", "steps")
    op.drop_column("statrequest_stats_summary", "seconds")
