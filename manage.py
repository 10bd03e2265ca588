#!/usr/bin/env python
import os
import sys

import rpsite.sqlite_swap  # noqa: F401


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rpsite.settings")
    # after the settings module is named and the sqlite3 swap is in place
    from django.core.management import execute_from_command_line  # noqa: PLC0415

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
