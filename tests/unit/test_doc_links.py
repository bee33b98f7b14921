"""Every relative link in the README and docs/ names a file of the repository, and a `#fragment`
names a heading of that file, so moving a section cannot leave a figure's link pointing nowhere."""
from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r'\[[^\]]*\]\(([^)\s]+)\)')
FENCE = re.compile(r'^\s*```')


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation but hyphens and underscores dropped,
    spaces to hyphens."""
    return re.sub(r'[^\w\- ]', '', heading.strip().lower()).replace(' ', '-')


def prose(path: Path) -> list[str]:
    """The file's lines outside fenced code blocks (where a `#` starts a comment, not a heading)."""
    lines, fenced = [], False
    for line in path.read_text().splitlines():
        fenced ^= bool(FENCE.match(line))
        if not fenced:
            lines.append(line)
    return lines


@functools.cache   # one read per linked file, not one per link
def anchors(path: Path) -> frozenset[str]:
    return frozenset(slug(line.lstrip('#')) for line in prose(path) if line.startswith('#'))


def links() -> list[tuple[str, str]]:
    return [(str(path.relative_to(ROOT)), target)
            for path in [ROOT / 'README.md', *sorted((ROOT / 'docs').glob('*.md'))]
            for line in prose(path) for target in LINK.findall(line) if not re.match(r'[a-z]+:', target)]


LINKS = links()


def test_the_docs_hold_links():
    assert len(LINKS) > 100 and any('#' in target for _, target in LINKS)


def test_a_heading_gets_githubs_anchor():
    assert slug(" The seed check's ρ under `members_only`, chosen on held-out seeds (AMD EPYC)") == \
        'the-seed-checks-ρ-under-members_only-chosen-on-held-out-seeds-amd-epyc'
    assert slug(' The fit check on bounded models: a clipped ×100 member keeps part') == \
        'the-fit-check-on-bounded-models-a-clipped-100-member-keeps-part'


@pytest.mark.parametrize('where,target', LINKS, ids=[f'{w}:{t}'[:90] for w, t in LINKS])
def test_a_relative_link_names_a_file_and_heading(where, target):
    name, _, fragment = target.partition('#')
    path = ((ROOT / where).parent / name if name else ROOT / where).resolve()
    assert path.exists(), f'{where}: {target}: no such file'
    if fragment:
        assert fragment in anchors(path), f'{where}: {target}: no such heading in {path.name}'
