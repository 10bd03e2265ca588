"""Shared set-up for the benchmarks: a throwaway data directory, Django, result files."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("RP_BENCH_RESULTS") or ROOT / "bench" / "results")


def setup_django(data_dir: str | None = None) -> Path:
    """Point the app at a private data directory (never the real data/) and start Django."""
    sys.path.insert(0, str(ROOT))
    data = Path(data_dir or tempfile.mkdtemp(prefix="rp-bench-"))
    os.environ["RP_DATA_DIR"] = str(data)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rpsite.settings")
    os.environ.setdefault("RP_LOG_LEVEL", "WARNING")
    import django

    import rpsite.sqlite_swap  # noqa: F401

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.RP_INDEX_IN_BACKGROUND = False
    call_command("migrate", verbosity=0)
    return data


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 50), 3),
        "p95": round(percentile(values, 95), 3),
        "mean": round(statistics.fmean(values), 3) if values else 0.0,
        "n": len(values),
    }


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return (time.perf_counter() - started) * 1000, result


def machine() -> dict[str, str | int]:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count() or 0,
        "platform": platform.platform(),
    }


def write(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **data}, indent=2))
    return path


def post_json(url: str, path: str, data: dict, *, timeout: float = 120) -> dict:
    """POST JSON to the served app's API and return the decoded answer."""
    import urllib.request

    req = urllib.request.Request(
        url + path,
        method="POST",
        data=json.dumps(data).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=timeout) as response:
        return json.loads(response.read())


def table(rows: list[tuple], headers: tuple) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(
        [
            line.format(*headers),
            line.format(*("-" * w for w in widths)),
            *(line.format(*map(str, r)) for r in rows),
        ]
    )
