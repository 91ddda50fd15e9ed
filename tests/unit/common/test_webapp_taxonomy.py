"""The web app's copy of the taxonomy (webapp/src/lib/categories.ts) is the Python one.

The web app cannot import Python, so it keeps its own list; this test parses that file and
fails as soon as the two drift (a slug, label, description, order or legacy name).
"""

from __future__ import annotations

import re
from pathlib import Path

from lambda_src.common.categories import LEGACY, TAXONOMY, Category
from lambda_src.common.model import UNCATEGORIZED

REPO_ROOT = Path(__file__).resolve().parents[3]
CATEGORIES_TS = REPO_ROOT / "webapp" / "src" / "lib" / "categories.ts"

_STRING = r"'((?:[^'\\]|\\.)*)'"
_ENTRY = re.compile(rf"\{{\s*slug:\s*{_STRING},\s*label:\s*{_STRING},\s*description:\s*{_STRING}\s*\}},?")
_PAIR = re.compile(rf"^\s*(\w+|{_STRING}):\s*{_STRING},?\s*$")


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _block(source: str, name: str, opener: str, closer: str) -> list[str]:
    """The lines between ``export const NAME ... = <opener>`` and the closing line."""
    start = re.search(rf"^export const {name}\b[^\n]*= \{opener}$", source, re.MULTILINE)
    assert start, f"no `export const {name} ... = {opener}` in {CATEGORIES_TS.name}"
    lines: list[str] = []
    for line in source[start.end() :].splitlines()[1:]:
        if line.strip() == closer:
            return lines
        if line.strip():
            lines.append(line)
    raise AssertionError(f"{name} in {CATEGORIES_TS.name} is not closed by a `{closer}` line")


def _ts_taxonomy(source: str) -> list[Category]:
    out: list[Category] = []
    for line in _block(source, "TAXONOMY", "[", "]"):
        match = _ENTRY.fullmatch(line.strip())
        assert match, f"TAXONOMY line is not {{ slug, label, description }}: {line!r}"
        out.append(Category(*(_unquote(g) for g in match.groups())))
    return out


def _ts_legacy(source: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in _block(source, "LEGACY", "{", "}"):
        match = _PAIR.fullmatch(line)
        assert match, f"LEGACY line is not `name: 'slug',`: {line!r}"
        key = match.group(2) if match.group(2) is not None else match.group(1)
        out[_unquote(key)] = _unquote(match.group(3))
    return out


def test_the_web_app_taxonomy_is_the_python_taxonomy() -> None:
    # Given the web app's categories.ts
    source = CATEGORIES_TS.read_text(encoding="utf-8")
    # When its taxonomy is read
    categories = _ts_taxonomy(source)
    # Then it has the same categories, in the same order, word for word
    assert categories == list(TAXONOMY)


def test_the_web_app_maps_legacy_names_as_python_does() -> None:
    source = CATEGORIES_TS.read_text(encoding="utf-8")
    assert _ts_legacy(source) == dict(LEGACY)


def test_the_web_app_names_uncategorized_as_the_model_does() -> None:
    source = CATEGORIES_TS.read_text(encoding="utf-8")
    assert re.search(rf"^export const UNCATEGORIZED = '{UNCATEGORIZED}'$", source, re.MULTILINE)


def test_the_parser_notices_a_drifted_label() -> None:
    # Given a copy of the file with one label changed
    source = CATEGORIES_TS.read_text(encoding="utf-8").replace("'Dining out'", "'Eating out'", 1)
    # Then the parsed taxonomy differs from Python's (the test above would fail)
    assert _ts_taxonomy(source) != list(TAXONOMY)
