"""`madoguchi classify`: one JSON object per line of standard input, with the desk's model.

Runs before Django is set up when the data folder has a model (Django and scikit-learn take
longer to load than the whole command may take); without one it sets Django up and trains
the shop's model first, as the desk would on first use."""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

from madoguchi.triage import model

BLANK = {"kind": "noise", "category": "other", "anger": 0.0}


def _reader(path: Path) -> model.Reader:
    reader = model.load(path)
    if reader is not None:
        return reader
    print("分類モデルがまだないため、学習しています（数秒〜数十秒）…", file=sys.stderr, flush=True)
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
    import django

    django.setup()
    from django.db import DatabaseError

    from madoguchi.triage import services

    try:
        return services.current_reader()
    except DatabaseError:  # no database yet: the starter model alone
        return services.do_train_without_labels()


# Lines are read in batches (one batch costs much less than its lines one by one); from a
# terminal each line is answered as it is typed.
BATCH = 500


def classify(reader: model.Reader, stdin: io.BufferedIOBase, stdout: io.TextIOBase, batch: int = BATCH) -> int:
    problems = 0
    waiting: list[tuple[int, str]] = []

    def flush() -> None:
        texts = [text for _number, text in waiting if text.strip()]
        readings = iter(reader.read(texts))
        for _number, text in waiting:
            result = next(readings).as_json() if text.strip() else BLANK
            stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        waiting.clear()
        stdout.flush()

    for number, raw in enumerate(stdin, 1):
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            problems += 1
            flush()
            print(f"{number} 行目は UTF-8 として読めませんでした（この行は error として出力します）。", file=sys.stderr)
            stdout.write(json.dumps({"error": "UTF-8 として読めません", "line": number}, ensure_ascii=False) + "\n")
            continue
        waiting.append((number, line))
        if len(waiting) >= batch:
            flush()
    flush()
    return problems


def evaluate(reader: model.Reader, file: str) -> dict[str, object]:
    from madoguchi.triage import corpus
    from madoguchi.triage.evaluate import TARGETS, read_examples, scores

    examples = read_examples(Path(file)) if file else corpus.evaluation_set()
    result = scores(reader, examples)
    result["targets"] = TARGETS
    result["met"] = all(float(result[key]) >= target for key, target in TARGETS.items())  # type: ignore[arg-type]
    result["set"] = file or "project evaluation set (madoguchi/triage/corpus.py evaluation_set)"
    return result


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        prog="madoguchi classify",
        description="標準入力の1行を1件のメッセージとして読み、1行に1つの JSON を出力します"
                    '（{"kind": …, "category": …, "anger": …}）。デスクと同じ分類モデルを使います。',
    )
    parser.add_argument("--evaluate", nargs="?", const="", metavar="FILE",
                        help="正解付きの評価データ（JSON Lines: text, kind, category, anger）で精度を測る。"
                             "FILE を省くとプロジェクトの評価セット")
    args = parser.parse_args(argv)
    reader = _reader(model.model_file(model.data_dir_from_env()))
    if args.evaluate is not None:
        try:
            result = evaluate(reader, args.evaluate)
        except (OSError, ValueError) as error:
            print(f"評価データを読めませんでした: {error}", file=sys.stderr)
            sys.exit(2)
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return
    problems = classify(reader, sys.stdin.buffer, sys.stdout,  # type: ignore[arg-type]
                        batch=1 if sys.stdin.isatty() else BATCH)
    if problems:
        sys.exit(1)
