"""SearchTreeView in Chromium, from a kernel-free static export: one column per step with one
button per candidate (sorted by combined score, its token, log P, heuristic and score shown),
the kept beams and the output's path marked, and a click showing the candidate's scores,
prefix and lookahead below the tree. Checked on a hand-built tree whose path is not the
top-scoring candidate and on a real traced DeAL search of the tiny GPT-2. Skipped without
/usr/bin/chromium, except under ``CI=true`` where it fails. Saves
``test-artifacts/widgets/search_tree_view.png``.
"""

from __future__ import annotations

import pytest
from browser_helpers import ARTIFACTS, offline_page
from playwright.sync_api import expect

from widgets.export import to_html
from widgets.search_tree_view import SearchTreeView

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

HINT = "Click a candidate to see its prefix and lookahead."


def cand(parent, token, token_logp, logp, heuristic, lookahead, chosen):
    """A candidate with λ = 1: score = log P + h."""
    return dict(
        parent=parent,
        token=token,
        token_logp=token_logp,
        logp=logp,
        heuristic=heuristic,
        score=logp + heuristic,
        lookahead=lookahead,
        chosen=chosen,
    )


# The output "The dog ran" is the top candidate of step 1 only: at steps 2 and 3 a kept
# sibling ("A cat", "A cat sat") scores higher, so the path is not "the first of each column".
STEPS = [
    [
        cand(-1, "A", -2.0, -2.0, 0.0, " cat sat", True),
        cand(-1, "The", -1.0, -1.0, 0.5, " dog ran", True),
        cand(-1, "\n", -4.0, -4.0, 0.0, "", False),
    ],
    [
        cand(0, " cat", -0.5, -2.5, 1.0, " sat", True),
        cand(1, " dog", -1.5, -2.5, 0.25, " ran", True),
        cand(1, " end", -3.0, -4.0, -0.2, " now", False),
        cand(0, " ", -3.5, -5.5, 0.0, " x", False),
    ],
    [
        cand(1, " ran", -0.5, -3.0, 0.25, "", True),
        cand(0, " sat", -0.25, -2.75, 0.75, "", True),
        cand(1, "!", -4.0, -6.5, 0.0, "", False),
    ],
]
PATH = [1, 1, 0]


def fmt(x: float) -> str:
    """The view's signed two-decimal number (JS ``fmt``: ``+`` for x >= 0, -0 included)."""
    return ("+" if x >= 0 else "-") + f"{abs(x):.2f}"


def shown(token: str) -> str:
    """A token as the view shows it (base.js ``displayText``)."""
    if token == "":
        return "\u2205"
    for chars, mark in (
        (" \u0120\u2581", "\u00b7"),
        ("\n\u010a", "\u21b5"),
        ("\t\u0109", "\u21e5"),
    ):
        for char in chars:
            token = token.replace(char, mark)
    return token


def detail_head(view: SearchTreeView, t: int, i: int) -> str:
    c = view.steps[t][i]
    kept = " (kept)" if c["chosen"] else ""
    return (
        f"step {t + 1}: log P {c['logp']:.3f}, h {c['heuristic']:.3f}, score {c['score']:.3f}{kept}"
    )


def node_of(root, view: SearchTreeView, t: int, i: int):
    """The button of candidate ``i`` of step ``t``: the one whose tooltip names its scores."""
    c = view.steps[t][i]
    title = f"log P(y\u2295a) = {c['logp']:.3f}, h = {c['heuristic']:.3f}, s = {c['score']:.3f}"
    return root.locator(".rt-step").nth(t).locator(f'.rt-node[title="{title}"]')


def check_tree(root, view: SearchTreeView) -> None:
    """Columns, buttons, their order, text and marks match ``view.steps`` and ``view.path``."""
    columns = root.locator(".rt-tree > .rt-step")
    expect(columns).to_have_count(len(view.steps))
    expect(root.locator(".rt-node")).to_have_count(sum(len(s) for s in view.steps))
    expect(root.locator(".rt-node.rt-on-path")).to_have_count(len(view.path))
    for t, step in enumerate(view.steps):
        column = columns.nth(t)
        expect(column.locator(".rt-step-head")).to_have_text(f"step {t + 1}")
        order = sorted(range(len(step)), key=lambda i: -step[i]["score"])
        nodes = column.locator(".rt-node")
        expect(nodes).to_have_count(len(step))
        got = [n.text_content() for n in nodes.all()]
        assert got == [
            shown(step[i]["token"])
            + f"log P {fmt(step[i]['token_logp'])} \u00b7 h {fmt(step[i]['heuristic'])}"
            + f"s {fmt(step[i]['score'])}"
            for i in order
        ], f"step {t + 1}"
        kept = [
            nodes.nth(k).evaluate("e => e.classList.contains('rt-chosen')")
            for k in range(len(order))
        ]
        assert kept == [step[i]["chosen"] for i in order], f"step {t + 1}"
        on_path = column.locator(".rt-node.rt-on-path")
        if t < len(view.path):
            expect(on_path).to_have_count(1)
            c = step[view.path[t]]
            expect(on_path.locator(".rt-node-token")).to_have_text(shown(c["token"]))
            assert on_path.get_attribute("title") == node_of(
                root, view, t, view.path[t]
            ).get_attribute("title")
        else:
            expect(on_path).to_have_count(0)


