"""Bad inputs raise ValueError naming the argument (and the position, for labels)."""

import pytest
import torch
from kernels_cases import V, make_case

from toolkit.kernels import TeacherTerm, teacher_kl, token_kl, token_logprobs


@pytest.fixture
def case():
    return make_case()


def test_hidden_size_mismatch_names_the_weight(case):
    with pytest.raises(ValueError, match=r"lm_head_weight has shape \(97, 15\).*hidden size 16"):
        token_logprobs(case.hidden, case.weight[:, :15], case.labels)
    with pytest.raises(ValueError, match="ref_lm_head_weight"):
        token_kl(case.hidden, case.ref_hidden, case.weight, case.ref_weight[:, :3])


def test_label_out_of_range_names_labels_and_position(case):
    case.labels[1, 4] = V
    with pytest.raises(ValueError, match=r"labels\[1, 4\] = 97 is outside \[0, 97\)"):
        token_logprobs(case.hidden, case.weight, case.labels)
    case.labels[1, 4] = -5
    with pytest.raises(ValueError, match=r"labels\[1, 4\] = -5.*ignore_index=-100"):
        token_logprobs(case.hidden, case.weight, case.labels)


@pytest.mark.parametrize(
    ("change", "match", "error"),
    [
        (
            dict(labels=lambda c: c.labels[:, :-1]),
            r"labels has shape \(2, 12\); expected \(2, 13\)",
            ValueError,
        ),
        (dict(labels=lambda c: c.labels.float()), "labels must be an integer tensor", TypeError),
        (
            dict(weight=lambda c: c.weight.double()),
            "hidden is torch.float32 but lm_head_weight",
            ValueError,
        ),
        (dict(hidden=lambda c: c.hidden[0, 0]), r"hidden must be \(\.\.\., H\)", ValueError),
        (dict(lm_head_bias=lambda c: c.bias[:-1]), r"lm_head_bias has shape \(96,\)", ValueError),
        (dict(temperature=lambda c: 0.0), "temperature must be > 0", ValueError),
        (dict(chunk_size=lambda c: 0), "chunk_size must be >= 1", ValueError),
    ],
)
def test_token_logprobs_rejects(case, change, match, error):
    kwargs = dict(hidden=case.hidden, lm_head_weight=case.weight, labels=case.labels)
    for key, make in change.items():
        kwargs["lm_head_weight" if key == "weight" else key] = make(case)
    with pytest.raises(error, match=match):
        token_logprobs(**kwargs)


def test_kl_rejects_mismatched_shapes(case):
    args = (case.hidden, case.ref_hidden, case.weight, case.ref_weight)
    with pytest.raises(ValueError, match=r"mask has shape \(2, 12\)"):
        token_kl(*args, case.mask[:, :-1])
    with pytest.raises(ValueError, match="ref_hidden has leading shape"):
        token_kl(case.hidden, case.ref_hidden[:1], *args[2:])
    with pytest.raises(ValueError, match="direction must be one of"):
        token_kl(*args, direction="forward")


def test_teacher_rejects_bad_terms(case):
    with pytest.raises(ValueError, match="non-empty list"):
        teacher_kl(case.hidden, case.weight, [])
    with pytest.raises(ValueError, match=r"teacher\[1\].lm_head_weight has vocabulary 96"):
        teacher_kl(
            case.hidden,
            case.weight,
            [
                TeacherTerm(case.ref_hidden, case.ref_weight),
                TeacherTerm(case.hidden, case.weight[:-1]),
            ],
        )
    with pytest.raises(ValueError, match=r"teacher\[0\].coef is a \(13,\) tensor"):
        teacher_kl(case.hidden, case.weight, [TeacherTerm(case.hidden, case.weight, case.coef[0])])
    with pytest.raises(TypeError, match=r"teacher\[0\] must be TeacherTerm"):
        teacher_kl(case.hidden, case.weight, [(case.hidden, case.weight)])
    assert teacher_kl(
        case.hidden, case.weight, [(case.hidden, case.weight, torch.tensor(1.0))]
    ).shape
