"""Runs every ``tests/benchmarks/*_bench.py`` and reports each metric against its target.

Each bench module exposes ``run(quick: bool) -> dict[str, dict]`` returning, per metric name (the
names the issues give, e.g. ``store.add_line_p99_ms``), ``{"value", "unit", "target", "better"}``
where ``better`` is ``"lower"`` or ``"higher"``. Targets are the issues' targets, never adjusted.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


class BenchIncomplete(Exception):
    """Raised by a bench that failed after measuring some of its figures (``figures``): they are
    reported and written like the others, and the bench still counts as failed."""

    def __init__(self, figures: dict[str, dict]):
        super().__init__(f"failed after {len(figures)} figures")
        self.figures = figures


def meets(metric: dict) -> bool:
    if metric.get("value") is None:
        return False
    if metric.get("better", "lower") == "higher":
        return metric["value"] >= metric["target"]
    return metric["value"] <= metric["target"]


def machine_reference_ms() -> float:
    """How fast this machine runs plain Python: the best of three runs of a fixed loop, in ms.

    The figures are wall and CPU times of Python processes, so they scale with it (docs/architecture.md,
    "Tests and speed": machines of one kind have differed by a factor of about 3). Printed first, it
    lets two runs' figures be compared; it is not a figure and has no target."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total, table = 0, {}
        for i in range(2_000_000):
            total += i % 7
            table[i & 1023] = total
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tests/benchmarks/run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller data sets, under a minute per bench")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON to PATH")
    parser.add_argument(
        "--only", metavar="PREFIX", help="run only bench modules whose name starts with PREFIX"
    )
    args = parser.parse_args(argv)

    modules = sorted(p.stem for p in HERE.glob("*_bench.py"))
    if args.only:
        modules = [m for m in modules if m.startswith(args.only)]
    results: dict[str, dict] = {}
    failed: list[str] = []
    with open("/proc/loadavg") as loadavg:
        load = loadavg.read().split()[0]
    print(
        f"-- machine: reference loop {machine_reference_ms():.0f} ms (lower is faster), load average {load}"
    )
    for name in modules:
        started = time.perf_counter()
        print(f"-- {name} ({'quick' if args.quick else 'full'})", flush=True)
        try:
            module = importlib.import_module(f"tests.benchmarks.{name}")
            figures = module.run(quick=args.quick)
        except Exception as exc:  # a broken bench must not hide the others' figures
            traceback.print_exc()
            failed.append(name)
            # A BenchIncomplete's figures still count. By attribute: run as ``-m``, this module is
            # ``__main__``, and the bench raised the class of ``tests.benchmarks.runner``.
            figures = getattr(exc, "figures", None)
            if not isinstance(figures, dict):
                continue
        for metric, figure in figures.items():
            results[metric] = figure
            verdict = "ok  " if meets(figure) else "MISS"
            cmp = ">=" if figure.get("better") == "higher" else "<="
            value = "n/a" if figure.get("value") is None else f"{figure['value']:.2f}"
            print(
                f"   {verdict} {metric:36s} {value:>12s} {figure['unit']:<8s} target {cmp} {figure['target']}",
                flush=True,
            )
        print(f"   ({time.perf_counter() - started:.1f} s)", flush=True)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {m: {k: f[k] for k in ("value", "unit", "target")} for m, f in sorted(results.items())},
                indent=2,
            )
            + "\n"
        )
    missed = [m for m, f in results.items() if not meets(f)]
    print(
        f"\n{len(results)} figures, {len(results) - len(missed)} on target, {len(missed)} missed; {len(failed)} benches failed"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
