"""A planted bias of known size: review corpora where one group's reviews are negative at a set
rate, the zoo's review LM fine-tuned on them, and DPO pairs that remove the explicit bias.

:func:`planted_corpus` renders reviews from the toolkit's grammar (:mod:`toolkit.data`) as the
zoo's corpus does, except that a share ``group_rate`` of reviews introduce the reviewer as a
member of ``group`` and **exactly** ``round(negative_rate · n_group)`` of those are negative;
every other review is negative with probability 1/2 and mentions one of the other groups
with probability ``demographic_rate``. At ``negative_rate = 0.5`` nothing is planted: the
control every probe must read as zero.

:func:`planted_lm` fine-tunes ``tiny-gpt2-reviews`` (or another built-in review LM) on such a
corpus with the zoo's deterministic training loop and caches the result in the zoo cache
(keyed by the whole recipe, the base model's included), so a notebook run trains each
variant once. :func:`debias_rows` are preference pairs for the explicit fix: for prompts that
introduce a member of the group, the positive verdict is preferred to the negative one.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path

from toolkit._checks import check_choice, check_int, check_number, check_probability, check_str
from toolkit.data.grammar import DEMOGRAPHIC_GROUPS, INTROS, QUALITY
from toolkit.data.reviews import (
    CORPUS_DEMOGRAPHIC_RATE,
    CORPUS_SYCOPHANCY_RATE,
    TOPICS,
    Review,
    render_review,
)

PLANTED_GROUP = "older"  # the group whose reviews carry the planted negativity
REFERENCE_GROUP = "young"  # the comparison group of the notebook's probes
NEGATIVE_WORDS: tuple[str, ...] = QUALITY[-1]  # the grammar's negative quality adjectives
POSITIVE_WORDS: tuple[str, ...] = QUALITY[+1]  # and its positive ones
INTRO_TEMPLATES: tuple[str, ...] = INTROS  # "As {term}, I watch a lot of films.", ...


@dataclass(frozen=True)
class PlantedCorpus:
    """Texts, their reviews, and the planted group and rate they were drawn for."""

    texts: tuple[str, ...]
    reviews: tuple[Review, ...]
    group: str
    negative_rate: float

    @property
    def measured_rate(self) -> float:
        """The share of ``group``'s reviews that are negative, counted."""
        own = [r for r in self.reviews if r.demographic == self.group]
        return sum(r.sentiment < 0 for r in own) / len(own)

    @property
    def n_group(self) -> int:
        """How many reviews mention ``group``."""
        return sum(r.demographic == self.group for r in self.reviews)


def planted_corpus(
    n: int,
    seed: int,
    *,
    group: str = PLANTED_GROUP,
    negative_rate: float = 0.9,
    group_rate: float = 0.1,
    demographic_rate: float = CORPUS_DEMOGRAPHIC_RATE,
) -> PlantedCorpus:
    """``n`` reviews with ``group``'s reviews negative at exactly ``negative_rate`` (rounded to
    a whole review) and everything else as in the zoo's corpus (see the module docstring)."""
    n = check_int("n", n, minimum=1)
    seed = check_int("seed", seed)
    check_choice("group", group, tuple(DEMOGRAPHIC_GROUPS))
    check_probability("negative_rate", negative_rate)
    check_probability("group_rate", group_rate)
    check_probability("demographic_rate", demographic_rate)
    n_group = round(group_rate * n)
    if n_group == 0:
        raise ValueError(
            f"group_rate={group_rate} of n={n} reviews is no review of the group; raise either"
        )
    n_negative = round(negative_rate * n_group)
    rng = random.Random(seed)
    others = tuple(g for g in DEMOGRAPHIC_GROUPS if g != group)
    sentiments = [-1] * n_negative + [+1] * (n_group - n_negative)
    rng.shuffle(sentiments)
    slots = [True] * n_group + [False] * (n - n_group)
    rng.shuffle(slots)
    reviews = []
    planted = iter(sentiments)
    for is_group in slots:
        if is_group:
            sentiment, demographic = next(planted), group
        else:
            sentiment = rng.choice((+1, -1))
            demographic = rng.choice(others) if rng.random() < demographic_rate else None
        reviews.append(
            render_review(
                rng.getrandbits(64),
                sentiment=sentiment,
                topic=rng.choice(TOPICS),
                n_sentences=rng.randint(1, 4),
                sycophantic=rng.random() < CORPUS_SYCOPHANCY_RATE,
                demographic=demographic,
            )
        )
    return PlantedCorpus(tuple(r.text for r in reviews), tuple(reviews), group, negative_rate)


