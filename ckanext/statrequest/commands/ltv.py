"""`ckan statrequest ltv-refresh`: renew the archive timestamp of signed letters."""
from __future__ import annotations

import click

from ckanext.statrequest import settings


@click.command("ltv-refresh")
@click.option("--days", type=click.IntRange(min=0), default=None,
              help="Renew when the last timestamp's TSA certificate expires within this many "
                   "days (default: ckanext.statrequest.signing.ltv_refresh_days).")
@click.option("--dry-run", is_flag=True, help="Only list the letters that are due.")
def ltv_refresh(days: int | None, dry_run: bool) -> None:
    """Add a fresh document timestamp to signed letters whose proof is about to expire.

    Safe to repeat: a letter whose last timestamp already comes from the TSA's current
    certificate is left alone. Each renewed letter is stored as a new version; the old bytes
    stay a valid letter.
    """
    from ckanext.statrequest.lib import ltv

    if days is None:
        days = int(settings.get("signing.ltv_refresh_days") or 90)
    try:
        outcomes = ltv.refresh(days, dry_run=dry_run)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.action] = counts.get(o.action, 0) + 1
        if o.action != "not_due":
            expires = o.expires.date().isoformat() if o.expires else "-"
            click.echo(f"{o.tracking_number}: {o.action} (TSA certificate until {expires})"
                       + (f" {o.detail}" if o.detail else ""))
    summary = ", ".join(f"{n} {a}" for a, n in sorted(counts.items())) or "no signed letters"
    click.echo(f"ltv-refresh: {summary}")
    if counts.get("failed"):
        raise click.exceptions.Exit(1)
