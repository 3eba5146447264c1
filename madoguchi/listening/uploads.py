"""Post files uploaded on the listening import page (leads and admins). As with order files
(shop/uploads.py), the import runs in the worker, never in the request: the upload is checked
(encoding, format: in Japanese when wrong), kept in the data folder and imported by
`tasks.import_posts_task`; the run's page shows a progress bar, then the summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import translation

from madoguchi.listening.importer import do_import_file
from madoguchi.listening.models import PostImport
from madoguchi.listening.posts import open_post_file
from madoguchi.shop.models import ImportRunState
from madoguchi.shop.uploads import import_kept_upload, keep_upload


def upload_path(run_id: int) -> Path:
    return Path(settings.DATA_DIR) / "post-imports" / f"{run_id}.data"


@transaction.atomic
def do_queue_upload(uploaded: UploadedFile, user: Any) -> PostImport:
    """Check the file (PostFileError when it cannot be read), keep it and queue its import."""
    post_file = open_post_file(uploaded.open("rb"))  # type: ignore[arg-type]
    run = PostImport.objects.create(user=user, file_name=(uploaded.name or "posts")[:255], file_format=post_file.format,
                                    bytes_total=post_file.size, state=ImportRunState.QUEUED,
                                    language=translation.get_language() or settings.LANGUAGE_CODE)
    keep_upload(uploaded, upload_path(run.pk))
    from madoguchi.listening.tasks import import_posts_task

    transaction.on_commit(lambda: import_posts_task(run.pk))
    return run


def run_upload(run_id: int) -> None:
    """Import a queued upload (the worker); the file is removed when it is done."""
    import_kept_upload(PostImport.objects.filter(pk=run_id, state=ImportRunState.QUEUED).first(), upload_path(run_id),
                       do_import_file)
