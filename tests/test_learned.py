"""The learned model: scored by hand exactly as scikit-learn scores it, cached across processes
without pickles, and retrained when the data changes or the cache is unreadable."""

from __future__ import annotations

import numpy as np
import pytest

from intents import Classifier
from intents import learned as learned_module
from intents.learned import Example, Features, LearnedModel, trained
from knowledge import Handbook


def test_scores_by_hand_equal_scikit_learns(classifier: Classifier) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    features = classifier.learned.features
    examples = [
        ("居住证要带什么", "a"),
        ("养老金认证在哪", "b"),
        ("路灯坏了", "c"),
        ("居住证好久办得下来", "a"),
        ("认证要刷脸不", "b"),
        ("楼道灯不亮", "c"),
    ]
    labels = [label for _, label in examples]
    vectorizer = TfidfVectorizer(analyzer=lambda f: f, sublinear_tf=True)
    matrix = vectorizer.fit_transform([features(t) for t, _ in examples])
    model = LinearSVC(C=0.5, random_state=0).fit(matrix, labels)
    vocabulary = learned_module.Vocabulary(dict(vectorizer.vocabulary_), vectorizer.idf_)
    head = learned_module._fit(matrix, labels, 0.5)
    for probe in ("居住证咋个办", "灯又坏了", "认证认证", "完全无关的话"):
        expected = model.decision_function(vectorizer.transform([features(probe)]))[0]
        assert np.allclose(head.scores(vocabulary.vector(features(probe))), expected)


def _small(handbook: Handbook) -> list[Example]:
    return [
        Example("居住证要带什么", "consult", "residence_permit"),
        Example("养老金认证在哪", "consult", "pension_certification"),
        Example("我的单子办好没", "status"),
        Example("明天天气如何", "unknown", place="hotline_12345"),
        Example("老人走了要办啥", "consult", event="bereavement"),
    ]


def test_a_model_is_cached_on_disk_and_read_back_the_same(
    handbook, classifier, tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr(learned_module, "_TRAINED", {})
    features = Features(classifier.tokens)
    examples = _small(handbook)
    first = trained(examples, features, tmp_path)
    [cached] = list(tmp_path.glob("model-*.npz"))
    monkeypatch.setattr(learned_module, "_TRAINED", {})
    calls = []
    monkeypatch.setattr(LearnedModel, "train", classmethod(lambda cls, *a, **k: calls.append(1)))
    second = trained(examples, features, tmp_path)
    assert calls == []  # read from the file, not trained
    for text in ("居住证", "老人走了", "单子好了没", "天气"):
        assert first.predict(text) == second.predict(text)
        assert first.best("event", text) == second.best("event", text)
    assert cached.exists()


def test_an_unreadable_cache_file_is_trained_over(handbook, classifier, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(learned_module, "_TRAINED", {})
    features = Features(classifier.tokens)
    examples = _small(handbook)
    trained(examples, features, tmp_path)
    [path] = list(tmp_path.glob("model-*.npz"))
    path.write_bytes(b"not a model")
    monkeypatch.setattr(learned_module, "_TRAINED", {})
    model = trained(examples, features, tmp_path)
    assert model.predict("居住证要带什么")[1][0][0] == "residence_permit"


def test_other_data_is_another_model(handbook, classifier, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(learned_module, "_TRAINED", {})
    features = Features(classifier.tokens)
    examples = _small(handbook)
    trained(examples, features, tmp_path)
    trained([*examples, Example("社保卡丢了", "consult", "social_security_card")], features, tmp_path)
    assert len(list(tmp_path.glob("model-*.npz"))) == 2


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_message_scores_as_the_bias(classifier: Classifier, text: str) -> None:
    model = classifier.learned
    head = model.heads["intent"]
    everything = head.ranked(model.vector(text), top=len(head.classes))
    assert abs(sum(p for _, p in everything) - 1) < 1e-9
    assert len(model.predict(text)[1]) == learned_module.TOP  # only the likeliest items are reported
