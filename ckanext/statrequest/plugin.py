"""Wires ckanext-statrequest into CKAN; the rules live below it (see ARCHITECTURE.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import ckantoolkit as tk
import yaml
from ckan import plugins as p
from ckan.lib.plugins import DefaultTranslation

HERE = Path(__file__).parent


@tk.blanket.blueprints
@tk.blanket.helpers
@tk.blanket.cli
class StatrequestPlugin(p.SingletonPlugin, DefaultTranslation):
    p.implements(p.IConfigurer)
    p.implements(p.IActions)
    p.implements(p.IAuthFunctions)
    p.implements(p.ITranslation)
    p.implements(p.IConfigDeclaration)
    p.implements(p.ISignal)
    p.implements(p.IPermissionLabels)
    p.implements(p.IMiddleware, inherit=True)
    p.implements(p.IFiles, inherit=True)

    # IActions, IAuthFunctions: the API, listed per feature in logic/action and logic/auth
    def get_actions(self) -> dict[str, Any]:
        from ckanext.statrequest.logic.action import get_actions

        return get_actions()

    def get_auth_functions(self) -> dict[str, Any]:
        from ckanext.statrequest.logic.auth import get_auth_functions

        return get_auth_functions()

    # IMiddleware
    def make_middleware(self, app: Any, config: Any) -> Any:
        """Whatever a request did (a database error, an error page that failed too), end its
        SQLAlchemy session: an aborted transaction left behind would fail the next requests
        of other users served by the same thread."""
        if hasattr(app, "teardown_request"):  # the Flask app (not a WSGI wrapper)
            from ckanext.statrequest.views import mark_served, release_session

            # first of all before-request functions, so that a failure in any other is covered
            app.before_request_funcs.setdefault(None, []).insert(0, mark_served)
            app.teardown_request(release_session)
            from ckanext.statrequest.lib.objectstore import StorageUnavailable
            from ckanext.statrequest.views import storage_unavailable, storage_unavailable_api

            # the object store is down: a clear 503 page or API answer, not a 500
            app.register_error_handler(StorageUnavailable, storage_unavailable)
            app.after_request(storage_unavailable_api)
        return app

    # IConfigDeclaration
    def declare_config_options(self, declaration: Any, key: Any) -> None:
        """Every option, grouped by area, in the one config_declaration.yaml."""
        with (HERE / "config_declaration.yaml").open(encoding="utf-8") as f:
            declaration.load_dict(yaml.safe_load(f))

    # ISignal
    def get_signal_subscriptions(self) -> dict[Any, list[Any]]:
        from ckanext.statrequest.subscriptions import get_subscriptions

        return get_subscriptions()

    # IConfigurer
    def update_config(self, config: tk.CKANConfig) -> None:
        tk.add_template_directory(config, "templates")
        tk.add_resource("assets", "statrequest")
        from ckanext.statrequest.model import crypto

        crypto.check_configuration()  # no start without a usable personal-data key
        from ckanext.statrequest import settings

        settings.check_workflow()  # nor with an invalid workflow file
        settings.check_reasons()  # nor with a malformed list of refusal reasons
        # after login: back to the page that asked for it, or where the user's work is
        settings.claim_route_after_login("statrequest.start")
        settings.claim_no_gravatar()

    # IFiles: CKAN's file actions on a request's files follow the request's own rule
    def files_file_allows(self, context: Any, file: Any, operation: Any) -> bool | None:
        from ckanext.statrequest.lib import files

        return files.file_allows(context, file, operation)

    def files_owner_allows(self, context: Any, owner_type: str, owner_id: str,
                           operation: Any) -> bool | None:
        from ckanext.statrequest.lib import files

        return files.owner_allows(context, owner_type, owner_id, operation)

    def files_get_storage_adapters(self) -> dict[str, Any]:
        """`statrequest:s3`: S3 storage that lets a process start while the store is down."""
        from ckanext.statrequest.lib import objectstore

        return {objectstore.ADAPTER: objectstore.Storage}

    # IPermissionLabels: delivery datasets are readable by the requester and the routed OPD too
    # (only the first implementing plugin counts; ours falls back to CKAN's default labels)
    def get_dataset_labels(self, dataset_obj: Any) -> list[str]:
        from ckanext.statrequest.lib import delivery

        return delivery.dataset_labels(dataset_obj)

    def get_user_dataset_labels(self, user_obj: Any) -> list[str]:
        from ckanext.statrequest.lib import delivery

        return delivery.user_labels(user_obj)
