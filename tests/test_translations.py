"""Every shipped language is complete: no untranslated or fuzzy entry, placeholders intact,
compiled catalogues in step with their sources, and no source string missing from them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.utils import translation

ROOT = Path(__file__).resolve().parents[1]
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def po_path(language: str) -> Path:
    return ROOT / "locale" / translation.to_locale(language) / "LC_MESSAGES" / "django.po"


def load_po(language: str):  # type: ignore[no-untyped-def]
    with po_path(language).open("rb") as handle:
        return read_po(handle, locale=translation.to_locale(language))


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalogue_is_complete(language: str) -> None:
    catalog = load_po(language)
    missing, fuzzy = [], []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            missing.append(message.id)
        if message.fuzzy:
            fuzzy.append(message.id)
    assert not missing, f"{language}: untranslated {missing}"
    assert not fuzzy, f"{language}: fuzzy {fuzzy}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_placeholders_survive_translation(language: str) -> None:
    problems = [
        (message.id, [str(error) for error in errors])
        for message, errors in load_po(language).check()
    ]
    assert not problems
    # Django's own template placeholders, which Babel's checker does not know.
    for message in load_po(language):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = {part.split("}}")[0] for part in ids[0].split("{{")[1:]}
        for string in strings:
            found = {part.split("}}")[0] for part in string.split("{{")[1:]}
            assert found <= wanted | {
                part.split("}}")[0] for i in ids for part in i.split("{{")[1:]
            }, (
                language,
                message.id,
            )


def frozen(value):  # type: ignore[no-untyped-def]
    # The .po and .mo readers differ in small ways: lists or tuples for plurals, bytes or str
    # for contexts.
    if isinstance(value, bytes):
        return value.decode()
    return tuple(value) if isinstance(value, list | tuple) else value


def entries(messages) -> dict:  # type: ignore[no-untyped-def]
    return {
        (frozen(message.context), frozen(message.id)): frozen(message.string)
        for message in messages
        if message.id and not message.fuzzy
    }


@pytest.mark.parametrize("language", TRANSLATED)
def test_compiled_catalogue_matches_its_source(language: str) -> None:
    """The .mo is what Django reads: it must say exactly what the .po says (run `make messages`)."""
    with (po_path(language).with_suffix(".mo")).open("rb") as handle:
        compiled = entries(read_mo(handle))
    assert compiled == entries(load_po(language))


def test_every_source_string_is_in_the_catalogues(tmp_path: Path) -> None:
    """Extract the strings afresh from a copy of the project; none may be missing."""
    apps = [app for app in settings.INSTALLED_APPS if (ROOT / app).is_dir()]
    for name in ("manage.py", "templates", "locale", *apps):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "de", "--no-obsolete", "--no-location"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "portal.settings"},
    )
    assert result.returncode == 0, result.stderr
    with (tmp_path / "locale/de/LC_MESSAGES/django.po").open("rb") as handle:
        fresh = {(m.context, frozen(m.id)) for m in read_po(handle) if m.id}
    for language in TRANSLATED:
        committed = {(m.context, frozen(m.id)) for m in load_po(language) if m.id}
        missing = fresh - committed
        assert not missing, (
            f"{language}: run `make messages` and translate {sorted(map(str, missing))}"
        )


@pytest.mark.parametrize(("language", "forms"), [("pl", 3), ("zh-hans", 1), ("de", 2)])
def test_plurals_follow_the_languages_own_rule(language: str, forms: int) -> None:
    """The compiled catalogue carries its header's plural rule: Polish says 1, 2 and 5 items
    three ways, Chinese one way."""
    with translation.override(language):
        said = {
            translation.ngettext(
                "%(count)s item has not shipped yet.", "%(count)s items have not shipped yet.", n
            )
            for n in (1, 2, 5)
        }
    assert len(said) == forms, said
