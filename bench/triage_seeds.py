"""The classifier's figures as docs/benchmarks.md records them (issue 20): the starter model
trained with three corpus seeds (20, 21, 22), each evaluated on the whole evaluation set and on
its hand-written part; prints each seed and the mean, F1 · category · Spearman.

    .venv/bin/python bench/triage_seeds.py [--seeds 20 21 22] [--misses FILE]
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[20, 21, 22])
    parser.add_argument("--misses", help="write the first seed's misses on the whole set here (JSON lines)")
    args = parser.parse_args(argv)
    from madoguchi.triage import corpus, evaluate, model

    # Sudachi reads each text once for all seeds (the readings do not depend on the seed).
    model.words = functools.lru_cache(maxsize=None)(model.words)  # type: ignore[assignment]
    whole = corpus.evaluation_set()
    hand = corpus.handwritten("eval")
    keys = ("complaint_f1", "category_accuracy", "anger_spearman", "kind_accuracy")
    rows = []
    for seed in args.seeds:
        started = time.process_time()
        reader = model.starter(corpus.training_set(seed=seed))
        took = time.process_time() - started
        a, b = evaluate.scores(reader, whole), evaluate.scores(reader, hand)
        rows.append([a[k] for k in keys] + [b[k] for k in keys])
        print(f"seed {seed} ({took:.0f} s CPU): whole " + " · ".join(f"{a[k]:.3f}" for k in keys)
              + " / hand " + " · ".join(f"{b[k]:.3f}" for k in keys), flush=True)
        if args.misses and seed == args.seeds[0]:
            with open(args.misses, "w", encoding="utf-8") as out:
                for miss in evaluate.misses(reader, whole):
                    out.write(json.dumps(miss, ensure_ascii=False) + "\n")
    mean = [sum(column) / len(rows) for column in zip(*rows, strict=True)]
    print("mean (F1 · category · Spearman · kind): whole " + " · ".join(f"{v:.3f}" for v in mean[:4])
          + " / hand " + " · ".join(f"{v:.3f}" for v in mean[4:]))


if __name__ == "__main__":
    main(sys.argv[1:])
