"""Choose the classifier's knobs on validation folds carved from the training data alone
(issue 20), never on the evaluation set: for each fold K (`corpus.fitting_set(K)` /
`corpus.validation_set(K)`: positions K, K+4 … of every bank's training half held out, as the
evaluation set holds out positions 3, 7 … of the whole bank) the starter model is trained on the
fold's fitting set with each combination of knobs and scored on its validation set. Prints each
fold (and seed) and the mean per combination, F1 · category · Spearman · kind on the whole
validation set and on its hand-written part, and the chosen combination: the highest mean
category accuracy on the whole validation set (a tie goes to the combination listed first).

    .venv/bin/python bench/triage_validate.py [--folds 0 1 2 3] [--seeds 20 21 22] [--frame-c 0.5 0.2 0.1 0.07] [--category-c 0.5]
"""

from __future__ import annotations

import argparse
import functools
import itertools
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, nargs="+", default=[0, 1, 2, 3])
    parser.add_argument("--seeds", type=int, nargs="+", default=[20, 21, 22], help="the fitting sets' corpus seeds")
    parser.add_argument("--frame-c", type=float, nargs="+", default=[0.5])
    parser.add_argument("--category-c", type=float, nargs="+", default=[0.5])
    args = parser.parse_args(argv)
    from madoguchi.triage import corpus, evaluate, model

    model.words = functools.lru_cache(maxsize=None)(model.words)  # type: ignore[assignment]
    evaluation = {example.text for example in corpus.evaluation_set()}
    keys = ("complaint_f1", "category_accuracy", "anger_spearman", "kind_accuracy")
    combos = list(itertools.product(args.frame_c, args.category_c))
    table: dict[tuple[float, float], list[list[float]]] = {combo: [] for combo in combos}
    for fold, seed in itertools.product(args.folds, args.seeds):
        fitting = corpus.fitting_set(fold, seed=seed)
        held = corpus.validation_set(fold, fit_seed=seed)
        assert not evaluation & {e.text for e in fitting + held}, "a fold holds an evaluation text"
        hand_texts = {e.text for e in corpus.handwritten(f"val{fold}")}
        hand = [e for e in held if e.text in hand_texts]  # the validation set's hand-written part
        print(f"fold {fold}, seed {seed}: {len(fitting)} fitting, {len(held)} validation messages", flush=True)
        for frame_c, category_c in combos:
            started = time.process_time()
            reader = model.starter(fitting, split=f"fit{fold}", frame_c=frame_c, category_c=category_c)
            took = time.process_time() - started
            got, by_hand = evaluate.scores(reader, held), evaluate.scores(reader, hand)
            table[(frame_c, category_c)].append([got[k] for k in keys] + [by_hand[k] for k in keys])
            print(f"  frame C {frame_c:g} category C {category_c:g} ({took:.0f} s CPU): whole "
                  + " · ".join(f"{got[k]:.3f}" for k in keys) + " / hand " + " · ".join(f"{by_hand[k]:.3f}" for k in keys),
                  flush=True)
    print("mean over folds and seeds (F1 · category · Spearman · kind):")
    best = max(combos, key=lambda combo: sum(r[1] for r in table[combo]) / len(table[combo]))
    for combo in combos:
        mean = [sum(column) / len(table[combo]) for column in zip(*table[combo], strict=True)]
        mark = "  <- chosen" if combo == best else ""
        print(f"  frame C {combo[0]:g} category C {combo[1]:g}: whole " + " · ".join(f"{v:.4f}" for v in mean[:4])
              + " / hand " + " · ".join(f"{v:.4f}" for v in mean[4:]) + mark)


if __name__ == "__main__":
    main(sys.argv[1:])
