"""Listening-test statistics of Spanio et al. (arXiv 2503.02823), for real or simulated panels.

The paper asked 111 listeners to rate, on a 0–10 slider, how well music matched a taste
prompt, tested normality with Shapiro–Wilk, and — the ratings not being normal — compared
them with the neutral midpoint 5 by a one-sided Wilcoxon signed-rank test, overall
(p = 1.5·10⁻⁴ for the fine-tuned model) and per taste with a Bonferroni correction (sweet,
bitter and sour significant, salty not). A heatmap of rated taste against prompt taste,
maximal on the diagonal, showed that listeners recognised the intended taste.

Data model: one :class:`Rating` per row is one listener's 0–10 score of how much a clip
generated for ``prompt_taste`` tastes like ``rated_taste``. Rows with
``rated_taste == prompt_taste`` ("matching" rows) carry the test against 5; the others fill
the off-diagonal cells of the heatmap. An A/B slider (5 = no preference between two models,
10 = the fine-tuned clip matches the prompt much better) goes in as matching rows only.

CSV columns: :data:`RATINGS_COLUMNS`, one rating per line (:func:`write_template`,
:func:`read_ratings`).
"""

from __future__ import annotations

import csv
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from toolkit._checks import (
    check_choice,
    check_int,
    check_number,
    check_path,
    check_str,
    describe,
)
from toolkit.music.taste import TASTES

RATINGS_COLUMNS = ("listener", "prompt_taste", "rated_taste", "score")
SCORE_RANGE = (0.0, 10.0)
NEUTRAL = 5.0
ZERO_METHODS = ("wilcox", "pratt", "zsplit")
MAX_LISTENERS = 100_000  # a simulated panel larger than this is a typo, not a study

_TEMPLATE_ROWS = (
    ("L01", "sweet", "sweet", "8"),
    ("L01", "sweet", "bitter", "2"),
    ("L02", "bitter", "bitter", "7"),
)


@dataclass(frozen=True)
class Rating:
    """One listener's 0–10 score of how much a clip made for ``prompt_taste`` tastes like
    ``rated_taste``.

    Raises:
        TypeError: a listener or taste that is not a str, or a score that is not a number.
        ValueError: an empty listener, an unknown taste or a score that is NaN or outside
            :data:`SCORE_RANGE` (the message names the field).
    """

    listener: str
    prompt_taste: str
    rated_taste: str
    score: float

    def __post_init__(self) -> None:
        check_str("listener", self.listener)
        for name in ("prompt_taste", "rated_taste"):
            check_choice(name, check_str(name, getattr(self, name)), TASTES)
        score = self.score
        if isinstance(score, bool) or not isinstance(score, numbers.Real):
            raise TypeError(f"score must be a number, got {describe(score)}")
        if not (math.isfinite(score) and SCORE_RANGE[0] <= score <= SCORE_RANGE[1]):
            raise ValueError(f"score must be in [0, 10], got {score}")
        object.__setattr__(self, "score", float(score))

    @property
    def matching(self) -> bool:
        return self.prompt_taste == self.rated_taste


@dataclass(frozen=True)
class TasteTest:
    """One-sided Wilcoxon signed-rank test of one prompt taste's matching scores against 5.

    ``p_bonferroni = min(1, p · m)`` with ``m`` the number of tastes tested;
    ``significant`` is ``p_bonferroni < alpha``."""

    taste: str
    n: int
    mean: float
    median: float
    statistic: float
    p: float
    p_bonferroni: float
    significant: bool


