"""Settings come from the environment and fail loudly; production settings pass check --deploy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.settings import email_settings, env_bool, env_int

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # A clean production-like environment: nothing of the test run's own switches.
    dropped = {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_pass_check_deploy() -> None:
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="a-long-random-production-secret-key-with-enough-entropy-1234567890",
        ALLOWED_HOSTS="orders.example.com",
        SECURE_SSL_REDIRECT="1",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_missing_secret_key_stops_production() -> None:
    result = run_manage("check", DEBUG="0", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY is required unless DEBUG=1" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "is not a boolean"),
        ("ALLOWED_HOSTS", "", "ALLOWED_HOSTS is required unless DEBUG=1"),
        ("TIME_ZONE", "Mars/Olympus", "is not an IANA time zone"),
        ("REDIS_URL", "http://localhost", "is not a redis:// URL"),
        ("EMAIL_URL", "pigeon://coop", "EMAIL_URL scheme 'pigeon'"),
        ("PORTAL_LOOKUP_MAX_FAILURES", "five", "is not a whole number"),
        ("PORTAL_LOOKUP_MAX_FAILURES", "0", "must be at least 1"),
    ],
)
def test_bad_values_fail_loudly(name: str, value: str, message: str) -> None:
    result = run_manage("check", SECRET_KEY="x" * 50, **{name: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_env_helpers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLAG", "Yes")
    assert env_bool("FLAG", False) is True
    monkeypatch.setenv("FLAG", "off")
    assert env_bool("FLAG", True) is False
    monkeypatch.delenv("FLAG")
    assert env_bool("FLAG", True) is True
    monkeypatch.setenv("COUNT", " 7 ")
    assert env_int("COUNT", 1) == 7
    monkeypatch.setenv("COUNT", "-1")
    with pytest.raises(ImproperlyConfigured):
        env_int("COUNT", 1)


def test_email_url() -> None:
    smtp = email_settings("smtp://mailer:p%40ss@mail.example.com:2525?tls=0")
    assert smtp["EMAIL_HOST"] == "mail.example.com"
    assert smtp["EMAIL_PORT"] == 2525
    assert smtp["EMAIL_HOST_USER"] == "mailer"
    assert smtp["EMAIL_HOST_PASSWORD"] == "p@ss"
    assert smtp["EMAIL_USE_TLS"] is False
    assert email_settings("smtps://u:p@mail.example.com")["EMAIL_PORT"] == 465
    assert email_settings("console:")["EMAIL_BACKEND"].endswith("console.EmailBackend")
    with pytest.raises(ImproperlyConfigured):
        email_settings("smtp://")
