"""Full-text index of the open requests only (#16, search flat at a million requests).

Officials search mostly among the requests still being handled (an SLA or state filter, the
inbox). The full index holds every request ever made: at 1M the prefix query `stunting:*`
alone marks 33,580 rows before any filter. This one holds the open requests (`closed_at IS
NULL`; a request's `closed_at` is set when it reaches a final state): statrequest_list adds
that condition when every state the list can match is open, and PostgreSQL picks this index.

Revision ID: 0017_open_search_index
Revises: 0016_stats_summary_seconds
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0017_open_search_index"
down_revision = "0016_stats_summary_seconds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("statrequest_request_open_search_idx", "statrequest_request",
                    ["search_vector"], postgresql_using="gin",
                    postgresql_where=sa.text("closed_at IS NULL"))


def downgrade() -> None:
    op.drop_index("statrequest_request_open_search_idx", "statrequest_request")
