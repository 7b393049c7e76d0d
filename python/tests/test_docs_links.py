"""The documentation's links: every relative link in the README, python/README.md, the
changelog and docs/ resolves to a file of the repository (not one git ignores), every
`#anchor` to a heading of its target (GitHub's slugs), and no link leaves the
repository except to an http(s) URL (not fetched). Also: the README's map lists every
page of docs/, and the blocks the README shares with python/README.md (the PyPI page)
have not drifted apart."""

from __future__ import annotations

import re
import subprocess
import unicodedata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = sorted((REPO / "docs").rglob("*.md"))
PAGES = [REPO / "README.md", REPO / "python" / "README.md", REPO / "CHANGELOG.md", *DOCS]

FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.S | re.M)
INDENTED = re.compile(r"(?:^(?: {4}|\t).*\n?)+", re.M)
INLINE_CODE = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.S)
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$", re.M)
HTML_LINK = re.compile(r"<(?:a|img)\b[^>]*?\b(?:href|src)\s*=\s*[\"']([^\"']+)[\"']", re.I)
AUTOLINK = re.compile(r"<([a-z][a-z0-9+.-]*:[^>\s]+)>", re.I)


def prose(text: str) -> str:
    """The text with code (fenced, indented, inline) blanked out: links in code are not links."""
    text = FENCE.sub("", text)
    text = INDENTED.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return INLINE_CODE.sub("", text)


def links(text: str) -> list[str]:
    body = prose(text)
    found = [m.group(1) for m in INLINE_LINK.finditer(body)]
    found += [m.group(1) for m in REFERENCE.finditer(body)]
    found += [m.group(1) for m in HTML_LINK.finditer(body)]
    found += [m.group(1) for m in AUTOLINK.finditer(body)]
    return found


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text (inline code and links reduced to their
    text, HTML tags dropped), lower-cased, punctuation other than - and _ removed,
    spaces turned into hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"<[^>]+>", "", text)
    text = text.replace("`", "").strip().lower()
    kept = "".join(
        c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN" or unicodedata.category(c) == "Mn"
    )
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading's anchor in a Markdown file, with GitHub's -1, -2… for repeats."""
    seen: dict[str, int] = {}
    result = set()
    for line in FENCE.sub("", path.read_text()).splitlines():
        m = re.match(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        base = slug(m.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        result.add(base if n == 0 else f"{base}-{n}")
    for m in re.finditer(r"<a\s+(?:name|id)=[\"']([^\"']+)[\"']", path.read_text()):
        result.add(m.group(1))
    return result


def ignored(path: Path) -> bool:
    result = subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=REPO)
    return result.returncode == 0


def problems(page: Path) -> list[str]:
    found = []
    for target in links(page.read_text()):
        where = f"{page.relative_to(REPO)}: {target!r}"
        scheme = re.match(r"^([a-z][a-z0-9+.-]*):", target, re.I)
        if scheme:
            if scheme.group(1).lower() not in ("http", "https", "mailto"):
                found.append(f"{where}: only http(s) links may leave the repository")
            continue
        path_part, _, anchor = target.partition("#")
        if path_part.startswith("/"):
            found.append(f"{where}: an absolute path; use a path relative to the page")
            continue
        resolved = (page.parent / path_part).resolve() if path_part else page
        try:
            resolved.relative_to(REPO)
        except ValueError:
            found.append(f"{where}: points outside the repository")
            continue
        if not resolved.is_file():
            found.append(f"{where}: no such file in the repository")
            continue
        if ignored(resolved):
            found.append(f"{where}: a file git ignores (not in a clone)")
            continue
        if anchor:
            if resolved.suffix != ".md":
                found.append(f"{where}: an anchor into a file that is not Markdown")
            elif anchor not in anchors(resolved):
                found.append(f"{where}: no heading #{anchor} in {resolved.relative_to(REPO)}")
    return found


def test_the_pages_exist():
    assert (REPO / "README.md").is_file() and (REPO / "CHANGELOG.md").is_file()
    assert len(DOCS) >= 10, DOCS


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_link_resolves_inside_the_repository(page):
    assert problems(page) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_path_to_the_shared_folder_outside_the_repository(page):
    assert "../shared" not in page.read_text(), f"{page} names ../shared, which is not in the repository"


def test_the_readme_maps_every_page_of_the_documentation():
    readme = (REPO / "README.md").read_text()
    linked = {(REPO / t.partition("#")[0]).resolve() for t in links(readme) if not re.match(r"^[a-z]+:", t)}
    missing = [str(p.relative_to(REPO)) for p in DOCS if p.resolve() not in linked]
    assert missing == [], "pages of docs/ missing from the README's map"


def block(text: str, name: str) -> str:
    m = re.search(rf"<!-- {name}\b[^>]*-->\n(.*?)<!-- /{name} -->", text, re.S)
    assert m, f"no <!-- {name} --> block"
    return m.group(1)


@pytest.mark.parametrize("name", ["install", "quick-start"])
def test_the_readme_and_the_pypi_page_say_the_same(name):
    readme = (REPO / "README.md").read_text()
    pypi = (REPO / "python" / "README.md").read_text()
    assert block(readme, name) == block(pypi, name), f"the {name} blocks of README.md and python/README.md differ"


def test_the_checker_finds_what_it_must():
    """The checker itself: a broken link, an escape, a bad anchor, a link in code."""
    sample = REPO / "docs" / "configuration.md"
    assert "where-it-is-written" in anchors(sample)
    assert slug("The contract: `wit/world.wit`") == "the-contract-witworldwit"
    assert (
        slug("Values reach Litestream unexpanded (`-no-expand-env`)")
        == "values-reach-litestream-unexpanded--no-expand-env"
    )
    assert slug("serde_norway, not the archived serde_yaml") == "serde_norway-not-the-archived-serde_yaml"
    text = "[a](x.md) [b](../../shared/y.md#z) ![c](img.png) `[d](code.md)`\n\n    [e](indented.md)\n"
    assert links(text) == ["x.md", "../../shared/y.md#z", "img.png"]
