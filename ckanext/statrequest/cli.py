"""`ckan statrequest ...`: the command group, assembled from the commands of each area in
commands/ (which import nothing of this module)."""
from __future__ import annotations

import click

from ckanext.statrequest.commands.backup import backup, restore, restore_check
from ckanext.statrequest.commands.delivery import deliver
from ckanext.statrequest.commands.ltv import ltv_refresh
from ckanext.statrequest.commands.operations import (
    digest,
    notifications_flush,
    purge_personal_data,
    sla_check,
)
from ckanext.statrequest.commands.setup import demo_data, init_test_pki, workflow_check
from ckanext.statrequest.commands.stats import stats_refresh
from ckanext.statrequest.commands.worker import worker

__all__ = ["statrequest"]  # what CKAN registers; init_test_pki is importable for bench/scale


@click.group(short_help="Permintaan Data Statistik Sektoral: administration commands.")
def statrequest() -> None:
    pass


for command in (demo_data, workflow_check, init_test_pki, deliver, ltv_refresh,
                notifications_flush, sla_check, digest, purge_personal_data, stats_refresh):
    statrequest.add_command(command)
for command in (backup, restore, restore_check, worker):  # deploy/README.md
    statrequest.add_command(command)
