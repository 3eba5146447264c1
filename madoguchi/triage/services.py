"""The desk's side of the reader: the current model of this shop, reading the messages that
arrive (in the worker, after their commit), the agents' corrections as labels, retraining.

The model file lives in the data folder (`<data>/triage/reader.pickle`). When there is none
(a new install) the first use trains the starter model from the project's own training set
(`corpus.py`, in the repository) plus whatever the shop has labelled: a few seconds. After that
the periodic job retrains when agents corrected categories since, and `madoguchi
train-classifier` retrains at once."""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import logging
import shutil
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from madoguchi.triage import corpus, entities, model
from madoguchi.triage.models import CategoryLabel, MessageReading

log = logging.getLogger(__name__)

READ_WORK = "triage.read"
# A shop's own corrected case counts as this many starter messages for the category model.
SHOP_LABEL_WEIGHT = 3.0


def model_path() -> Path:
    return model.model_file(settings.DATA_DIR)


# --- The current model, loaded once per process and again when the file changes ---------------
_lock = threading.Lock()
_cached: tuple[float, model.Reader] | None = None


def current_reader() -> model.Reader:
    global _cached
    path = model_path()
    with _lock:
        mtime = _mtime(path)
        if _cached is not None and mtime == _cached[0]:
            return _cached[1]
        reader = model.load(path) if mtime is not None else None
        if reader is None:
            reader = _from_starter(path) if not CategoryLabel.objects.exists() else do_train()
            mtime = _mtime(path)
        _cached = (mtime or 0.0, reader)
        return reader


def starter_path() -> Path:
    """The starter model (the project's training set alone) is the same on every desk of this
    version: trained once per machine into a cache folder, named by a digest of the code and
    data it is trained from, and copied into each new data folder. A new desk, and each test
    desk, then reads its first message in milliseconds instead of training for seconds on the
    message's path (the chat writer waited for it). The word vectors it copies from the
    ja-ginza package are part of the name too: installing the package retrains it."""
    here = Path(corpus.__file__).parent
    sources = [Path(corpus.__file__), Path(model.__file__), *sorted((here / "data").glob("*"))]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources if p.is_file())
                            + model.vectors_source().encode()).hexdigest()[:16]
    return Path(settings.CACHE_DIR) / f"triage-starter-{digest}.pickle"


def ensure_starter() -> Path:
    starter = starter_path()
    if model.load(starter) is None:
        do_train(with_labels=False, path=starter)
    return starter


def _from_starter(path: Path) -> model.Reader:
    starter = ensure_starter()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.copyfile(starter, path)
    reader = model.load(path)
    assert reader is not None
    return reader


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return None


def shop_labels() -> list[tuple[str, str]]:
    return list(CategoryLabel.objects.filter(category__active=True).values_list("text", "category__code"))


def do_train(examples: Iterable[corpus.Example] | None = None, *, with_labels: bool = True,
             path: Path | None = None) -> model.Reader:
    """Train from the starter set and the shop's labels and save to the data folder (one
    process at a time: a lock file beside the model)."""
    path = path or model_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = list(examples if examples is not None else corpus.training_set())
        labels = shop_labels() if with_labels else []
        extra = model.topic_examples()
        extra += [(text, code, SHOP_LABEL_WEIGHT) for text, code in labels]
        reader = model.train([e.text for e in data], [e.kind for e in data], [e.category for e in data],
                             [e.anger for e in data], weights=[e.weight for e in data], shop_labels=len(labels),
                             category_examples=extra, frame_examples=corpus.frame_examples())
        model.save(reader, path)
    log.info("triage: model trained on %d messages and %d shop labels", reader.trained_on, len(labels))
    return reader


def do_train_without_labels() -> model.Reader:
    return do_train(with_labels=False)


def retrain_if_stale() -> str:
    """The periodic job: retrain when there is no model or agents corrected categories since."""
    path = model_path()
    reader = model.load(path)
    if reader is None:
        do_train()
        return "trained (no model)"
    trained_at = dt.datetime.fromtimestamp(reader.trained_at, tz=dt.UTC)
    stats = CategoryLabel.objects.filter(category__active=True).aggregate(last=Max("labelled_at"))
    count = CategoryLabel.objects.filter(category__active=True).count()
    if count == reader.shop_labels and (stats["last"] is None or stats["last"] <= trained_at):
        return "current"
    do_train()
    return f"trained ({count} labels)"


# --- Reading the messages that arrive ----------------------------------------------------------
# Anger (0-4) from which a case's priority is raised: 高 and 緊急.
HIGH_ANGER, URGENT_ANGER = 2.5, 3.4


def priority_for(reading: model.Reading) -> int | None:
    from madoguchi.cases.models import Priority

    if reading.kind != "complaint":
        return None
    if reading.anger >= URGENT_ANGER:
        return int(Priority.URGENT)
    if reading.anger >= HIGH_ANGER:
        return int(Priority.HIGH)
    return None


def read_interactions(pks: list[int]) -> int:
    """Read these inbound messages, keep what was found on each, and give each case the
    category and priority its agents have not set. Idempotent (a reading is replaced)."""
    from madoguchi.cases.models import Interaction, InteractionKind
    from madoguchi.shop.models import Product

    interactions = list(Interaction.objects.filter(pk__in=pks, kind=InteractionKind.INBOUND).select_related("case"))
    if not interactions:
        return 0
    reader = current_reader()
    readings = reader.read([interaction.body for interaction in interactions])
    names = list(Product.objects.values_list("pk", "name"))
    trained_at = dt.datetime.fromtimestamp(reader.trained_at, tz=dt.UTC)
    for interaction, reading in zip(interactions, readings, strict=True):
        with transaction.atomic():
            MessageReading.objects.update_or_create(interaction=interaction, defaults={
                "kind": reading.kind, "category": reading.category, "anger": reading.anger,
                "kind_confidence": reading.kind_confidence, "category_confidence": reading.category_confidence,
                "orders": entities.order_numbers(interaction.body), "carriers": entities.carriers(interaction.body),
                "products": entities.products(interaction.body, names), "model_trained_at": trained_at,
                "read_at": timezone.now(),
            })
            apply_to_case(interaction.case, reading)
    return len(interactions)


def apply_to_case(case: Any, reading: model.Reading) -> None:
    from madoguchi.cases.models import Category
    from madoguchi.cases.services import do_classify_case

    category = None
    if reading.kind != "noise" and case.category.code in (settings.MAIL_DEFAULT_CATEGORY, "other"):
        # Only a case still in the catch-all: a category the customer picked on a form stays.
        category = Category.objects.filter(code=reading.category, active=True).first()
    do_classify_case(case, category=category, priority=priority_for(reading), reason=reading.as_json())


# --- Agents' corrections -----------------------------------------------------------------------
def first_message(case: Any) -> str:
    from madoguchi.cases.models import InteractionKind

    first = case.interactions.filter(kind=InteractionKind.INBOUND).order_by("occurred_at", "id").first()
    return first.body if first is not None else case.complaint


def record_label(case: Any, actor: Any) -> CategoryLabel:
    label, _created = CategoryLabel.objects.update_or_create(case=case, defaults={
        "text": first_message(case)[: model.MAX_CHARS], "category": case.category,
        "labelled_by": actor, "labelled_at": timezone.now(),
    })
    return label
