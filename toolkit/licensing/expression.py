"""SPDX licence expressions, parsed and normalized with the ``license-expression`` package.

An expression is kept in disjunctive normal form: a list of *options*, each a set of licence
identifiers that all apply together. ``MIT OR Apache-2.0`` has two options (the licensee picks
one); ``MIT AND CC-BY-SA-4.0`` has one option holding both; ``GPL-2.0-only WITH
Classpath-exception-2.0`` is read as its licence (an exception only adds permissions).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from itertools import product

from license_expression import (
    AND,
    OR,
    ExpressionError,
    LicenseSymbol,
    LicenseWithExceptionSymbol,
    get_spdx_licensing,
)

from toolkit._checks import check_str
from toolkit.licensing.rules import RULES


@cache
def _licensing():
    return get_spdx_licensing()


@dataclass(frozen=True)
class Licence:
    """A parsed SPDX expression: its normalized ``text`` and its ``options`` (see the module)."""

    text: str
    options: tuple[frozenset[str], ...]

    @property
    def keys(self) -> frozenset[str]:
        """Every licence identifier the expression names."""
        return frozenset().union(*self.options)


def _options(node) -> list[frozenset[str]]:
    if isinstance(node, LicenseWithExceptionSymbol):
        return [frozenset({node.license_symbol.key})]
    if isinstance(node, LicenseSymbol):
        return [frozenset({node.key})]
    children = [_options(arg) for arg in node.args]
    if isinstance(node, OR):
        return [option for child in children for option in child]
    if isinstance(node, AND):
        return [frozenset().union(*combo) for combo in product(*children)]
    raise ValueError(f"unsupported licence expression node {node!r}")


def parse_licence(text: object, where: str = "licence") -> Licence:
    """Parse and normalize an SPDX expression; ``where`` names it in errors (the node).

    Raises:
        TypeError: ``text`` is not a string.
        ValueError: a malformed expression (with the parser's message), or an identifier that
            is neither an SPDX licence nor a ``LicenseRef-`` row of the rules table.
    """
    check_str(where, text)
    licensing = _licensing()
    try:
        parsed = licensing.parse(text, validate=False)
    except ExpressionError as err:
        raise ValueError(
            f"{where}: {text!r} is not a valid SPDX licence expression: {err}"
        ) from err
    if parsed is None:
        raise ValueError(f"{where}: {text!r} holds no licence identifier")
    options = tuple(dict.fromkeys(_options(parsed)))
    unknown = sorted(
        key
        for key in frozenset().union(*options)
        if key not in licensing.known_symbols and key not in RULES
    )
    if unknown:
        known = list(licensing.known_symbols) + list(RULES)
        hints = [difflib.get_close_matches(key, known, n=1) for key in unknown]
        suggestion = "".join(f"; did you mean {hint[0]!r}?" for hint in hints if hint)
        raise ValueError(
            f"{where}: {text!r} names unknown licence identifier(s) {unknown}{suggestion} "
            "Use an SPDX identifier (https://spdx.org/licenses/) or one of the rules table's "
            f"LicenseRef- rows {sorted(k for k in RULES if k.startswith('LicenseRef-'))}"
        )
    return Licence(str(parsed), options)
