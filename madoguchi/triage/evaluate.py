"""How well a reader does on labelled messages: complaint-vs-not F1, category accuracy and the
Spearman correlation of its anger with the human rating among complaints (issue 20's targets:
≥ 0.95, ≥ 90 %, ≥ 0.6)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scipy.stats import spearmanr
from sklearn.metrics import accuracy_score, f1_score

from madoguchi.triage.corpus import Example
from madoguchi.triage.model import Reader

TARGETS = {"complaint_f1": 0.95, "category_accuracy": 0.90, "anger_spearman": 0.6}


def read_examples(path: Path) -> list[Example]:
    """JSON lines {"text", "kind", "category", "anger"}, or tab-separated kind, category,
    anger, text (the hand-written sets' format)."""
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        try:
            if line.lstrip().startswith("{"):
                row = json.loads(line)
                out.append(Example(row["text"], row["kind"], row["category"], float(row["anger"])))
            else:
                kind, category, anger, text = line.split("\t", 3)
                out.append(Example(text.replace("\\n", "\n"), kind, category, float(anger)))
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path}:{number}: {error}") from error
    return out


def scores(reader: Reader, examples: Sequence[Example]) -> dict[str, Any]:
    readings = reader.read([e.text for e in examples])
    truth_complaint = [e.kind == "complaint" for e in examples]
    said_complaint = [r.kind == "complaint" for r in readings]
    pairs = [(r.anger, e.anger) for r, e in zip(readings, examples, strict=True) if e.kind == "complaint"]
    rho = float(spearmanr([p[0] for p in pairs], [p[1] for p in pairs]).statistic) if len(pairs) > 2 else float("nan")
    return {
        "messages": len(examples),
        "complaint_f1": round(float(f1_score(truth_complaint, said_complaint)), 3),
        "kind_accuracy": round(float(accuracy_score([e.kind for e in examples], [r.kind for r in readings])), 3),
        "category_accuracy": round(float(accuracy_score([e.category for e in examples], [r.category for r in readings])), 3),
        "anger_spearman": round(rho, 3),
        "complaints": len(pairs),
    }


def misses(reader: Reader, examples: Sequence[Example]) -> list[dict[str, Any]]:
    readings = reader.read([e.text for e in examples])
    return [
        {"text": e.text, "kind": [e.kind, r.kind], "category": [e.category, r.category], "anger": [e.anger, round(r.anger, 1)]}
        for e, r in zip(examples, readings, strict=True)
        if e.kind != r.kind or e.category != r.category
    ]