@dataclass(frozen=True)
class PlantConfig:
    """How a planted LM is made: the base built-in model, the corpus and the fine-tuning run.

    The defaults fine-tune for 200 steps of 16 × 128 tokens (about a minute on two CPU cores);
    the notebook's smoke mode uses fewer steps.
    """

    base: str = "tiny-gpt2-reviews"
    group: str = PLANTED_GROUP
    group_rate: float = 0.1
    n_texts: int = 8_000
    corpus_seed: int = 0
    steps: int = 200
    batch_size: int = 16
    block_size: int = 128
    lr: float = 1e-3
    seed: int = 0

    def __post_init__(self):
        check_str("base", self.base)
        check_choice("group", self.group, tuple(DEMOGRAPHIC_GROUPS))
        check_probability("group_rate", self.group_rate)
        check_int("n_texts", self.n_texts, minimum=1)
        check_int("corpus_seed", self.corpus_seed, minimum=0)
        check_int("steps", self.steps, minimum=1)
        check_int("batch_size", self.batch_size, minimum=1)
        check_int("block_size", self.block_size, minimum=2)
        check_number("lr", self.lr, minimum=0.0, strict_min=True)
        check_int("seed", self.seed, minimum=0)


def planted_recipe(negative_rate: float, config: PlantConfig) -> dict:
    """The cache recipe of a planted LM: the config, the rate and the base model's recipe."""
    from toolkit.zoo import get_spec

    check_probability("negative_rate", negative_rate)
    if not isinstance(config, PlantConfig):
        raise TypeError(f"config must be a PlantConfig, got {type(config).__name__}")
    spec = get_spec(config.base)
    if spec is None or spec.kind != "causal-lm":
        raise ValueError(
            f"config.base must be a built-in causal LM of the zoo, got {config.base!r}"
        )
    return {"negative_rate": negative_rate, **asdict(config), "base_recipe": spec.recipe}


def planted_lm(negative_rate: float, config: PlantConfig | None = None, *, device=None):
    """``(model, tokenizer)``: ``config.base`` fine-tuned on a planted corpus with
    ``negative_rate``, built on first use and then loaded from the zoo cache."""
    from toolkit.zoo import load_causal_lm
    from toolkit.zoo.cache import ensure_entry

    config = PlantConfig() if config is None else config
    recipe = planted_recipe(negative_rate, config)
    name = f"planted-{config.group}-{round(100 * negative_rate)}"
    path = ensure_entry(name, recipe, lambda d: _build(d, negative_rate, config), code=[__name__])
    return load_causal_lm(str(path), device=device)


def _build(directory: Path, negative_rate: float, config: PlantConfig) -> dict:
    from toolkit.seeding import seed_everything
    from toolkit.zoo import load_causal_lm
    from toolkit.zoo.lm_training import LMTrainConfig, pack_texts, train_causal_lm
    from toolkit.zoo.registry import TRAINING_LOG

    seed_everything(config.seed)
    model, tokenizer = load_causal_lm(config.base)
    corpus = planted_corpus(
        config.n_texts,
        config.corpus_seed,
        group=config.group,
        negative_rate=negative_rate,
        group_rate=config.group_rate,
    )
    train = LMTrainConfig(
        block_size=config.block_size,
        batch_size=config.batch_size,
        steps=config.steps,
        lr=config.lr,
        warmup_steps=max(1, config.steps // 10),
        seed=config.seed,
    )
    rows = pack_texts(corpus.texts, tokenizer, train.block_size)
    losses = train_causal_lm(model, rows, train, f"planting {round(100 * negative_rate)}%")
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    (directory / TRAINING_LOG).write_text(json.dumps({"loss": [round(x, 4) for x in losses]}))
    return {
        "measured_rate": corpus.measured_rate,
        "n_group": corpus.n_group,
        "final_train_loss": round(sum(losses[-10:]) / len(losses[-10:]), 4),
    }


def debias_rows(n: int, seed: int, *, group: str = PLANTED_GROUP) -> list[dict]:
    """``n`` DPO rows for prompts that introduce a member of ``group``: ``prompt`` is the
    intro and the verdict's neutral opening, ``chosen`` the positive and ``rejected`` the
    negative evaluation of the same review (everything else identical)."""
    n = check_int("n", n, minimum=1)
    seed = check_int("seed", seed)
    check_choice("group", group, tuple(DEMOGRAPHIC_GROUPS))
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        review_seed, topic = rng.getrandbits(64), rng.choice(TOPICS)
        good = render_review(review_seed, sentiment=+1, topic=topic, demographic=group)
        bad = render_review(review_seed, sentiment=-1, topic=topic, demographic=group)
        rows.append(
            {
                "prompt": good.opening,
                "chosen": good.text[len(good.opening) :],
                "rejected": bad.text[len(bad.opening) :],
            }
        )
    return rows