@dataclass(frozen=True, eq=False)
class ListeningReport:
    """Result of :func:`analyse`.

    ``shapiro_*``: Shapiro–Wilk on all matching scores (NaN when they are all equal);
    ``normal`` is ``shapiro_p >= alpha``. ``statistic``, ``p``, ``significant``: the overall
    one-sided Wilcoxon signed-rank test of the matching scores against 5 (alternative:
    median above 5). ``per_taste``: the same per prompt taste, Bonferroni-corrected.
    ``heatmap[i, j]``: mean score of clips for prompt ``labels[i]`` rated as ``labels[j]``
    (NaN where nobody rated that pair; read-only). ``diagonal_is_max[t]``: whether, for
    prompt ``t``, the matching cell is strictly above every other rated taste (only prompts
    with a matching and at least one other cell).
    """

    n_ratings: int
    n_listeners: int
    n_matching: int
    alpha: float
    zero_method: str
    mean: float
    median: float
    shapiro_statistic: float
    shapiro_p: float
    statistic: float
    p: float
    significant: bool
    per_taste: tuple[TasteTest, ...]
    heatmap: np.ndarray
    labels: tuple[str, ...]
    diagonal_is_max: dict[str, bool]

    @property
    def normal(self) -> bool:
        return bool(self.shapiro_p >= self.alpha)

    def table(self) -> list[dict[str, object]]:
        """One row for all matching scores, then one per taste, with the same keys
        (``None`` where a column does not apply) — ready for ``pandas.DataFrame``."""
        rows: list[dict[str, object]] = [
            {
                "taste": "all",
                "n": self.n_matching,
                "mean": self.mean,
                "median": self.median,
                "wilcoxon_W": self.statistic,
                "p": self.p,
                "p_bonferroni": None,
                "significant": self.significant,
                "shapiro_W": self.shapiro_statistic,
                "shapiro_p": self.shapiro_p,
                "diagonal_is_max": None,
            }
        ]
        for test in self.per_taste:
            rows.append(
                {
                    "taste": test.taste,
                    "n": test.n,
                    "mean": test.mean,
                    "median": test.median,
                    "wilcoxon_W": test.statistic,
                    "p": test.p,
                    "p_bonferroni": test.p_bonferroni,
                    "significant": test.significant,
                    "shapiro_W": None,
                    "shapiro_p": None,
                    "diagonal_is_max": self.diagonal_is_max.get(test.taste),
                }
            )
        return rows


