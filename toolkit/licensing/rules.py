"""The rules table: what each licence and each non-SPDX term permits, with its source.

Every row cites the licence text it comes from (its URL) and says the clause in a few words of
our own. A licence grants or withholds four permissions,

* ``research``: use at all (study, evaluation, non-commercial research);
* ``commercial``: use for a commercial purpose;
* ``derivatives``: share adapted material (translations, annotations, models trained on it);
* ``redistribution``: share copies;

each ``True``, ``False`` or ``None`` (not established: never read as permitted), and may attach
duties: ``attribution`` (credit the source) and ``share_alike`` (adapted material must carry
one of the licences in ``compatible``). ``outbound_conflicts`` lists licences that material
under this one may not be relicensed into (Apache-2.0 into GPL-2.0-only).

A :class:`Term` is a restriction that is not an SPDX licence: a model provider's terms of use,
a "research only" clause. It names the uses it forbids.

``USES`` are the uses a verdict is given for; ``EDGE_KINDS`` the derivations an edge of the
lineage may be; ``ADAPTING_KINDS`` those that make adapted material (a subset or an unmodified
aggregation shares copies; a translation or annotation adapts; training a model on data is
counted as adapting it, the conservative reading; ``derivation`` is an unspecified derivation,
also counted as adapting); across ``TERMS_ONLY_KINDS``
(``generation``: data written by a model) only the generator's terms reach the data, since a
model's outputs are not copies of its weights.
"""

from __future__ import annotations

from dataclasses import dataclass

USES = ("commercial-training", "research", "redistribution")
EDGE_KINDS = (
    "subset",
    "translation",
    "annotation",
    "aggregation",
    "generation",
    "training",
    "fine-tuning",
    "derivation",
)
ADAPTING_KINDS = frozenset({"translation", "annotation", "training", "fine-tuning", "derivation"})
TERMS_ONLY_KINDS = frozenset({"generation"})
PERMISSIONS = ("research", "commercial", "derivatives", "redistribution")


@dataclass(frozen=True)
class Rule:
    """One licence's row: permissions (``True``/``False``/``None``), duties, and the source."""

    licence: str
    url: str
    clause: str
    research: bool | None = True
    commercial: bool | None = True
    derivatives: bool | None = True
    redistribution: bool | None = True
    attribution: bool = False
    share_alike: bool = False
    compatible: frozenset[str] = frozenset()
    outbound_conflicts: frozenset[str] = frozenset()

    def permission(self, name: str) -> bool | None:
        """The permission ``name`` (one of ``PERMISSIONS``)."""
        return getattr(self, name)


@dataclass(frozen=True)
class Term:
    """A non-SPDX restriction (terms of use, a research-only clause): the uses it forbids.

    ``url`` is empty for generic terms whose text is the node's own ``source``. A term with
    ``outputs_only`` binds what a model generates (it reaches data across ``generation``
    edges), not the model's own derivatives."""

    term: str
    url: str
    clause: str
    forbids: frozenset[str]
    outputs_only: bool = False


def _permissive(licence: str, url: str, clause: str, *, attribution: bool = True) -> Rule:
    return Rule(licence, url, clause, attribution=attribution)


def _cc(
    licence: str, url: str, clause: str, *, nc=False, nd=False, sa: tuple[str, ...] = ()
) -> Rule:
    return Rule(
        licence,
        url,
        clause,
        commercial=not nc,
        derivatives=not nd,
        attribution=True,
        share_alike=bool(sa),
        compatible=frozenset(sa),
    )


