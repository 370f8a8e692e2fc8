"""Bad inputs to the fused token log-prob / KL kernels: TypeError for a wrong type or dtype,
ValueError naming the argument (and position) for a wrong shape, NaN/inf or overflow."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.kernels import TeacherTerm, teacher_kl, token_kl, token_logprobs

FAST = settings(max_examples=20, deadline=None)
B, T, H, V = 2, 3, 4, 7


def tensors():
    g = torch.Generator().manual_seed(0)
    return dict(
        hidden=torch.randn(B, T, H, generator=g),
        weight=torch.randn(V, H, generator=g),
        labels=torch.randint(0, V, (B, T), generator=g),
        ref_hidden=torch.randn(B, T, 5, generator=g),
        ref_weight=torch.randn(V, 5, generator=g),
    )


CALLS = {
    "token_logprobs": lambda x: token_logprobs(x["hidden"], x["weight"], x["labels"]),
    "token_kl": lambda x: token_kl(x["hidden"], x["ref_hidden"], x["weight"], x["ref_weight"]),
    "teacher_kl": lambda x: teacher_kl(
        x["hidden"], x["weight"], [TeacherTerm(x["ref_hidden"], x["ref_weight"], 0.5)]
    ),
}
NAMES = {
    "token_logprobs": {"hidden": "hidden", "weight": "lm_head_weight"},
    "token_kl": {
        "hidden": "policy_hidden",
        "weight": "policy_lm_head_weight",
        "ref_hidden": "ref_hidden",
        "ref_weight": "ref_lm_head_weight",
    },
    "teacher_kl": {
        "hidden": "policy_hidden",
        "weight": "policy_lm_head_weight",
        "ref_hidden": r"teacher\[0\].hidden",
        "ref_weight": r"teacher\[0\].lm_head_weight",
    },
}
POISONED = [(call, key) for call in CALLS for key in NAMES[call]]


@pytest.mark.parametrize(("call", "key"), POISONED, ids=[f"{c}-{k}" for c, k in POISONED])
@FAST
@given(
    bad=st.sampled_from([float("nan"), float("inf"), -float("inf")]),
    where=st.integers(min_value=0, max_value=10**6),
)
def test_nan_or_inf_inputs_name_the_input(call, key, bad, where):
    """NaN logits used to pass through silently (NaN or -inf log-probs and KL)."""
    x = tensors()
    flat = x[key].view(-1)
    flat[where % flat.numel()] = bad
    with pytest.raises(ValueError, match=rf"{NAMES[call][key]}.*NaN or inf"):
        CALLS[call](x)


def test_nan_at_an_ignored_position_is_not_computed_and_passes():
    x = tensors()
    x["hidden"][1, 2] = float("nan")
    x["labels"][1, 2] = -100
    out = token_logprobs(x["hidden"], x["weight"], x["labels"])
    assert torch.isfinite(out).all() and out[1, 2] == 0


@FAST
@given(temperature=st.floats(min_value=1e-300, max_value=1e-40))
def test_overflowing_logits_are_named(temperature):
    x = tensors()
    with pytest.raises(ValueError, match="logits at position .* overflow"):
        token_logprobs(x["hidden"], x["weight"], x["labels"], temperature=temperature)


@FAST
@given(
    label=st.one_of(st.integers(min_value=V), st.integers(max_value=-1).filter(lambda v: v != -100))
)
def test_labels_outside_the_vocabulary_name_labels(label):
    x = tensors()
    x["labels"][0, 1] = label if abs(label) < 2**62 else V
    with pytest.raises(ValueError, match=r"labels\[0, 1\]"):
        token_logprobs(x["hidden"], x["weight"], x["labels"])


def _lp(**changes):
    x = tensors()
    kwargs = dict(hidden=x["hidden"], lm_head_weight=x["weight"], labels=x["labels"])
    return lambda: token_logprobs(**{**kwargs, **changes})


def _kl(mask=None, **changes):
    x = tensors()
    args = dict(
        policy_hidden=x["hidden"],
        ref_hidden=x["ref_hidden"],
        policy_lm_head_weight=x["weight"],
        ref_lm_head_weight=x["ref_weight"],
    )
    return lambda: token_kl(**{**args, **changes}, mask=mask)


def _tk(teacher=None, **kwargs):
    x = tensors()
    teacher = [TeacherTerm(x["ref_hidden"], x["ref_weight"], 0.5)] if teacher is None else teacher
    return lambda: teacher_kl(x["hidden"], x["weight"], teacher, **kwargs)


X = tensors()
CASES = {
    "lp-hidden-None": (_lp(hidden=None), TypeError, "hidden must be a floating-point"),
    "lp-hidden-int": (_lp(hidden=X["labels"]), TypeError, "hidden"),
    "lp-hidden-1d": (_lp(hidden=torch.randn(H)), ValueError, "hidden must be"),
    "lp-hidden-H0": (_lp(hidden=torch.randn(B, T, 0)), ValueError, "hidden must be"),
    "lp-weight-V0": (_lp(lm_head_weight=torch.randn(0, H)), ValueError, "lm_head_weight has no"),
    "lp-weight-H": (_lp(lm_head_weight=torch.randn(V, H + 1)), ValueError, "lm_head_weight"),
    "lp-dtype": (_lp(lm_head_weight=X["weight"].double()), ValueError, "lm_head_weight is"),
    "lp-labels-float": (_lp(labels=X["labels"].float()), TypeError, "labels"),
    "lp-labels-bool": (_lp(labels=X["labels"] > 3), TypeError, "labels"),
    "lp-labels-shape": (_lp(labels=X["labels"][:, :2]), ValueError, "labels has shape"),
    "lp-bias-list": (_lp(lm_head_bias=[0.0] * V), TypeError, "lm_head_bias"),
    "lp-bias-dtype": (
        _lp(lm_head_bias=torch.zeros(V, dtype=torch.float64)),
        ValueError,
        "lm_head_bias",
    ),
    "lp-bias-shape": (_lp(lm_head_bias=torch.zeros(V + 1)), ValueError, "lm_head_bias"),
    "lp-temperature-0": (_lp(temperature=0.0), ValueError, "temperature"),
    "lp-temperature-bool": (_lp(temperature=True), TypeError, "temperature"),
    "lp-temperature-tensor": (_lp(temperature=torch.tensor(2.0)), TypeError, "temperature"),
    "lp-ignore_index-str": (_lp(ignore_index="pad"), TypeError, "ignore_index"),
    "lp-return_entropy-str": (_lp(return_entropy="yes"), TypeError, "return_entropy"),
    "lp-chunk_size-0": (_lp(chunk_size=0), ValueError, "chunk_size"),
    "lp-chunk_size-bool": (_lp(chunk_size=True), TypeError, "chunk_size"),
    "lp-impl": (_lp(impl="cuda"), ValueError, "unknown kernels implementation"),
    "kl-mask-float": (_kl(mask=torch.ones(B, T)), TypeError, "mask"),
    "kl-mask-list": (_kl(mask=[[1] * T] * B), TypeError, "mask"),
    "kl-mask-shape": (_kl(mask=torch.ones(T, B, dtype=torch.bool)), ValueError, "mask has shape"),
    "kl-ref-lead": (_kl(ref_hidden=X["ref_hidden"][:, :2]), ValueError, "ref_hidden has leading"),
    "kl-ref-vocab": (
        _kl(ref_lm_head_weight=torch.randn(V + 1, 5)),
        ValueError,
        "ref_lm_head_weight",
    ),
    "kl-ref-float64": (
        _kl(ref_hidden=X["ref_hidden"].double(), ref_lm_head_weight=X["ref_weight"].double()),
        ValueError,
        "ref_hidden is torch.float64",
    ),
    "kl-direction": (_kl(direction="forward"), ValueError, "direction"),
    "tk-teacher-term": (
        _tk(teacher=TeacherTerm(X["ref_hidden"], X["ref_weight"])),
        TypeError,
        "teacher",
    ),
    "tk-teacher-empty": (_tk(teacher=[]), ValueError, "teacher must be a non-empty"),
    "tk-term-pair": (_tk(teacher=[(X["ref_hidden"], X["ref_weight"])]), TypeError, r"teacher\[0\]"),
    "tk-coef-str": (
        _tk(teacher=[TeacherTerm(X["ref_hidden"], X["ref_weight"], "1")]),
        TypeError,
        "coef",
    ),
    "tk-coef-nan": (
        _tk(teacher=[TeacherTerm(X["ref_hidden"], X["ref_weight"], float("nan"))]),
        ValueError,
        "coef",
    ),
    "tk-coef-0d-nan": (
        _tk(teacher=[TeacherTerm(X["ref_hidden"], X["ref_weight"], torch.tensor(float("nan")))]),
        ValueError,
        "coef",
    ),
    "tk-coef-shape": (
        _tk(teacher=[TeacherTerm(X["ref_hidden"], X["ref_weight"], torch.ones(T))]),
        ValueError,
        "coef",
    ),
    "tk-temperature-inf": (_tk(temperature=float("inf")), ValueError, "temperature"),
}


@pytest.mark.parametrize(("call", "error", "match"), CASES.values(), ids=CASES)
def test_bad_arguments_name_themselves(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_empty_batches_give_empty_results():
    x = tensors()
    out = token_logprobs(torch.randn(0, T, H), x["weight"], torch.zeros(0, T, dtype=torch.long))
    assert out.shape == (0, T)
