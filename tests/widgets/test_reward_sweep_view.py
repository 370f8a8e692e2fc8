"""RewardSweepView on the Python side: sweep order, binary state, live traits, validation."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets
from ipywidgets.widgets.widget import _remove_buffers

from widgets import RewardSweepView
from widgets.base import from_float32_bytes

Z = {"length": [0, 1, 1, 0], "sycophancy": [2, 0, 1]}
Z_LABELS = {"length": ["short", "long"], "sycophancy": ["neutral", "agrees", "flatters"]}
VARIANTS = ["unconditional", "conditional"]  # first appearance order; not alphabetical
LAMBDAS = [10.0, 0.0, 1.0]  # given unsorted


def reward_values(bias: str, variant: str, lam: float) -> list[float]:
    """Distinct, known rewards per model: response i of the model gets i + lam / 100 (+0.5
    for the conditional variant, +10 for sycophancy)."""
    offset = lam / 100 + (variant == "conditional") * 0.5 + (bias == "sycophancy") * 10
    return [i + offset for i in range(len(Z[bias]))]


def make_runs() -> list[dict]:
    return [
        {
            "bias": bias,
            "variant": variant,
            "lam": lam,
            "rewards": reward_values(bias, variant, lam),
            "accuracy": 0.5 + lam / 40,
            "gap": 2.0 / (1 + lam),
        }
        for bias in Z
        for variant in VARIANTS
        for lam in LAMBDAS
    ]


def make_view(runs=None, z=None, z_labels=None, **kwargs) -> RewardSweepView:
    return RewardSweepView(
        make_runs() if runs is None else runs,
        Z if z is None else z,
        Z_LABELS if z_labels is None else z_labels,
        **kwargs,
    )


def test_traits_after_construction():
    view = make_view(title="λ sweep")
    assert view.title == "λ sweep"
    assert view.biases == ["length", "sycophancy"]
    assert view.variants == VARIANTS
    assert view.lambdas == [0.0, 1.0, 10.0]
    assert view.z_labels == Z_LABELS
    # defaults: the first bias, the conditional variant (though listed second), the first λ
    assert (view.bias, view.variant, view.lam_index, view.lam) == (
        "length",
        "conditional",
        0,
        0.0,
    )
    assert len(view.points) == 2 * 2 * 3
    expected = [
        {"bias": "length", "variant": "unconditional", "lam": lam}
        | {"accuracy": 0.5 + lam / 40, "gap": 2.0 / (1 + lam)}
        for lam in (0.0, 1.0, 10.0)
    ]
    assert view.points[:3] == expected  # by bias, then variant, then increasing λ
    order = [(p["bias"], p["variant"], p["lam"]) for p in view.points]
    assert order == [(b, v, lam) for b in view.biases for v in VARIANTS for lam in view.lambdas]


def test_variant_defaults_to_the_first_without_a_conditional_one():
    runs = [run | {"variant": "v-" + run["variant"]} for run in make_runs()]
    assert make_view(runs).variant == "v-unconditional"


def test_state_holds_float32_buffers_for_codes_and_rewards():
    view = make_view()
    state, paths, buffers = _remove_buffers(view.get_state())
    assert state["_z"] == {} and state["_rewards"] == {}  # everything went to buffers
    sent = {tuple(path): from_float32_bytes(b) for path, b in zip(paths, buffers, strict=True)}
    keys = [f"{b}|{v}|{k}" for b in view.biases for v in VARIANTS for k in range(3)]
    assert set(sent) == {("_z", "length"), ("_z", "sycophancy")} | {("_rewards", k) for k in keys}
    np.testing.assert_array_equal(sent["_z", "length"], Z["length"])
    np.testing.assert_array_equal(sent["_z", "sycophancy"], Z["sycophancy"])
    # "bias|variant|k": k indexes the sorted lambdas, so k = 2 is λ = 10
    decoded = sent["_rewards", "sycophancy|conditional|2"]
    assert decoded.dtype == np.float32
    expected = np.float32(reward_values("sycophancy", "conditional", 10))
    np.testing.assert_array_equal(decoded, expected)


def test_rewards_and_lam():
    view = make_view()
    np.testing.assert_array_equal(view.rewards(), np.float32([0.5, 1.5, 2.5, 3.5]))  # shown
    view.lam_index = 1
    assert view.lam == 1.0
    np.testing.assert_array_equal(
        view.rewards(), np.float32(reward_values("length", "conditional", 1))
    )
    np.testing.assert_array_equal(
        view.rewards("sycophancy", "unconditional", 10),
        np.float32(reward_values("sycophancy", "unconditional", 10)),
    )
    with pytest.raises(ValueError, match=r"unknown bias 'topic'; choose one of \['length'"):
        view.rewards("topic")
    with pytest.raises(ValueError, match=r"unknown variant 'x'; choose one of"):
        view.rewards(variant="x")
    with pytest.raises(ValueError, match=r"no run at λ 3; the λs are \[0.0, 1.0, 10.0\]"):
        view.rewards(lam=3)


def test_bias_variant_and_lam_index_from_python():
    view = make_view()
    view.bias = "sycophancy"
    view.variant = "unconditional"
    view.lam_index = 2
    state = view.get_state()
    assert (state["bias"], state["variant"], state["lam_index"]) == (
        "sycophancy",
        "unconditional",
        2,
    )
    with pytest.raises(traitlets.TraitError, match=r"unknown bias 'topic'"):
        view.bias = "topic"
    with pytest.raises(traitlets.TraitError, match=r"unknown variant 'causal'"):
        view.variant = "causal"
    with pytest.raises(traitlets.TraitError, match=r"lam_index must be .* in \[0, 2\], got 3"):
        view.lam_index = 3
    with pytest.raises(traitlets.TraitError, match=r"got -1"):
        view.lam_index = -1
    assert view.lam_index == 2


def test_data_traits_are_read_only():
    view = make_view()
    for name in ("biases", "variants", "lambdas", "z_labels", "points", "_z", "_rewards"):
        with pytest.raises(traitlets.TraitError, match="read-only"):
            setattr(view, name, [])


def test_numpy_inputs_and_torch_rewards_work():
    torch = pytest.importorskip("torch")
    runs = [
        run | {"rewards": torch.tensor(run["rewards"]), "lam": np.float32(run["lam"])}
        for run in make_runs()
    ]
    z = {bias: np.asarray(codes, dtype=np.int64) for bias, codes in Z.items()}
    view = make_view(runs, z)
    assert view.lambdas == [0.0, 1.0, 10.0]
    np.testing.assert_array_equal(view.rewards("length", "conditional", 0), [0.5, 1.5, 2.5, 3.5])


def with_run(index: int, **fields) -> list[dict]:
    runs = make_runs()
    runs[index] = runs[index] | fields
    return runs


def without(index: int, key: str) -> list[dict]:
    runs = make_runs()
    del runs[index][key]
    return runs


@pytest.mark.parametrize(
    ("runs", "z", "z_labels", "message"),
    [
        ([], None, None, "runs is empty; pass one mapping per trained reward model"),
        (without(2, "gap"), None, None, r"runs\[2\] has no 'gap'; each run needs bias, variant"),
        (with_run(1, bias=""), None, None, r"runs\[1\] bias is ''; expected a non-empty str"),
        (with_run(1, variant="a|b"), None, None, r"runs\[1\] variant is 'a\|b'; .* without '\|'"),
        (with_run(4, lam=-1), None, None, r"runs\[4\] lam is -1.0; expected a finite number >= 0"),
        (with_run(4, lam=np.inf), None, None, r"runs\[4\] lam is inf; expected a finite number"),
        (with_run(4, lam=[1, 2]), None, None, r"runs\[4\] lam must be one number, got shape"),
        (
            with_run(3, accuracy=1.2), None, None,
            r"runs\[3\] accuracy is 1.2; expected a finite number in \[0, 1\]",
        ),
        (with_run(3, accuracy=np.nan), None, None, r"runs\[3\] accuracy is nan; expected a fin"),
        (with_run(5, gap=-0.1), None, None, r"runs\[5\] gap is -0.1; expected a finite number >="),
        (with_run(5, gap=np.inf), None, None, r"runs\[5\] gap is inf; expected a finite number"),
        (
            with_run(0, rewards=[1, 2, 3]), None, None,
            r"runs\[0\] rewards has 3 values for 4 test responses in z\['length'\]",
        ),
        (
            with_run(7, rewards=[0, np.nan, 1]), None, None,
            r"runs\[7\] rewards has a non-finite value \(nan\) at index 1",
        ),
        (
            with_run(7, rewards=[0, 1, np.inf]), None, None,
            r"runs\[7\] rewards has a non-finite value \(inf\) at index 2",
        ),
        (
            None, {"length": Z["length"]}, None,
            r"runs\[6\] bias 'sycophancy' is not in z, which has \['length'\]",
        ),
        (
            None, None, {"length": Z_LABELS["length"]},
            r"runs\[6\] bias 'sycophancy' is not in z_labels, which has \['length'\]",
        ),
        (
            None, Z | {"sycophancy": [2, 0, 3]}, None,
            r"z\['sycophancy'\]\[2\] is 3; expected a category index in \[0, 2\]",
        ),
        (None, Z | {"length": [0, -1, 1, 0]}, None, r"z\['length'\]\[1\] is -1; expected a cat"),
        (
            None, Z | {"length": []}, None,
            r"z\['length'\] is empty; pass one Z category index per test response",
        ),
        (
            None, None, Z_LABELS | {"length": []},
            r"z_labels\['length'\] is empty; name each Z category",
        ),
        (
            make_runs() + [make_runs()[4]], None, None,
            r"runs\[12\] repeats runs\[4\]: bias 'length', variant 'conditional', λ 0; pass each",
        ),
        (
            make_runs()[:4] + make_runs()[5:], None, None,
            r"no run for bias 'length', variant 'conditional', λ 0; the sweep needs one run",
        ),
        (
            make_runs() + [make_runs()[0] | {"lam": 0.1}], None, None,
            r"no run for bias 'length', variant 'conditional', λ 0.1",
        ),
    ],
)  # fmt: skip
def test_bad_input_is_named_in_the_error(runs, z, z_labels, message):
    with pytest.raises(ValueError, match=message):
        make_view(runs, z, z_labels)


@pytest.mark.parametrize(
    ("runs", "z", "z_labels", "message"),
    [
        ([("length",)], None, None, r"runs\[0\] is tuple; expected a mapping with keys bias,"),
        (with_run(1, variant=3), None, None, r"runs\[1\] variant is int 3; expected a str"),
        (with_run(4, lam="1"), None, None, r"runs\[4\] lam must hold real numbers"),
        (
            None, Z | {"length": [0.0, 1.0, 1.0, 0.0]}, None,
            r"z\['length'\] must hold integer category indices, got dtype float64",
        ),
        (
            None, None, Z_LABELS | {"length": "short"},
            r"z_labels\['length'\] must be a list of category names, got one str",
        ),
        (
            None, None, Z_LABELS | {"length": ["short", 2]},
            r"z_labels\['length'\]\[1\] is int 2; expected str",
        ),
    ],
)  # fmt: skip
def test_wrong_types_raise_type_error(runs, z, z_labels, message):
    with pytest.raises(TypeError, match=message):
        make_view(runs, z, z_labels)
