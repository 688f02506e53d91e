#!/usr/bin/env python
"""Omnitill's one manage.py. POS_ROLE=cloud or POS_ROLE=store picks the role."""

import os
import sys


def main() -> None:
    from retail.roles import RoleError, resolve_settings_module

    try:
        os.environ["DJANGO_SETTINGS_MODULE"] = resolve_settings_module()
    except RoleError as exc:
        sys.stderr.write(f"manage.py: {exc}\n")
        sys.exit(2)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
