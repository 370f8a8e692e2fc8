"""The documentation lives in the repository and builds: every ``docs/…md`` reference in the
code and README points at a page (and heading) that exists, nothing cites files outside the
repository, and ``mkdocs build --strict`` succeeds offline."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(
    [ROOT / "README.md", ROOT / "mkdocs.yml"]
    + [
        p
        for folder in ("toolkit", "widgets", "tests", "benchmarks")
        for p in (ROOT / folder).rglob("*.py")
    ]
)
REFERENCE = re.compile(r"docs/([\w./-]+\.md)(?:#([\w-]+))?")
OUTSIDE = re.compile(r"\b(?:METHODS|DESIGN)(?:\.md|\s§)|\bshared/")


def _slug(heading: str) -> str:
    return re.sub(r"[\s]+", "-", re.sub(r"[^\w\s-]", "", heading.strip().lower()))


def _references() -> list[tuple[str, str, str | None]]:
    return [
        (str(path.relative_to(ROOT)), page, anchor)
        for path in SOURCES
        for page, anchor in REFERENCE.findall(path.read_text(encoding="utf-8"))
        if path != Path(__file__)
    ]


def test_the_code_points_at_the_docs():
    assert len(_references()) >= 5


@pytest.mark.parametrize(("source", "page", "anchor"), _references())
def test_docs_reference_points_at_an_existing_page_and_heading(source, page, anchor):
    target = ROOT / "docs" / page
    assert target.is_file(), f"{source} cites docs/{page}, which does not exist"
    if anchor:
        headings = re.findall(r"^#+\s+(.*)$", target.read_text(encoding="utf-8"), re.M)
        assert anchor in {_slug(h) for h in headings}, f"{source}: no heading #{anchor} in {page}"


def test_nothing_cites_files_outside_the_repository():
    docs = sorted((ROOT / "docs").rglob("*.md"))
    cited = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in SOURCES + docs
        if path != Path(__file__)
        for match in OUTSIDE.finditer(path.read_text(encoding="utf-8"))
    ]
    assert not cited


def test_site_builds_strict_offline(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "api" / "alignment" / "index.html").is_file()
    reference = (tmp_path / "site" / "api" / "alignment" / "index.html").read_text()
    assert "toolkit.alignment.TokenPOTrainer" in reference
