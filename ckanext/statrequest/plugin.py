"""Wires ckanext-statrequest into CKAN. Rules live in logic/, pages in views.py."""
from __future__ import annotations

import ckantoolkit as tk
from ckan import plugins as p
from ckan.lib.plugins import DefaultTranslation


@tk.blanket.config_declarations
@tk.blanket.blueprints
@tk.blanket.actions
@tk.blanket.auth_functions
@tk.blanket.helpers
@tk.blanket.cli
class StatrequestPlugin(p.SingletonPlugin, DefaultTranslation):
    p.implements(p.IConfigurer)
    p.implements(p.ITranslation)

    # IConfigurer
    def update_config(self, config: tk.CKANConfig) -> None:
        tk.add_template_directory(config, "templates")
        tk.add_public_directory(config, "public")
        tk.add_resource("assets", "statrequest")
