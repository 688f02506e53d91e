"""Which Django role this process runs: the cloud (head office) or a store node.

One ``manage.py`` serves both roles. The role comes from ``POS_ROLE`` (``cloud`` or
``store``) or from ``DJANGO_SETTINGS_MODULE``; when both are given they must agree, because
running a store's database against the cloud's code (or the reverse) corrupts data quietly.
"""

from __future__ import annotations

import os

ROLES = {"cloud": "cloud.settings", "store": "store_node.settings"}


class RoleError(RuntimeError):
    """The process was asked to run a role that is unknown or contradicts its settings."""


def role_of_settings(settings_module: str) -> str | None:
    for role, package in ROLES.items():
        if settings_module == package or settings_module.startswith(package + "."):
            return role
    return None


def resolve_settings_module(environ: os._Environ[str] | dict[str, str] | None = None) -> str:
    """Return the settings module to use, refusing an unknown role or a contradiction."""
    env = os.environ if environ is None else environ
    role = env.get("POS_ROLE", "").strip()
    settings_module = env.get("DJANGO_SETTINGS_MODULE", "").strip()
    if role and role not in ROLES:
        raise RoleError(f"POS_ROLE={role!r} is not a role; use POS_ROLE=cloud or POS_ROLE=store.")
    if settings_module:
        settings_role = role_of_settings(settings_module)
        if settings_role is None:
            raise RoleError(
                f"DJANGO_SETTINGS_MODULE={settings_module!r} belongs to no role; "
                "use cloud.settings.<env> or store_node.settings.<env>."
            )
        if role and role != settings_role:
            raise RoleError(
                f"POS_ROLE={role!r} contradicts DJANGO_SETTINGS_MODULE={settings_module!r} "
                f"(a {settings_role} settings module). Unset one of them."
            )
        return settings_module
    if not role:
        raise RoleError("Say which role to run: POS_ROLE=cloud or POS_ROLE=store.")
    return f"{ROLES[role]}.dev"


def assert_settings_role(expected_role: str) -> None:
    """Called by each role's settings: refuse to load when POS_ROLE names the other role."""
    role = os.environ.get("POS_ROLE", "").strip()
    if role and role != expected_role:
        raise RoleError(
            f"POS_ROLE={role!r} but the {expected_role} settings were loaded. "
            f"Use POS_ROLE={expected_role} or unset POS_ROLE."
        )