def check_detail(root, view: SearchTreeView, t: int, i: int) -> None:
    """The detail line names candidate (t, i): its scores, its prefix and its lookahead."""
    prefix, lookahead = view.text(t, i)
    detail = root.locator(".rt-detail")
    expect(detail.locator("div")).to_have_text(detail_head(view, t, i))
    assert detail.locator("span").first.text_content() == prefix
    assert detail.locator(".rt-lookahead").text_content() == lookahead
    selected = root.locator(".rt-node.rt-selected")
    expect(selected).to_have_count(1)
    assert selected.get_attribute("title") == node_of(root, view, t, i).get_attribute("title")


def style(locator, prop: str) -> str:
    return locator.evaluate(f"e => getComputedStyle(e).{prop}")


def test_static_export_draws_the_tree_marks_the_path_and_shows_a_click(browser, tmp_path) -> None:
    view = SearchTreeView(STEPS, PATH, title="Hand-built search")
    assert view.text(2, 0) == ("The dog ran", "")  # the output, as the tree encodes it
    path = to_html(view, tmp_path / "search_tree_view.html")
    with offline_page(browser, path, "light", height=520) as page:
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        root = page.locator(".rt-search-tree-view")
        expect(root.locator(".rt-title")).to_have_text("Hand-built search")
        check_tree(root, view)
        # Spelled out: the sorted columns, whitespace made visible, and the output's path.
        expect(root.locator(".rt-step").nth(1).locator(".rt-node-token")).to_have_text(
            ["\u00b7cat", "\u00b7dog", "\u00b7end", "\u00b7"]
        )
        expect(root.locator(".rt-step").nth(0).locator(".rt-node-token")).to_have_text(
            ["The", "A", "\u21b5"]
        )
        expect(root.locator(".rt-on-path .rt-node-token")).to_have_text(
            ["The", "\u00b7dog", "\u00b7ran"]
        )
        on_path = node_of(root, view, 2, 0)
        expect(on_path).to_have_class("rt-node rt-chosen rt-on-path")
        expect(on_path.locator(".rt-node-scores")).to_have_text(
            ["log P -0.50 \u00b7 h +0.25", "s -2.75"]
        )
        # The path is drawn differently from a kept beam off the path and from a dropped one.
        kept_off_path, dropped = node_of(root, view, 2, 1), node_of(root, view, 2, 2)
        expect(kept_off_path).to_have_class("rt-node rt-chosen")
        expect(dropped).to_have_class("rt-node")
        assert style(on_path, "backgroundColor") != style(kept_off_path, "backgroundColor")
        assert style(kept_off_path, "borderTopColor") != style(dropped, "borderTopColor")

        # Nothing selected: the hint. A click shows the candidate's prefix (through its
        # parents, across columns) and lookahead; a second click moves the selection.
        expect(root.locator(".rt-detail")).to_have_text(HINT)
        expect(root.locator(".rt-node.rt-selected")).to_have_count(0)
        node_of(root, view, 1, 2).click()
        check_detail(root, view, 1, 2)
        expect(root.locator(".rt-detail div")).to_have_text(
            "step 2: log P -4.000, h -0.200, score -4.200"
        )
        assert root.locator(".rt-detail span").first.text_content() == "The end"
        assert root.locator(".rt-lookahead").text_content() == " now"
        outline = style(node_of(root, view, 1, 2), "outlineStyle")
        assert outline == "solid" and style(node_of(root, view, 1, 1), "outlineStyle") == "none"
        page.screenshot(path=ARTIFACTS / "search_tree_view.png", full_page=True)

        node_of(root, view, 2, 1).click()
        check_detail(root, view, 2, 1)
        assert root.locator(".rt-detail span").first.text_content() == "A cat sat"
        expect(root.locator(".rt-detail div")).to_contain_text("(kept)")
        assert errors == []


def test_static_export_opens_on_the_selection_made_in_python(browser, tmp_path) -> None:
    view = SearchTreeView(STEPS, PATH)
    view.selected = [2, 0]
    path = to_html(view, tmp_path / "search_tree_view_selected.html")
    with offline_page(browser, path, "dark", height=520) as page:
        root = page.locator(".rt-search-tree-view")
        check_tree(root, view)
        check_detail(root, view, 2, 0)
        assert root.locator(".rt-detail span").first.text_content() == "The dog ran"


def test_static_export_of_a_traced_deal_search(browser, tmp_path, generation) -> None:
    view = SearchTreeView.from_generation(generation, title="DeAL trace")
    assert len(view.steps) == 5 and all(len(s) == 6 for s in view.steps[1:])
    path = to_html(view, tmp_path / "search_tree_view_generation.html")
    with offline_page(browser, path, "light", height=900) as page:
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        root = page.locator(".rt-search-tree-view")
        check_tree(root, view)
        expect(root.locator(".rt-node.rt-chosen")).to_have_count(
            sum(c["chosen"] for s in view.steps for c in s)
        )
        last = len(view.path) - 1
        node_of(root, view, last, view.path[last]).click()
        check_detail(root, view, last, view.path[last])
        node_of(root, view, 1, len(view.steps[1]) - 1).click()
        check_detail(root, view, 1, len(view.steps[1]) - 1)
        assert errors == []
