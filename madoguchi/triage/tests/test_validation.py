"""The validation folds the classifier's knobs are chosen on are carved from the training data
alone (issue 20): no fold holds an evaluation text or a phrase from the evaluation set's
positions, and each fold's held-out phrases are not in its fitting set."""

from __future__ import annotations

import pytest

from madoguchi.triage import corpus, model

BANKS = [corpus.MAIL_OPENINGS, corpus.MAIL_INTRODUCTIONS, corpus.MAIL_CLOSINGS, corpus.CONTEXT, corpus.STIFF,
         corpus.SARCASM, corpus.NOISE, corpus.PRODUCTS, corpus.CARRIERS, *corpus.PROBLEMS.values(),
         *corpus.QUESTIONS.values(), *corpus.REQUESTS.values(), *corpus.PRAISES.values(), *corpus.FEELINGS.values(),
         *corpus.DEMANDS.values()]


@pytest.mark.parametrize("fold", range(corpus.FOLDS))
def test_a_fold_splits_the_training_half_only(fold: int) -> None:
    for bank in BANKS:
        train = corpus._half(bank, "train")
        fit, val = corpus._half(bank, f"fit{fold}"), corpus._half(bank, f"val{fold}")
        assert set(map(str, fit)) <= set(map(str, train)) and set(map(str, val)) <= set(map(str, train))
        if len(train) > corpus.FOLDS:  # a bank too small to fold is shared, as the evaluation set shares it
            assert not set(map(str, fit)) & set(map(str, val))
    for category in corpus.CATEGORIES:
        held = set(corpus._problem_bank(category, f"val{fold}"))
        assert held and not held & set(corpus._problem_bank(category, f"fit{fold}"))
        assert not held & set(corpus._problem_bank(category, "eval"))


def test_no_fold_holds_an_evaluation_text() -> None:
    evaluation = {example.text for example in corpus.evaluation_set()}
    for fold in range(corpus.FOLDS):
        fitting = {example.text for example in corpus.fitting_set(fold)}
        held = {example.text for example in corpus.validation_set(fold)}
        assert len(held) > 1000 and not held & fitting
        assert not evaluation & (fitting | held)
        taught = {text for text, _is_frame in corpus.frame_examples(f"fit{fold}")}
        assert held_out and not taught & held_out


held_out = {model.prepare(text) for bank in (corpus.MAIL_CLOSINGS, corpus.CONTEXT, corpus.STIFF)
            for text in corpus._half(bank, "eval")}
held_out |= {model.prepare(pair[0]) for pairs in corpus.FEELINGS.values() for pair in corpus._half(pairs, "eval")}
