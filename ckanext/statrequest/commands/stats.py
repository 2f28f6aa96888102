"""`ckan statrequest stats-refresh`: bring the kept statistics up to date (cron / timer)."""
from __future__ import annotations

import click


@click.command("stats-refresh")
@click.option("--all", "every", is_flag=True,
              help="Every out-of-date kept period, not only the slow ones.")
def stats_refresh(every: bool) -> None:
    """Recompute the statistics of the kept periods that are behind the event log.

    By default the periods whose computation is slow (over a second: all time at a large
    portal) and all time itself: their readers are served the kept figures, dated, while the
    log moves on; this keeps them at most one timer interval old even when no reader comes.
    The fast periods are exact at every reading anyway. Safe to repeat and to run beside the
    background jobs (one computation of a period at a time).
    """
    import ckan.model as model

    from ckanext.statrequest.lib import stats_sql

    periods = stats_sql.stale_periods(model.Session, slow_only=not every)
    for period in periods:
        click.echo(stats_sql.recompute(period))
    click.echo(f"stats-refresh: {len(periods)} period(s) recomputed")
