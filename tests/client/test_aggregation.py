"""Aggregation and review policies on answers (no I/O): majority vote, crowd-kit, control accuracy, agreement."""

from __future__ import annotations

import pytest

from airflow_provider_toloka.client.aggregation import Answer, answers_of, crowdkit_aggregate, majority_vote
from airflow_provider_toloka.client.errors import TolokaConfigError, TolokaValidationError
from airflow_provider_toloka.client.review import (
    AccuracyScorer,
    AgreementIndex,
    Verdict,
    control_accuracy,
    policy_verdict,
)

TASKS = [{"id": f"t{i}", "input_values": {"image": f"{i}.jpg"}} for i in range(3)]
CONTROL = {"id": "g", "input_values": {"image": "g.jpg"}, "known_solutions": [{"output_values": {"result": "boots"}}]}


def assignment(user: str, labels: list[str], tasks: list[dict] = TASKS) -> dict:
    return {
        "id": f"a-{user}",
        "user_id": user,
        "tasks": tasks,
        "solutions": [{"output_values": {"result": label}} for label in labels],
    }


def test_majority_vote_gives_the_answer_its_share_and_count_and_breaks_ties_stably():
    pool = [
        assignment("a", ["boots", "other", "boots"]),
        assignment("b", ["boots", "sneakers", "other"]),
        assignment("c", ["sneakers", "other", "boots", "boots"], [*TASKS, CONTROL]),
    ]
    result = majority_vote(answers_of(pool))
    assert set(result) == {"t0", "t1", "t2"}  # the control task is left out
    assert result["t0"].output_values == {"result": "boots"} and result["t0"].confidence == pytest.approx(2 / 3)
    assert result["t1"].output_values == {"result": "other"} and result["t1"].answers == 3
    tie = majority_vote([Answer("x", "a", '{"result": "z"}'), Answer("x", "b", '{"result": "a"}')])
    assert tie["x"].output_values == {"result": "a"} and tie["x"].confidence == 0.5


def test_fields_restrict_what_is_compared():
    pool = [
        {"user_id": "a", "tasks": TASKS[:1], "solutions": [{"output_values": {"result": "boots", "note": "x"}}]},
        {"user_id": "b", "tasks": TASKS[:1], "solutions": [{"output_values": {"result": "boots", "note": "y"}}]},
    ]
    assert majority_vote(answers_of(pool, ["result"]))["t0"].confidence == 1.0
    assert majority_vote(answers_of(pool))["t0"].confidence == 0.5


def test_dawid_skene_through_crowdkit_trusts_the_reliable_tolokers():
    pytest.importorskip("crowdkit")
    tasks = [{"id": f"t{i}"} for i in range(40)]
    truth = ["boots" if i % 2 else "other" for i in range(40)]
    good = [assignment(f"g{j}", truth, tasks) for j in range(3)]
    noisy = [assignment(f"n{j}", ["sneakers"] * 40, tasks) for j in range(2)]
    result = crowdkit_aggregate("dawid_skene", answers_of(good + noisy))
    assert [result[f"t{i}"].output_values["result"] for i in range(40)] == truth
    assert all(0.5 < aggregate.confidence <= 1.0 for aggregate in result.values())
    assert result["t0"].answers == 5


def test_an_unknown_method_and_a_missing_crowdkit_are_named(monkeypatch):
    with pytest.raises(TolokaValidationError, match="majority_vote, dawid_skene"):
        crowdkit_aggregate("average", [])
    import builtins

    real_import = builtins.__import__

    def no_crowdkit(name, *args, **kwargs):
        if name.startswith("crowdkit"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_crowdkit)
    with pytest.raises(TolokaConfigError, match=r"pip install 'airflow-provider-toloka\[crowd-kit\]'"):
        crowdkit_aggregate("glad", [Answer("t", "w", "{}")])


def test_control_accuracy_counts_only_control_tasks():
    both = [TASKS[0], CONTROL, {**CONTROL, "id": "g2"}]
    assert control_accuracy(assignment("a", ["x", "boots", "other"], both)) == 0.5
    assert control_accuracy(assignment("a", ["x"], TASKS[:1])) is None


