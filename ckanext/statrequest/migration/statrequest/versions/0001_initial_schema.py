"""Request records, event log, attachments, positions, holidays and counters.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.TIMESTAMP(timezone=True)


def upgrade() -> None:
    op.create_table(
        "statrequest_request",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("tracking_number", sa.UnicodeText, nullable=False, unique=True),
        sa.Column("requester_id", sa.UnicodeText, sa.ForeignKey("user.id"), nullable=True),
        sa.Column("requester_name", sa.UnicodeText, nullable=False),
        sa.Column("identity_type", sa.UnicodeText, nullable=False),
        sa.Column("identity_number", sa.UnicodeText, nullable=True),
        sa.Column("institution", sa.UnicodeText, nullable=False, server_default=""),
        sa.Column("category", sa.UnicodeText, nullable=False),
        sa.Column("email", sa.UnicodeText, nullable=False),
        sa.Column("phone", sa.UnicodeText, nullable=False, server_default=""),
        sa.Column("address", sa.UnicodeText, nullable=False, server_default=""),
        sa.Column("title", sa.UnicodeText, nullable=False),
        sa.Column("description", sa.UnicodeText, nullable=False),
        sa.Column("period", sa.UnicodeText, nullable=False, server_default=""),
        sa.Column("breakdown", sa.UnicodeText, nullable=False, server_default=""),
        sa.Column("data_format", sa.UnicodeText, nullable=False, server_default=""),
        sa.Column("purpose", sa.UnicodeText, nullable=False),
        sa.Column("state", sa.UnicodeText, nullable=False),
        sa.Column("outcome", sa.UnicodeText, nullable=True),
        sa.Column("assignee_id", sa.UnicodeText, sa.ForeignKey("user.id"), nullable=True),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("sla_due_at", TS, nullable=True),
        sa.Column("sla_paused_at", TS, nullable=True),
        sa.Column("sla_pauses", JSONB, nullable=False, server_default="[]"),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("personal_data_purged_at", TS, nullable=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column(
            "search_vector",
            sa.dialects.postgresql.TSVECTOR,
            sa.Computed(
                "to_tsvector('simple', coalesce(tracking_number,'') || ' ' || coalesce(title,'')"
                " || ' ' || coalesce(description,''))",
                persisted=True,
            ),
        ),
    )
    op.create_index("statrequest_request_state_due_idx", "statrequest_request", ["state", "sla_due_at"])
    op.create_index("statrequest_request_assignee_idx", "statrequest_request", ["assignee_id", "state"])
    op.create_index("statrequest_request_requester_idx", "statrequest_request", ["requester_id", "created_at"])
    op.create_index("statrequest_request_created_idx", "statrequest_request", ["created_at"])
    op.create_index("statrequest_request_category_idx", "statrequest_request", ["category"])
    op.create_index(
        "statrequest_request_search_idx", "statrequest_request", ["search_vector"], postgresql_using="gin"
    )

    op.create_table(
        "statrequest_request_dataset",
        sa.Column("request_id", sa.UnicodeText, sa.ForeignKey("statrequest_request.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("package_id", sa.UnicodeText, sa.ForeignKey("package.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("linked_by", sa.UnicodeText, nullable=True),
        sa.Column("role", sa.UnicodeText, nullable=False, server_default="reference"),
    )
    op.create_index("statrequest_request_dataset_pkg_idx", "statrequest_request_dataset", ["package_id"])

    op.create_table(
        "statrequest_request_org",
        sa.Column("request_id", sa.UnicodeText, sa.ForeignKey("statrequest_request.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("organization_id", sa.UnicodeText, sa.ForeignKey("group.id", ondelete="CASCADE"), primary_key=True),
        # suggested by the requester, or routed by staff (only routed OPDs act on the request)
        sa.Column("routed", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("routed_at", TS, nullable=True),
    )
    op.create_index("statrequest_request_org_org_idx", "statrequest_request_org", ["organization_id", "routed"])

    op.create_table(
        "statrequest_event",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("request_id", sa.UnicodeText, sa.ForeignKey("statrequest_request.id", ondelete="CASCADE"), nullable=False),
        sa.Column("actor_id", sa.UnicodeText, sa.ForeignKey("user.id"), nullable=True),
        sa.Column("actor_role", sa.UnicodeText, nullable=False),
        sa.Column("acting", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("transition", sa.UnicodeText, nullable=False),
        sa.Column("from_state", sa.UnicodeText, nullable=True),
        sa.Column("to_state", sa.UnicodeText, nullable=False),
        sa.Column("note", sa.UnicodeText, nullable=False, server_default=""),
        sa.Column("visibility", sa.UnicodeText, nullable=False),
        sa.Column("data", JSONB, nullable=False, server_default="{}"),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        # one event per request version: a second writer of the same step fails here
        sa.UniqueConstraint("request_id", "version", name="statrequest_event_request_version_key"),
    )
    op.create_index("statrequest_event_request_idx", "statrequest_event", ["request_id", "id"])
    op.create_index("statrequest_event_created_idx", "statrequest_event", ["created_at"])

    op.create_table(
        "statrequest_attachment",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("request_id", sa.UnicodeText, sa.ForeignKey("statrequest_request.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.UnicodeText, nullable=False),
        sa.Column("file_id", sa.UnicodeText, nullable=True),
        sa.Column("name", sa.UnicodeText, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("media_type", sa.UnicodeText, nullable=False),
        sa.Column("sha256", sa.UnicodeText, nullable=False),
        sa.Column("uploaded_by", sa.UnicodeText, sa.ForeignKey("user.id"), nullable=True),
        sa.Column("organization_id", sa.UnicodeText, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("deleted_at", TS, nullable=True),
    )
    op.create_index("statrequest_attachment_request_idx", "statrequest_attachment", ["request_id", "kind"])

    op.create_table(
        "statrequest_position",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("position", sa.UnicodeText, nullable=False),
        sa.Column("user_id", sa.UnicodeText, sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date, nullable=True),
        sa.Column("acting", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("note", sa.UnicodeText, nullable=False, server_default=""),
        sa.Column("created_by", sa.UnicodeText, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
    )
    op.create_index("statrequest_position_user_idx", "statrequest_position", ["user_id"])
    op.create_index("statrequest_position_pos_idx", "statrequest_position", ["position"])

    op.create_table(
        "statrequest_holiday",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("name", sa.UnicodeText, nullable=False),
        sa.Column("kind", sa.UnicodeText, nullable=False),
        sa.Column("created_by", sa.UnicodeText, nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )

    op.create_table(
        "statrequest_counter",
        sa.Column("name", sa.UnicodeText, primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "statrequest_counter",
        "statrequest_holiday",
        "statrequest_position",
        "statrequest_attachment",
        "statrequest_event",
        "statrequest_request_org",
        "statrequest_request_dataset",
        "statrequest_request",
    ):
        op.drop_table(table)
