"""Order files uploaded on the admins' page (/settings/orders/import/).

The import runs in the worker, not in the request: under ASGI every synchronous view shares
one thread, so a minute-long import in a request would stop every other page of the desk for
that minute. The upload is checked first (encoding and format, in Japanese when wrong), kept
in the data folder, and imported by `tasks.import_orders_task`; the run's page shows the
summary when it is done."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from madoguchi.shop.importer import do_import_file
from madoguchi.shop.models import ImportRun, ImportRunState
from madoguchi.shop.order_files import open_order_file


def upload_path(run_id: int) -> Path:
    return Path(settings.DATA_DIR) / "order-imports" / f"{run_id}.csv"


@transaction.atomic
def do_queue_upload(uploaded: UploadedFile, user: Any) -> ImportRun:
    """Check the file (OrderFileError when it cannot be read), keep it and queue its import."""
    handle = uploaded.open("rb")
    order_file = open_order_file(handle)  # type: ignore[arg-type]
    run = ImportRun.objects.create(user=user, file_name=(uploaded.name or "orders.csv")[:255],
                                   file_format=order_file.source, state=ImportRunState.QUEUED,
                                   language=translation.get_language() or settings.LANGUAGE_CODE)
    keep_upload(uploaded, upload_path(run.pk))
    from madoguchi.shop.tasks import import_orders_task

    transaction.on_commit(lambda: import_orders_task(run.pk))
    return run


def keep_upload(uploaded: UploadedFile, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        for chunk in uploaded.chunks():
            out.write(chunk)


def run_upload(run_id: int) -> None:
    """Import a queued upload (the worker); the file is removed when it is done."""
    import_kept_upload(ImportRun.objects.filter(pk=run_id, state=ImportRunState.QUEUED).first(), upload_path(run_id),
                       do_import_file)


def import_kept_upload(run: Any, path: Path, do_import: Callable[..., Any]) -> None:
    """The worker's import of an upload kept at `path` for a queued run (an ImportRun, a
    listening PostImport; None when a task ran twice and the run is taken), in the uploader's
    language; the file is removed when it is done."""
    if run is None:
        return
    with translation.override(run.language):
        if not path.exists():
            run.state, run.finished_at = ImportRunState.FAILED, timezone.now()
            run.error = _("アップロードされたファイルが見つかりません。もう一度アップロードしてください。")
            run.save(update_fields=["state", "finished_at", "error"])
            return
        try:
            with path.open("rb") as handle:
                do_import(handle, file_name=run.file_name, run=run)
        finally:
            path.unlink(missing_ok=True)