def test_agreement_compares_with_what_enough_others_answered():
    pool = [assignment(user, ["boots", "other", "boots"]) for user in "abc"]
    odd = assignment("d", ["sneakers", "other", "sneakers"])
    index = AgreementIndex(min_agreement=2).add_all([*pool, odd])
    assert index.accuracy(odd) == pytest.approx(1 / 3)
    assert index.accuracy(pool[0]) == 1.0
    assert AgreementIndex(min_agreement=4).add_all([*pool, odd]).accuracy(odd) is None


def test_policies_and_callables():
    pool = [
        *(assignment(u, ["boots", "other", "boots"]) for u in "abc"),
        assignment("d", ["sneakers", "other", "sneakers"]),
    ]
    odd = pool[-1]
    majority = AccuracyScorer("majority", min_agreement=2).learn(lambda: pool)
    assert policy_verdict("accept_all", odd) == Verdict(True)
    assert policy_verdict("majority", odd, scorer=majority, min_accuracy=0.5).accept is False
    assert policy_verdict("majority", odd, scorer=majority, min_accuracy=0.3).accept is True
    control = AccuracyScorer("control_accuracy").learn(lambda: pool)
    assert policy_verdict("control_accuracy", odd, scorer=control) == Verdict(True)  # nothing to check: accepted
    assert policy_verdict(lambda a: (False, "no"), odd) == Verdict(False, "no")
    assert policy_verdict(lambda a: None, odd) == Verdict(None)
    with pytest.raises(TolokaValidationError, match="accept_all"):
        policy_verdict("strict", odd)


def test_per_toloker_accuracy_pools_a_tolokers_answers_across_assignments():
    control = {**CONTROL, "id": "g"}
    pool = [
        assignment("a", ["x", "boots"], [TASKS[0], control]),  # right on the control task
        {**assignment("a", ["y", "other"], [TASKS[1], {**control, "id": "g2"}]), "id": "a-a-2"},  # wrong
        assignment("b", ["x"], TASKS[:1]),  # no control task at all
    ]
    per_assignment = AccuracyScorer("control_accuracy")
    per_toloker = AccuracyScorer("control_accuracy", per_toloker=True).learn(lambda: pool)
    assert [per_assignment.accuracy(a) for a in pool] == [1.0, 0.0, None]
    assert [per_toloker.accuracy(a) for a in pool] == [0.5, 0.5, None]
    assert policy_verdict("control_accuracy", pool[1], scorer=per_toloker, min_accuracy=0.5).accept is True


@pytest.mark.parametrize(
    ("method", "has_confidence"),
    [("glad", True), ("one_coin_dawid_skene", True), ("mmsr", False)],
)
def test_other_crowdkit_methods_give_an_answer_per_task_and_a_confidence_when_they_have_one(method, has_confidence):
    pytest.importorskip("crowdkit")
    tasks = [{"id": f"t{i}"} for i in range(12)]
    truth = ["boots" if i % 3 else "other" for i in range(12)]
    pool = [assignment(f"g{j}", truth, tasks) for j in range(3)] + [assignment("n", ["sneakers"] * 12, tasks)]
    result = crowdkit_aggregate(method, answers_of(pool))
    assert [result[f"t{i}"].output_values["result"] for i in range(12)] == truth
    assert all((aggregate.confidence is not None) == has_confidence for aggregate in result.values())


def test_a_crowdkit_method_that_breaks_is_a_configuration_error(mocker):
    """crowd-kit 1.4.2's Wawa and ZeroBasedSkill fail so with scikit-learn 1.9 (no __sklearn_tags__)."""
    pytest.importorskip("crowdkit")
    mocker.patch("crowdkit.aggregation.DawidSkene.fit_predict_proba", side_effect=AttributeError("no __sklearn_tags__"))
    with pytest.raises(TolokaConfigError, match=r"crowd-kit's DawidSkene failed \(AttributeError: no __sklearn_tags__"):
        crowdkit_aggregate("dawid_skene", [Answer("t", "w", '{"result": "a"}')])
