"""Signing credentials per person; Plt and Plh as distinct kinds of assignment.

Revision ID: 0006_signing_people
Revises: 0005_nik_at_rest
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006_signing_people"
down_revision = "0005_nik_at_rest"
branch_labels = None
depends_on = None

TS = sa.TIMESTAMP(timezone=True)


def upgrade() -> None:
    op.add_column("statrequest_position", sa.Column(
        "kind", sa.UnicodeText, nullable=False, server_default="definitif"))
    op.add_column("statrequest_position", sa.Column(
        "stands_in_for", sa.UnicodeText, sa.ForeignKey("user.id", ondelete="SET NULL"),
        nullable=True))
    op.add_column("statrequest_position", sa.Column(
        "rank", sa.UnicodeText, nullable=False, server_default=""))
    # Before this revision every acting official was recorded as one boolean; Plt is the
    # closer reading (appointed to perform the duties of a vacant or long-absent official).
    op.execute("UPDATE statrequest_position SET kind = 'plt' WHERE acting")
    op.create_check_constraint("statrequest_position_kind", "statrequest_position",
                               "kind IN ('definitif', 'plt', 'plh')")

    op.create_table(
        "statrequest_signing_credential",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("user_id", sa.UnicodeText, sa.ForeignKey("user.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("backend", sa.UnicodeText, nullable=False),
        sa.Column("reference", sa.UnicodeText, nullable=False),
        sa.Column("settings", JSONB, nullable=False, server_default="{}"),
        sa.Column("cert_fingerprint", sa.UnicodeText, nullable=False, server_default=""),
        sa.Column("cert_subject", sa.UnicodeText, nullable=False, server_default=""),
        sa.Column("cert_issuer", sa.UnicodeText, nullable=False, server_default=""),
        sa.Column("cert_not_after", TS, nullable=True),
        sa.Column("created_by", sa.UnicodeText, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.CheckConstraint("backend IN ('pkcs12', 'pkcs11', 'remote')",
                           name="statrequest_signing_credential_backend"),
    )
    # One active credential per person, and one person per key: the database settles races.
    op.create_index("statrequest_signing_credential_user_idx", "statrequest_signing_credential",
                    ["user_id"], unique=True, postgresql_where=sa.text("revoked_at IS NULL"))
    op.create_index("statrequest_signing_credential_ref_idx", "statrequest_signing_credential",
                    ["backend", "reference"], unique=True,
                    postgresql_where=sa.text("revoked_at IS NULL"))


def downgrade() -> None:
    op.drop_table("statrequest_signing_credential")
    op.drop_constraint("statrequest_position_kind", "statrequest_position", type_="check")
    op.execute("UPDATE statrequest_position SET acting = (kind <> 'definitif')")
    for column in ("rank", "stands_in_for", "kind"):
        op.drop_column("statrequest_position", column)
