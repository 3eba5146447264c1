"""Writing posts into the listening queue, 1,000 at a time: each batch is read by the triage
reader in one call (kind, category, anger) and written with a few statements. A post is found
again by its platform and id: importing the same file twice changes nothing; a post whose text
was edited since is updated (and read again, unless a person set its kind); what staff did with
it (state, note, case) is never touched by an import."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.listening.models import ListeningPost, PostImport
from madoguchi.listening.posts import ParsedPost, PostFile, PostFileError, Problem, open_post_file
from madoguchi.shop import importer

log = logging.getLogger(__name__)

BATCH_POSTS = 1000
COMPARED = ("author_handle", "author_name", "text", "posted_at", "url")


class ImportSummary(importer.ImportSummary):
    """Counts as the order import keeps them (shop.importer.ImportSummary), worded for posts."""

    def headline(self) -> str:
        return (_("取り込み完了（%(format)s）: 新規 %(created)s 件、更新 %(updated)s 件、変更なし %(unchanged)s 件、取り込めなかった投稿 %(skipped)s 件")
                % {"format": self.file_format.upper() or "—", "created": self.created, "updated": self.updated,
                   "unchanged": self.unchanged, "skipped": self.skipped})


def read_posts(posts: list[ListeningPost]) -> None:
    """Give each post the triage reader's reading, all in one call of the reader."""
    if not posts:
        return
    from madoguchi.shop.models import Product
    from madoguchi.triage import entities
    from madoguchi.triage.services import current_reader

    readings = current_reader().read([post.text for post in posts])
    names = list(Product.objects.values_list("pk", "name"))
    now = timezone.now()
    for post, reading in zip(posts, readings, strict=True):
        post.kind, post.category, post.anger = reading.kind, reading.category, round(reading.anger, 2)
        post.products = entities.products(post.text, names) if names else []
        post.read_at = now


def _write_batch(batch: list[ParsedPost], summary: ImportSummary, run: PostImport | None) -> None:
    existing = {(post.platform, post.post_id): post for post in ListeningPost.objects.filter(
        platform__in={parsed.platform for parsed in batch}, post_id__in=[parsed.post_id for parsed in batch])}
    fresh: list[ListeningPost] = []
    changed: list[ListeningPost] = []
    reread: list[ListeningPost] = []
    seen: dict[tuple[str, str], int] = {}
    for parsed in batch:
        key = (parsed.platform, parsed.post_id)
        if key in seen:
            summary.problems.append(Problem(parsed.line, _("同じ投稿（%(id)s）が %(line)s 行目にもあります。")
                                            % {"id": parsed.post_id[:60], "line": seen[key]}))
            continue
        seen[key] = parsed.line
        post = existing.get(key)
        values = {name: getattr(parsed, name) for name in COMPARED}
        if post is None:
            fresh.append(ListeningPost(platform=parsed.platform, post_id=parsed.post_id, raw=parsed.raw,
                                       imported_by=run, **values))
            continue
        if all(getattr(post, name) == value for name, value in values.items()):
            summary.unchanged += 1
            continue
        if post.text != parsed.text and post.kind_set_by_id is None:
            reread.append(post)
        for name, value in values.items():
            setattr(post, name, value)
        post.raw = parsed.raw
        changed.append(post)
    read_posts(fresh + reread)
    ListeningPost.objects.bulk_create(fresh)
    if changed:
        ListeningPost.objects.bulk_update(changed, [*COMPARED, "raw", "kind", "category", "anger", "products", "read_at"])
    summary.created += len(fresh)
    summary.updated += len(changed)


def write_posts(posts: Iterable[ParsedPost], summary: ImportSummary | None = None, *, run: PostImport | None = None,
                progress: Callable[[], None] | None = None) -> ImportSummary:
    """Create or update posts in batches of BATCH_POSTS, each batch one transaction (the one way
    posts come in: a file, an upload, a source another app registered)."""
    summary = summary if summary is not None else ImportSummary()
    batch: list[ParsedPost] = []

    def flush() -> None:
        with transaction.atomic():
            _write_batch(batch, summary, run)
        if progress:
            progress()

    for parsed in posts:
        batch.append(parsed)
        if len(batch) >= BATCH_POSTS:
            flush()
            batch = []
    if batch:
        flush()
    return summary


def import_posts(post_file: PostFile, progress: Callable[[int], None] | None = None,
                 run: PostImport | None = None) -> ImportSummary:
    summary = ImportSummary(file_format=post_file.format)

    def parsed() -> Iterator[ParsedPost]:
        for item in post_file.posts():
            if isinstance(item, Problem):
                summary.problems.append(item)
            else:
                yield item

    write_posts(parsed(), summary, run=run, progress=(lambda: progress(post_file.position())) if progress else None)
    if progress:
        progress(post_file.size)
    summary.problems.sort(key=lambda problem: problem.line)
    return summary


def do_import_file(handle: IO[bytes], *, file_name: str, user: Any = None,
                   progress: Callable[[int], None] | None = None,
                   run: PostImport | None = None) -> tuple[PostImport, ImportSummary | None]:
    """Import an opened binary file and keep its record (PostImport): bytes read as it goes (the
    upload page's progress bar), the summary at the end. A file that cannot be read at all gives
    a FAILED run with the reason in Japanese, and no summary. Spikes are looked for after."""

    def read(run: PostImport) -> ImportSummary:
        post_file = open_post_file(handle)
        run.file_format, run.bytes_total = post_file.format, post_file.size
        run.save(update_fields=["file_format", "bytes_total"])

        def advance(done: int) -> None:
            run.bytes_done = done
            PostImport.objects.filter(pk=run.pk).update(bytes_done=done)
            if progress:
                progress(done)

        return import_posts(post_file, advance, run=run)

    done, summary = importer.run_file_import(
        run or PostImport(user=user, file_name=file_name[:255]), read, unreadable=PostFileError,
        interrupted=_("取り込みの途中でエラーが起きました。それまでの投稿は取り込まれています: %(error)s"))
    if summary is not None:
        from madoguchi.listening.spikes import check_spikes

        check_spikes()
    return done, summary  # type: ignore[return-value]
