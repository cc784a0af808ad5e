from __future__ import annotations

import os
from pathlib import Path

import pydantic
import pytest

from gql.settings import (
    HIDDEN,
    Settings,
    SettingsError,
    Source,
    documented_settings,
    load_settings,
    shown,
)
from tests.conftest import REPO_ROOT


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No OCM_GQL_* variable of the shell running the tests leaks in."""
    for name in os.environ:
        if name.startswith("OCM_GQL_"):
            monkeypatch.delenv(name)
    return monkeypatch


def _from(environ: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return Settings.from_env(env_file=None)


def test_reads_prefixed_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _from(
        {"OCM_GQL_DB": "/data/x.db", "OCM_GQL_MAX_PAGE_SIZE": "50", "OCM_GQL_HOST": "0.0.0.0"},
        monkeypatch,
    )
    assert settings.db == Path("/data/x.db")
    assert settings.max_page_size == 50
    assert settings.host == "0.0.0.0"
    assert settings.port == 8000
    assert settings.max_radius_km == 500
    assert _from({"OCM_GQL_MAX_RADIUS_KM": "12.5"}, monkeypatch).max_radius_km == 12.5


def test_flags_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCM_GQL_PORT", "9000")
    settings = Settings.from_env(env_file=None, port=9100, host=None)
    assert settings.port == 9100
    assert settings.host == "127.0.0.1"


def test_a_dotenv_file_sits_below_the_environment_and_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# other tools' variables are ignored\n"
        "DATABASE=elsewhere\n"
        "OCM_GQL_PORT=9000\n"
        "OCM_GQL_HOST=0.0.0.0\n"
        "OCM_GQL_MAX_DEPTH=7\n"
        "OCM_GQL_CORS_ORIGINS=https://a.example, https://b.example\n"
    )
    monkeypatch.setenv("OCM_GQL_HOST", "127.0.0.2")
    loaded = load_settings({"max_depth": 9, "db": None}, env_file=env_file)
    settings = loaded.settings
    assert (settings.port, settings.host, settings.max_depth) == (9000, "127.0.0.2", 9)
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert loaded.sources["port"] == Source.ENV_FILE
    assert loaded.sources["host"] == Source.ENVIRONMENT
    assert loaded.sources["max_depth"] == Source.FLAG
    assert loaded.sources["db"] == Source.DEFAULT  # a flag given as None is no flag
    assert set(loaded.sources) == set(Settings.model_fields)
    # The default file is .env in the working directory.
    monkeypatch.chdir(tmp_path)
    assert Settings.from_env().port == 9000
    monkeypatch.chdir(REPO_ROOT)
    assert Settings.from_env().port == 8000


def test_keyword_construction_holds_exactly_the_values_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OCM_GQL_PORT", "9000")
    (tmp_path / ".env").write_text("OCM_GQL_MAX_DEPTH=3\n")
    monkeypatch.chdir(tmp_path)
    settings = Settings(db=Path("x.db"), max_cost=5)
    assert (settings.db, settings.max_cost, settings.port, settings.max_depth) == (
        Path("x.db"),
        5,
        8000,
        15,
    )
    with pytest.raises(pydantic.ValidationError):
        settings.port = 1  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        Settings(max_dept=3)  # type: ignore[call-arg]  # a typo is not silently dropped


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"OCM_GQL_MAX_PAGE_SIZE": "lots"}, "OCM_GQL_MAX_PAGE_SIZE must be an integer, got 'lots'"),
        ({"OCM_GQL_PORT": "eighty"}, "OCM_GQL_PORT must be an integer, got 'eighty'"),
        ({"OCM_GQL_PORT": "0"}, "OCM_GQL_PORT must be at least 1, got '0'"),
        ({"OCM_GQL_PORT": "65536"}, "OCM_GQL_PORT must be at most 65535, got '65536'"),
        ({"OCM_GQL_MAX_PAGE_SIZE": "0"}, "OCM_GQL_MAX_PAGE_SIZE must be at least 1, got '0'"),
        (
            {"OCM_GQL_DEFAULT_PAGE_SIZE": "500", "OCM_GQL_MAX_PAGE_SIZE": "100"},
            "OCM_GQL_DEFAULT_PAGE_SIZE (500) must not exceed OCM_GQL_MAX_PAGE_SIZE (100)",
        ),
        ({"OCM_GQL_READERS": "0"}, "OCM_GQL_READERS must be at least 1, got '0'"),
        (
            {"OCM_GQL_APQ_CACHE_SIZE": "-1"},
            "OCM_GQL_APQ_CACHE_SIZE must be at least 0, got '-1'",
        ),
        (
            {"OCM_GQL_HEADER_TIMEOUT_SECONDS": "0"},
            "OCM_GQL_HEADER_TIMEOUT_SECONDS must be more than 0, got '0'",
        ),
        (
            {"OCM_GQL_MAX_RADIUS_KM": "0"},
            "OCM_GQL_MAX_RADIUS_KM must be more than 0, got '0'",
        ),
        (
            {"OCM_GQL_MAX_RADIUS_KM": "30000"},
            "OCM_GQL_MAX_RADIUS_KM must be at most 20037.5, got '30000'",
        ),
        (
            {"OCM_GQL_RATE_LIMIT_PER_SECOND": "fast"},
            "OCM_GQL_RATE_LIMIT_PER_SECOND must be a number, got 'fast'",
        ),
        (
            {"OCM_GQL_INTROSPECTION": "maybe"},
            "OCM_GQL_INTROSPECTION must be true or false (1/0, yes/no, on/off), got 'maybe'",
        ),
        (
            {"OCM_GQL_LOG_LEVEL": "loud"},
            "OCM_GQL_LOG_LEVEL must be 'debug', 'info', 'warning' or 'error', got 'loud'",
        ),
        (
            {"OCM_GQL_READERS": "0", "OCM_GQL_MAX_DEPTH": "deep"},
            "OCM_GQL_READERS must be at least 1, got '0'; "
            "OCM_GQL_MAX_DEPTH must be an integer, got 'deep'",
        ),
    ],
)
def test_bad_values_are_refused_in_one_line_naming_the_variable(
    environ: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SettingsError) as refused:
        _from(environ, monkeypatch)
    assert str(refused.value) == message


def test_a_bad_flag_is_named_as_the_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCM_GQL_PORT", "70000")  # overridden, so not the problem
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(env_file=None, port=0)
    assert str(refused.value) == "--port must be at least 1, got 0"


@pytest.mark.parametrize(
    ("raw", "value"),
    [(raw, True) for raw in ("1", "true", "YES", "on")]
    + [(raw, False) for raw in ("0", "False", "no", "off")],
)
def test_booleans_as_written_in_an_environment(
    raw: str, value: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _from({"OCM_GQL_INTROSPECTION": raw}, monkeypatch).introspection is value


def test_lists_paths_and_levels_as_written_in_an_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = _from(
        {
            "OCM_GQL_CORS_ORIGINS": " https://a.example ,https://b.example,",
            "OCM_GQL_TRUSTED_DOCUMENTS": "",
            "OCM_GQL_PLAYGROUND_ASSETS": "",
            "OCM_GQL_LOG_LEVEL": "WARNING",
        },
        monkeypatch,
    )
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    # Empty means unset, not the working directory.
    assert settings.trusted_documents is None
    assert settings.playground_assets is None
    assert settings.log_level == "warning"
    assert _from({"OCM_GQL_CORS_ORIGINS": ""}, monkeypatch).cors_origins == ()
    assert _from({"OCM_GQL_CORS_ORIGINS": "*"}, monkeypatch).cors_origins == ("*",)


def test_shown_values_hide_secrets() -> None:
    assert shown("OCM_GQL_MAX_TOKENS", 2000) == 2000  # a count, not a token
    assert shown("OCM_GQL_CORS_ORIGINS", ("a", "b")) == "a,b"
    assert shown("OCM_GQL_DB", Path("x.db")) == "x.db"
    assert shown("OCM_GQL_TRUSTED_DOCUMENTS", None) is None
    assert shown("OCM_GQL_API_TOKEN", "abc") == HIDDEN
    assert shown("OCM_GQL_SECRET", 1234) == HIDDEN
    assert shown("OCM_GQL_ADMIN_PASSWORD_FILE", "/run/pw") == HIDDEN
    assert shown("OCM_GQL_DATABASE_URL", "postgresql://ocm:s3cret@db:5432/ocm") == (
        f"postgresql://ocm:{HIDDEN}@db:5432/ocm"
    )
    assert shown("OCM_GQL_DATABASE_URL", "sqlite:///x.db") == "sqlite:///x.db"


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    for name, default in documented_settings():
        assert f"`{name}`" in readme, name
        assert f"`{default}`" in readme, (name, default)
