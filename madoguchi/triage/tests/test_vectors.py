"""The pretrained word vectors (chiVe, from the ja-ginza package's files): found by spaCy's
hash of a word, similar words close together, copied into the model file, and a word the
training set never had still placed near its category's topic words."""

from __future__ import annotations

import numpy as np
import pytest

from madoguchi.triage import corpus, model


def test_the_hash_is_spacys_key_for_a_word() -> None:
    # Values of spacy.strings.hash_string (spaCy 3.8.18) for the same strings: every length
    # class (under 8 bytes, exactly 8 plus a tail, empty) of MurmurHash64A with seed 1.
    assert [int(h) for h in model.murmur64(["点検", "abcdefghi", "", "a"])] == [
        2870804644848683308, 13885881106499164936, 14313749767032693980, 11901859001352538922,
    ]


@pytest.fixture(scope="module")
def vectors() -> model.WordVectors:
    found = model.package_vectors()
    assert found is not None, "ja-ginza is not installed (bin/_env.sh installs it)"
    return found


def test_the_package_vectors_put_similar_words_close(vectors: model.WordVectors) -> None:
    assert len(vectors.keys) > 400_000 and vectors.table.shape == (20_000, 300)
    assert vectors.table.dtype == np.float16 and vectors.rows.dtype == np.uint16
    rows = vectors.lookup(["修理", "故障", "送料", "請求書", "領収書", "配達", "ぴえん🥺ではない語"])
    assert (rows[:6] >= 0).all() and rows[6] == -1
    unit = vectors.unit(rows)
    assert unit[0] @ unit[1] > unit[0] @ unit[2] + 0.2  # 修理 is nearer 故障 than 送料
    assert unit[3] @ unit[4] > unit[3] @ unit[5] + 0.2  # 請求書 is nearer 領収書 than 配達
    assert not unit[6].any()


def test_a_word_never_seen_in_training_lands_near_its_category(starter_model_bytes: bytes, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from madoguchi.triage.tests.conftest import put_model

    reader = model.load(put_model(tmp_path, starter_model_bytes))
    assert reader is not None and reader.vectors is not None
    training = " ".join(e.text for e in corpus.training_set()) + " ".join(w for w, _c in corpus.topic_words())
    for word, category in (("修繕", "defect"), ("督促", "billing"), ("口座振替", "billing"), ("運送業", "delivery"),
                           ("応対", "service")):
        assert word not in training and word not in reader.word_vocabulary
        assert reader.vectors.lookup([word])[0] >= 0
        features = reader.vectors.features([[word]], reader.word_vocabulary, reader.word_idf, reader.topics)[0]
        mean, near = features[:300], features[300:]
        assert abs(np.linalg.norm(mean) - 1.0) < 1e-6  # the unseen word is a feature after all
        assert reader.categories[int(near.argmax())] == category, word


def test_kind_and_anger_do_not_read_the_topic_columns(starter_model_bytes: bytes, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from madoguchi.triage.tests.conftest import put_model

    reader = model.load(put_model(tmp_path, starter_model_bytes))
    assert reader is not None
    topics = len(reader.topics)
    assert topics == len(reader.categories)
    kinds, categories = len(reader.kinds), len(reader.categories)
    assert not reader.weights[:kinds, -topics:].any() and not reader.weights[-1, -topics:].any()
    assert reader.weights[kinds : kinds + categories, -topics:].any()


def test_without_vectors_words_and_characters_alone() -> None:
    data = corpus.training_set()[:300]
    reader = model.train([e.text for e in data], [e.kind for e in data], [e.category for e in data],
                         [e.anger for e in data], use_vectors=False)
    assert reader.vectors is None and len(reader.topics) == 0
    reading = reader.read(["注文した土鍋が一週間たっても届きません。"])[0]
    assert reading.kind in reader.kinds and reading.category in reader.categories


def test_batches_read_as_one() -> None:
    """The features of 1,200 messages are computed 500 at a time; a message's do not depend
    on its neighbours."""
    vectors = model.package_vectors()
    assert vectors is not None
    docs = [model.words(e.text) for e in corpus.evaluation_set()[:1200]]
    idf = np.ones(1)
    topics = model.topic_centroids(vectors, ["billing", "delivery"])
    together = vectors.features(docs, {"の": 0}, idf, topics)
    alone = np.vstack([vectors.features([doc], {"の": 0}, idf, topics) for doc in docs[495:505]])
    assert together.shape == (1200, 302)
    np.testing.assert_allclose(together[495:505], alone, atol=1e-9)
