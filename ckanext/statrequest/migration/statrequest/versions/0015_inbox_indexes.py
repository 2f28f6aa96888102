"""Index for the inbox and urgency-sorted lists at a million requests (#16).

statrequest_list splits a list limited to known states into one top-N per state
(UNION ALL, logic/action/request._page_ids): with this index each part is an ordered
walk that stops after the page instead of reading and sorting every waiting request.

Revision ID: 0015_inbox_indexes
Revises: 0014_scale_indexes
Create Date: 2026-12-03
"""
from alembic import op

revision = "0015_inbox_indexes"
down_revision = "0014_scale_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the order of the urgency/due sort (sla_due_at ASC NULLS LAST is btree's default)
    op.create_index("statrequest_request_state_urgency_idx", "statrequest_request",
                    ["state", "sla_due_at", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("statrequest_request_state_urgency_idx", "statrequest_request")
