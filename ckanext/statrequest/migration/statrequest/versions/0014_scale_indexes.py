"""Indexes for the statistics at a million requests (#16).

The all-time percentiles (working days per state, completion days) read the two closest
ranks from an ordered index with OFFSET (lib/stats_sql._percentiles_indexed) instead of
ranking every row in a window, which sorted ~1 M waits on disk per reading at 100k requests.

Revision ID: 0014_scale_indexes
Revises: 0013_stats_sql
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0014_scale_indexes"
down_revision = "0013_stats_sql"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("statrequest_stats_wait_state_days_idx", "statrequest_stats_wait",
                    ["state", "days"])
    op.create_index("statrequest_stats_request_done_days_idx", "statrequest_stats_request",
                    ["days"], postgresql_where=sa.text("finished_at IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("statrequest_stats_request_done_days_idx", "statrequest_stats_request")
    op.drop_index("statrequest_stats_wait_state_days_idx", "statrequest_stats_wait")