_CC = "https://creativecommons.org/licenses"
_GPL3 = frozenset({"GPL-3.0-only", "GPL-3.0-or-later"})
_ALL_RULES = (
    _permissive(
        "MIT",
        "https://opensource.org/license/mit",
        "use, copy, modify, distribute and sell freely, keeping the copyright notice",
    ),
    Rule(
        "Apache-2.0",
        "https://www.apache.org/licenses/LICENSE-2.0",
        "§2-§4: use, modify and redistribute for any purpose, keeping notices; its patent "
        "terms are extra restrictions GPL-2.0 refuses "
        "(https://www.apache.org/licenses/GPL-compatibility.html)",
        attribution=True,
        outbound_conflicts=frozenset({"GPL-2.0-only"}),
    ),
    _permissive(
        "BSD-2-Clause",
        "https://opensource.org/license/bsd-2-clause",
        "redistribution and use with or without modification, keeping the notice",
    ),
    _permissive(
        "BSD-3-Clause",
        "https://opensource.org/license/bsd-3-clause",
        "redistribution and use with or without modification, keeping the notice",
    ),
    _permissive(
        "CC0-1.0",
        "https://creativecommons.org/publicdomain/zero/1.0/legalcode",
        "the author waives all rights: no conditions",
        attribution=False,
    ),
    _permissive(
        "PDDL-1.0",
        "https://opendatacommons.org/licenses/pddl/1-0/",
        "the database is placed in the public domain: no conditions",
        attribution=False,
    ),
    _permissive(
        "ODC-By-1.0",
        "https://opendatacommons.org/licenses/by/1-0/",
        "§4.2-4.3: share and adapt the database for any purpose, attributing it",
    ),
    Rule(
        "ODbL-1.0",
        "https://opendatacommons.org/licenses/odbl/1-0/",
        "§4.4: a public adapted database must be offered under the ODbL",
        attribution=True,
        share_alike=True,
        compatible=frozenset({"ODbL-1.0"}),
    ),
    _cc("CC-BY-3.0", f"{_CC}/by/3.0/legalcode", "§3-4: any use, attributing the author"),
    _cc("CC-BY-4.0", f"{_CC}/by/4.0/legalcode", "§2(a), §3(a): any use, attributing the author"),
    _cc(
        "CC-BY-SA-3.0",
        f"{_CC}/by-sa/3.0/legalcode",
        "§4(b): adaptations only under this licence, a later version or a compatible one",
        sa=("CC-BY-SA-3.0", "CC-BY-SA-4.0"),
    ),
    _cc(
        "CC-BY-SA-4.0",
        f"{_CC}/by-sa/4.0/legalcode",
        "§3(b): adapted material only under BY-SA 4.0 or a licence CC lists as compatible "
        "(GPL-3.0, https://creativecommons.org/compatiblelicenses)",
        sa=("CC-BY-SA-4.0", *sorted(_GPL3)),
    ),
    _cc(
        "CC-BY-NC-3.0",
        f"{_CC}/by-nc/3.0/legalcode",
        "§4(b): no use primarily intended for commercial advantage",
        nc=True,
    ),
    _cc(
        "CC-BY-NC-4.0",
        f"{_CC}/by-nc/4.0/legalcode",
        "§1(i), §2(a)(1): NonCommercial purposes only",
        nc=True,
    ),
    _cc(
        "CC-BY-NC-SA-3.0",
        f"{_CC}/by-nc-sa/3.0/legalcode",
        "§4(b)-(c): non-commercial only; adaptations under the same licence",
        nc=True,
        sa=("CC-BY-NC-SA-3.0", "CC-BY-NC-SA-4.0"),
    ),
    _cc(
        "CC-BY-NC-SA-4.0",
        f"{_CC}/by-nc-sa/4.0/legalcode",
        "§2(a)(1), §3(b): non-commercial only; adapted material under BY-NC-SA 4.0",
        nc=True,
        sa=("CC-BY-NC-SA-4.0",),
    ),
    _cc(
        "CC-BY-ND-4.0",
        f"{_CC}/by-nd/4.0/legalcode",
        "§2(a)(1)(B): adapted material may be produced but not shared",
        nd=True,
    ),
    _cc(
        "CC-BY-NC-ND-4.0",
        f"{_CC}/by-nc-nd/4.0/legalcode",
        "§2(a)(1): non-commercial only; adapted material may not be shared",
        nc=True,
        nd=True,
    ),
    Rule(
        "GPL-2.0-only",
        "https://www.gnu.org/licenses/old-licenses/gpl-2.0.html",
        "§2(b): a work based on the program is licensed as a whole under GPL-2.0",
        attribution=True,
        share_alike=True,
        compatible=frozenset({"GPL-2.0-only"}),
    ),
    Rule(
        "GPL-3.0-only",
        "https://www.gnu.org/licenses/gpl-3.0.html",
        "§5(c): the whole work based on the program must be licensed under GPL-3.0",
        attribution=True,
        share_alike=True,
        compatible=frozenset({"GPL-3.0-only"}),
    ),
    Rule(
        "GPL-3.0-or-later",
        "https://www.gnu.org/licenses/gpl-3.0.html",
        "§5(c), §14: the whole work under GPL-3.0 or, at the licensee's option, a later version",
        attribution=True,
        share_alike=True,
        compatible=_GPL3,
    ),
    Rule(
        "LicenseRef-proprietary",
        "https://spdx.github.io/spdx-spec/v2.3/other-licensing-information-detected/",
        "no licence is granted (weights or data not released): every use needs an agreement",
        research=False,
        commercial=False,
        derivatives=False,
        redistribution=False,
    ),
    Rule(
        "LicenseRef-non-commercial",
        "https://spdx.github.io/spdx-spec/v2.3/other-licensing-information-detected/",
        "a bespoke non-commercial licence: research use only; sharing of copies and "
        "adaptations not assessed here (see the node's source)",
        commercial=False,
        derivatives=None,
        redistribution=None,
    ),
    Rule(
        "LicenseRef-Llama-2",
        "https://ai.meta.com/llama/license/",
        "Llama 2 Community License §1-2: use, modify and redistribute, commercially too, "
        "with the licence attached; above 700M monthly users ask Meta",
        attribution=True,
    ),
)
RULES: dict[str, Rule] = {rule.licence: rule for rule in _ALL_RULES}

_COMPETING = frozenset({"commercial-training"})
_ALL_TERMS = (
    Term(
        "openai-no-competing-models",
        "https://openai.com/policies/terms-of-use",
        "OpenAI's terms of use: output may not be used to develop models that compete with OpenAI",
        _COMPETING,
        outputs_only=True,
    ),
    Term(
        "llama-2-no-improving-other-llms",
        "https://ai.meta.com/llama/license/",
        "Llama 2 Community License §1(b)(v): its output may not be used to improve any other "
        "large language model (Llama 2 and its derivatives excepted)",
        _COMPETING,
        outputs_only=True,
    ),
    Term(
        "research-only",
        "",
        "the publisher restricts use to research (its statement is the node's source)",
        _COMPETING,
    ),
    Term(
        "no-redistribution",
        "",
        "terms of access: the data may not be distributed to others (the node's source)",
        frozenset({"redistribution"}),
    ),
)
TERMS: dict[str, Term] = {term.term: term for term in _ALL_TERMS}
