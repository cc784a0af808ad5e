from __future__ import annotations

from pathlib import Path

import pytest

from gql.settings import Settings, SettingsError, documented_settings
from tests.conftest import REPO_ROOT


def test_reads_prefixed_environment_variables() -> None:
    settings = Settings.from_env(
        {"OCM_GQL_DB": "/data/x.db", "OCM_GQL_MAX_PAGE_SIZE": "50", "OCM_GQL_HOST": "0.0.0.0"}
    )
    assert settings.db == Path("/data/x.db")
    assert settings.max_page_size == 50
    assert settings.host == "0.0.0.0"
    assert settings.port == 8000


def test_flags_override_the_environment() -> None:
    settings = Settings.from_env({"OCM_GQL_PORT": "9000"}, port=9100, host=None)
    assert settings.port == 9100
    assert settings.host == "127.0.0.1"


@pytest.mark.parametrize(
    "environ",
    [
        {"OCM_GQL_PORT": "eighty"},
        {"OCM_GQL_PORT": "0"},
        {"OCM_GQL_MAX_PAGE_SIZE": "0"},
        {"OCM_GQL_DEFAULT_PAGE_SIZE": "500", "OCM_GQL_MAX_PAGE_SIZE": "100"},
        {"OCM_GQL_READERS": "0"},
    ],
)
def test_bad_values_are_refused(environ: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        Settings.from_env(environ)


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    for name, default in documented_settings():
        assert f"`{name}`" in readme, name
        assert f"`{default}`" in readme, (name, default)
