"""A store-node process factory for the crash test: imports Django once, then on each line ``ring``
read from stdin forks a child that runs ``ring_sales`` on the test's database and prints
``pid <n>``. The test SIGKILLs the child; forking spares it Django's start-up (about a second on a
busy two-core machine) on each of the 50+ restarts. No database connection is open when forking."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))


def main() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    for command in sys.stdin:
        terminal, seed = command.split()
        pid = os.fork()
        if pid == 0:
            try:
                call_command("ring_sales", terminal=terminal, seed=int(seed))
            finally:
                os._exit(1)
        print(f"pid {pid}", flush=True)
        os.waitpid(pid, 0)
        print("reaped", flush=True)


if __name__ == "__main__":
    main()