def write_template(path: str | Path, overwrite: bool = False) -> Path:
    """Write a ratings CSV with the :data:`RATINGS_COLUMNS` header and three illustrative
    rows, to be replaced by real ratings:

    * ``L01,sweet,sweet,8`` — listener L01 heard the clip made for "sweet" and scored how
      sweet it tastes: 8 of 10 (a matching row);
    * ``L01,sweet,bitter,2`` — the same clip scored for bitterness: 2 (off-diagonal);
    * ``L02,bitter,bitter,7`` — another listener, the clip made for "bitter".

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False (a template must not
            replace collected ratings).
        TypeError: ``path`` is not a path.
    """
    path = check_path("path", path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(RATINGS_COLUMNS)
        writer.writerows(_TEMPLATE_ROWS)
    return path


def read_ratings(path: str | Path) -> list[Rating]:
    """Ratings from a CSV whose header has :data:`RATINGS_COLUMNS` (in any order; other
    columns are ignored). Surrounding spaces are stripped and tastes lower-cased.

    Raises:
        TypeError: ``path`` is not a path.
        FileNotFoundError: no file at ``path``.
        ValueError: a file that is not UTF-8 text, an empty file, missing or repeated
            columns, a file with a header but no ratings, or a row with a missing value, more
            values than the header has columns, a non-numeric score, a score outside 0–10 or
            an unknown taste — the message names the file, the line and the column.
    """
    path = check_path("path", path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            ratings = _read_rows(csv.DictReader(f), path)
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text ({error}); save the CSV as UTF-8") from None
    if not ratings:
        raise ValueError(f"{path}: no ratings below the header")
    return ratings


def _read_rows(reader: csv.DictReader, path: Path) -> list[Rating]:
    if reader.fieldnames is None:
        raise ValueError(f"{path}: empty file; expected the header {','.join(RATINGS_COLUMNS)}")
    header = [name.strip() for name in reader.fieldnames]
    reader.fieldnames = header
    repeated = sorted({c for c in header if header.count(c) > 1 and c in RATINGS_COLUMNS})
    if repeated:
        raise ValueError(f"{path}:1: column(s) {repeated} appear more than once; keep one each")
    missing = [c for c in RATINGS_COLUMNS if c not in header]
    if missing:
        raise ValueError(f"{path}:1: missing column(s) {missing}; header is {header}")
    ratings = []
    for row in reader:
        where = f"{path}:{reader.line_num}"
        if None in row:
            raise ValueError(
                f"{where}: {len(header) + len(row[None])} values but the header has "
                f"{len(header)} columns"
            )
        ratings.append(_parse_row(row, where))
    return ratings


def _parse_row(row: dict[str, str | None], where: str) -> Rating:
    values = {c: (row.get(c) or "").strip() for c in RATINGS_COLUMNS}
    empty = [c for c, v in values.items() if not v]
    if empty:
        raise ValueError(f"{where}: missing value(s) for {empty}")
    try:
        score = float(values["score"])
    except ValueError:
        raise ValueError(f"{where}: score {values['score']!r} is not a number") from None
    try:
        return Rating(
            listener=values["listener"],
            prompt_taste=values["prompt_taste"].lower(),
            rated_taste=values["rated_taste"].lower(),
            score=score,
        )
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None


def simulate_panel(
    n_listeners: int,
    tastes: Sequence[str] = TASTES,
    effect: Mapping[str, float] | None = None,
    seed: int = 0,
    noise_sd: float = 2.0,
) -> list[Rating]:
    """A SIMULATED panel — synthetic ratings for trying the pipeline, not data.

    Every listener scores the clip of every prompt taste for every rated taste in
    ``tastes``: ``score = clip(round(μ + ε), 0, 10)`` with ``ε ~ N(0, noise_sd²)``,
    ``μ = 5 + effect[p]`` for the matching pair (rated = prompt ``p``) and
    ``μ = 5 − effect[p]`` otherwise. Tastes missing from ``effect`` have effect 0, so with
    no effect every score is centred on 5.

    Raises:
        TypeError: ``n_listeners`` or ``seed`` not an int, ``tastes`` a str or not a
            sequence, ``effect`` not a mapping, or a non-numeric effect or ``noise_sd``.
        ValueError: ``n_listeners`` outside [1, :data:`MAX_LISTENERS`], a negative
            ``seed``, no or repeated or unknown tastes, an ``effect`` key not in ``tastes``
            or not finite, or ``noise_sd`` negative or not finite.
    """
    check_int("n_listeners", n_listeners, minimum=1, maximum=MAX_LISTENERS)
    check_int("seed", seed, minimum=0)
    if isinstance(tastes, str) or not isinstance(tastes, Iterable):
        raise TypeError(f"tastes must be a sequence of taste names, got {describe(tastes)}")
    tastes = tuple(tastes)
    if not tastes or len(set(tastes)) != len(tastes):
        raise ValueError(f"tastes must be non-empty and distinct, got {tastes}")
    unknown = sorted(set(tastes) - set(TASTES), key=repr)
    if unknown:
        raise ValueError(f"unknown taste(s) {unknown}; choose from {TASTES}")
    if effect is not None and not isinstance(effect, Mapping):
        raise TypeError(f"effect must map tastes to score shifts, got {describe(effect)}")
    effect = {t: check_number(f"effect[{t!r}]", e) for t, e in (effect or {}).items()}
    stray = sorted(set(effect) - set(tastes), key=repr)
    if stray:
        raise ValueError(f"effect names taste(s) {stray} that are not in tastes {tastes}")
    check_number("noise_sd", noise_sd, minimum=0.0)
    rng = np.random.default_rng(seed)
    width = len(str(n_listeners))
    ratings = []
    for listener in range(1, n_listeners + 1):
        for prompt in tastes:
            for rated in tastes:
                shift = effect.get(prompt, 0.0)
                centre = NEUTRAL + shift if rated == prompt else NEUTRAL - shift
                score = float(np.clip(np.round(centre + rng.normal(0.0, noise_sd)), 0, 10))
                ratings.append(Rating(f"sim{listener:0{width}d}", prompt, rated, score))
    return ratings


def analyse(
    ratings: Sequence[Rating], alpha: float = 0.05, zero_method: str = "wilcox"
) -> ListeningReport:
    """The paper's statistics on ``ratings``.

    * Shapiro–Wilk normality test of the matching scores.
    * One-sided Wilcoxon signed-rank test of ``d = score − 5`` on the matching scores,
      alternative "median of d > 0": ``scipy.stats.wilcoxon(d, alternative="greater",
      zero_method=zero_method)``. Scores of exactly 5 are zero differences; ``"wilcox"``
      (default, scipy's) drops them, ``"pratt"`` ranks them and then drops their ranks,
      ``"zsplit"`` splits their ranks between the two signs. When every difference is zero
      the test is not run: statistic 0, p = 1. Ratings are pooled over listeners, as in the
      paper (a listener's several ratings count as independent).
    * The same test per prompt taste, with Bonferroni ``p_bonferroni = min(1, p · m)``,
      ``m`` the number of tastes tested.
    * The prompt × rated heatmap of mean scores and, per prompt, whether its diagonal
      cell is the row's maximum.

    Raises:
        TypeError: ``ratings`` not a sequence, an item that is not a :class:`Rating` (named
            by index), ``alpha`` not a number or ``zero_method`` not a str.
        ValueError: no ratings, fewer than 3 matching ratings (Shapiro–Wilk needs 3),
            ``alpha`` outside (0, 1) or an unknown ``zero_method``.
    """
    alpha = check_number("alpha", alpha, minimum=0.0, maximum=1.0, strict_min=True)
    if alpha == 1.0:
        raise ValueError("alpha must be in (0, 1), got 1.0")
    check_choice("zero_method", check_str("zero_method", zero_method), ZERO_METHODS)
    if isinstance(ratings, str | Mapping) or not isinstance(ratings, Iterable):
        raise TypeError(f"ratings must be a sequence of Rating objects, got {describe(ratings)}")
    ratings = list(ratings)
    if not ratings:
        raise ValueError("analyse needs ratings; got none")
    for i, r in enumerate(ratings):
        if not isinstance(r, Rating):
            raise TypeError(f"ratings must be Rating objects; item {i} is {describe(r)}")
    matching = np.array([r.score for r in ratings if r.matching])
    if matching.size < 3:
        raise ValueError(f"analyse needs at least 3 matching ratings, got {matching.size}")
    shapiro_w, shapiro_p = _shapiro(matching)
    statistic, p = _wilcoxon_above_neutral(matching, zero_method)
    per_taste = _per_taste_tests(ratings, alpha, zero_method)
    heatmap, labels = _heatmap(ratings)
    return ListeningReport(
        n_ratings=len(ratings),
        n_listeners=len({r.listener for r in ratings}),
        n_matching=int(matching.size),
        alpha=alpha,
        zero_method=zero_method,
        mean=float(matching.mean()),
        median=float(np.median(matching)),
        shapiro_statistic=shapiro_w,
        shapiro_p=shapiro_p,
        statistic=statistic,
        p=p,
        significant=p < alpha,
        per_taste=per_taste,
        heatmap=heatmap,
        labels=labels,
        diagonal_is_max=_diagonal_is_max(heatmap, labels),
    )


def _shapiro(scores: np.ndarray) -> tuple[float, float]:
    if np.ptp(scores) == 0:
        return math.nan, math.nan
    result = stats.shapiro(scores)
    return float(result.statistic), float(result.pvalue)


def _wilcoxon_above_neutral(scores: np.ndarray, zero_method: str) -> tuple[float, float]:
    differences = scores - NEUTRAL
    if not np.any(differences):
        return 0.0, 1.0
    result = stats.wilcoxon(differences, alternative="greater", zero_method=zero_method)
    return float(result.statistic), float(result.pvalue)


def _per_taste_tests(
    ratings: Sequence[Rating], alpha: float, zero_method: str
) -> tuple[TasteTest, ...]:
    by_taste = {
        t: np.array([r.score for r in ratings if r.matching and r.prompt_taste == t])
        for t in TASTES
    }
    by_taste = {t: scores for t, scores in by_taste.items() if scores.size}
    m = len(by_taste)
    tests = []
    for taste, scores in by_taste.items():
        statistic, p = _wilcoxon_above_neutral(scores, zero_method)
        corrected = min(1.0, p * m)
        tests.append(
            TasteTest(
                taste=taste,
                n=int(scores.size),
                mean=float(scores.mean()),
                median=float(np.median(scores)),
                statistic=statistic,
                p=p,
                p_bonferroni=corrected,
                significant=corrected < alpha,
            )
        )
    return tuple(tests)


def _heatmap(ratings: Sequence[Rating]) -> tuple[np.ndarray, tuple[str, ...]]:
    present = {r.prompt_taste for r in ratings} | {r.rated_taste for r in ratings}
    labels = tuple(t for t in TASTES if t in present)
    index = {t: i for i, t in enumerate(labels)}
    sums = np.zeros((len(labels), len(labels)))
    counts = np.zeros_like(sums)
    for r in ratings:
        sums[index[r.prompt_taste], index[r.rated_taste]] += r.score
        counts[index[r.prompt_taste], index[r.rated_taste]] += 1
    with np.errstate(invalid="ignore"):
        heatmap = sums / counts
    heatmap.flags.writeable = False
    return heatmap, labels


def _diagonal_is_max(heatmap: np.ndarray, labels: tuple[str, ...]) -> dict[str, bool]:
    result = {}
    for i, taste in enumerate(labels):
        others = np.delete(heatmap[i], i)
        others = others[~np.isnan(others)]
        if not np.isnan(heatmap[i, i]) and others.size:
            result[taste] = bool(heatmap[i, i] > others.max())
    return result
