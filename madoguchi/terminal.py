"""A progress bar on the terminal for the console commands that read a file (import-orders,
import-posts): drawn on standard error when it is a terminal, nothing when piped or logged."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def file_progress(path: Path, description: str) -> Iterator[Callable[[int], None] | None]:
    """`progress(bytes read so far)` for the file at `path`, or None off a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    bar: Any = tqdm(total=path.stat().st_size, unit="B", unit_scale=True, desc=description, file=sys.stderr)

    def progress(done: int) -> None:
        bar.update(done - bar.n)

    try:
        yield progress
    finally:
        bar.close()


def import_file(file: str, description: str, do_import: Callable[..., tuple[Any, Any]]) -> list[str]:
    """A console command's import of the file at `file` with `do_import(handle, file_name=…,
    progress=…)` (shop and listening's do_import_file): the summary's lines to print, or
    CommandError with the reason (Japanese) when the file is missing or cannot be read."""
    from django.core.management.base import CommandError

    path = Path(file)
    if not path.is_file():
        raise CommandError(f"ファイルが見つかりません: {file}")
    with file_progress(path, description) as progress, path.open("rb") as handle:
        run, summary = do_import(handle, file_name=path.name, progress=progress)
    if summary is None:
        raise CommandError(run.error)
    return list(summary.lines())
