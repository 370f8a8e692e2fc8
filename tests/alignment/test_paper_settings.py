"""The papers' settings by default, the earlier choices as documented options: SparsePO's L1
weight on a common mask, AlignDistil's TVD convention."""

import pytest

from toolkit.alignment import TokenPOConfig
from toolkit.alignment.methods import get_method


def config(tmp_path, **kwargs):
    return TokenPOConfig(output_dir=str(tmp_path), use_cpu=True, report_to=[], **kwargs)


@pytest.mark.parametrize(
    ("settings", "per_mask"),
    [
        ({"sparsepo_mask": "learned"}, 5e-4),  # common mode: λ/2 on each term, λ‖m‖₁ in all
        ({"sparsepo_mask": "reference"}, 5e-4),  # one activation mask serves both
        ({"sparsepo_mask": "learned", "sparsepo_mask_mode": "independent"}, 1e-3),
        ({"sparsepo_mask": "learned", "sparsepo_common_l1": "both"}, 1e-3),
    ],
)
def test_sparsepo_l1_is_halved_on_a_common_mask(tmp_path, settings, per_mask):
    args = config(tmp_path, method="sparsepo", sparsepo_l1=1e-3, **settings)
    assert args.sparsepo_l1_per_mask == pytest.approx(per_mask)
    params = get_method("sparsepo").param_values(args)
    assert params == {"l1_reward": pytest.approx(per_mask), "l1_kl": pytest.approx(per_mask)}


def test_aligndistil_tvd_defaults_to_the_authors_convention(tmp_path):
    assert get_method("aligndistil").param_values(config(tmp_path))["tvd"] == "authors"
    standard = config(tmp_path, method="aligndistil", aligndistil_tvd="standard")
    assert get_method("aligndistil").param_values(standard)["tvd"] == "standard"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"aligndistil_tvd": "half"}, "aligndistil_tvd"),
        ({"sparsepo_common_l1": "double"}, "sparsepo_common_l1"),
        ({"sparsepo_l1": -1.0}, "sparsepo_l1 must be >= 0"),
    ],
)
def test_bad_options_are_refused_by_name(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        config(tmp_path, **kwargs)
