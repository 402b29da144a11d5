"""The compiled list check of a spec (the upload's path) and the per-task check (the emulator's and the
error messages' path) agree on every value: same tasks refused, same errors."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_toloka.client.validation import InputValidator

#: Values of every JSON kind and then some, plus strings that are (nearly) URLs or coordinates.
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 40_000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["https://e/1.jpg", "ftp://h/x", "e/1.jpg", "53.9, 27.5", "53.9,27.5", "x,y", "a", "b", "ab"]),
)
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3), st.dictionaries(st.text(max_size=3), SCALARS, max_size=2))

FIELD_SPECS = st.one_of(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["string", "url", "coordinates", "file", "json", "boolean"])},
        optional={"required": st.booleans(), "min_length": st.integers(0, 3), "max_length": st.integers(0, 5)},
    ),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["integer", "float", "array_integer", "array_float"])},
        optional={"required": st.booleans(), "min_value": st.integers(-2, 2), "max_value": st.integers(0, 50)},
    ),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["string", "array_string"]), "allowed_values": st.just(["a", "b"])},
        optional={"required": st.booleans()},
    ),
)
TASKS = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {"input_values": st.fixed_dictionaries({"f": VALUES, "g": VALUES}, optional={"other": VALUES})},
            optional={"overlap": st.one_of(st.integers(-1, 30_002), st.booleans(), st.floats(), st.none())},
        ),
        st.fixed_dictionaries(
            {"input_values": st.dictionaries(st.sampled_from(["f", "g", "other"]), VALUES, max_size=3)},
        ),
        st.fixed_dictionaries({"input_values": VALUES}),
        VALUES,
    ),
    max_size=12,
)


@settings(max_examples=1000, deadline=None)
@given(f=FIELD_SPECS, g=FIELD_SPECS, tasks=TASKS)
def test_the_compiled_check_refuses_exactly_what_the_per_task_check_refuses(
    f: dict[str, Any], g: dict[str, Any], tasks: list[Any]
) -> None:
    validator = InputValidator({"f": f, "g": g})
    expected = [(i, problem) for i, task in enumerate(tasks) if (problem := validator.validate_task(task))]
    assert validator.invalid_positions(tasks) == expected
    assert validator._suspects(tasks) == [i for i, _ in expected]  # plain values: no needless suspects


def test_values_of_subclasses_are_explained_not_refused() -> None:
    class Text(str):
        pass

    validator = InputValidator({"image": {"type": "url"}, "n": {"type": "integer"}})
    tasks = [{"input_values": {"image": Text("https://e/1.jpg"), "n": 1}}, {"input_values": {"image": Text("x")}}]
    assert validator._suspects(tasks) == [0, 1]
    assert [i for i, _ in validator.invalid_positions(tasks)] == [1]
    assert validator.invalid_positions(tasks)[0][1] == {
        "input_values.image": {
            "code": "INVALID_URL_SYNTAX",
            "message": "Expected an absolute URL such as https://example.com/image.jpg, got 'x'",
        },
        "input_values.n": {"code": "VALUE_REQUIRED", "message": "Value must be present and not equal to null"},
    }
