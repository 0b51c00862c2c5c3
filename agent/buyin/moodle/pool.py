"""The one bounded thread pool: independent calls run concurrently, never more
than ``workers`` in flight."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any


def run_concurrently(
    jobs: Mapping[int, Callable[[], Any]],
    workers: int,
    progress: Callable[[int, int], None] | None = None,
) -> dict[int, Any]:
    """Run independent calls with at most ``workers`` in flight; the first error is raised.

    ``progress(done, total)`` is called as jobs finish (for a progress bar)."""
    if not jobs:
        return {}
    total = len(jobs)
    if workers <= 1 or total == 1:
        results = {}
        for done, (key, job) in enumerate(jobs.items(), start=1):
            results[key] = job()
            if progress:
                progress(done, total)
        return results
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="buyin") as pool:
        futures = {pool.submit(job): key for key, job in jobs.items()}
        results = {}
        for done, future in enumerate(as_completed(futures), start=1):
            results[futures[future]] = future.result()
            if progress:
                progress(done, total)
        return results
