"""Config: validation, precedence (defaults < configure() < environment < call)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import chromeguard
from chromeguard import Config, ConfigError
from chromeguard.config import current_config


def test_defaults() -> None:
    cfg = Config()
    assert cfg.headless is True
    assert cfg.sandbox is None
    assert cfg.effective_sandbox is (os.geteuid() != 0)
    assert cfg.launch_retries == 2
    assert cfg.window_size == (1280, 720)
    assert cfg.effective_profile_root.endswith(f"chromeguard-{os.getuid()}")


@pytest.mark.parametrize(
    "options",
    [
        {"launch_retries": -1},
        {"launch_retries": 1.5},
        {"launch_timeout": 0},
        {"navigation_timeout": float("nan")},
        {"backoff_initial": 3, "backoff_max": 1},
        {"headless": "yes"},
        {"window_size": (0, 10)},
        {"window_size": "1280x720"},
        {"extra_args": "--foo"},
        {"extra_args": [1]},
        {"user_agent": ""},
        {"executable_path": 12},
    ],
)
def test_invalid_values_raise_value_error(options: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as info:
        Config(**options)  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)


def test_positional_arguments_are_refused() -> None:
    with pytest.raises(TypeError):
        Config("/usr/bin/chromium")  # type: ignore[misc]


def test_unknown_option_suggests_the_name() -> None:
    with pytest.raises(ConfigError, match="did you mean 'headless'"):
        chromeguard.configure(headles=False)


def test_frozen() -> None:
    cfg = Config()
    with pytest.raises(AttributeError):
        cfg.headless = False  # type: ignore[misc]
    assert cfg.replace(headless=False).headless is False


def test_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    assert current_config().launch_retries == 2
    chromeguard.configure(launch_retries=4, navigation_timeout=9)
    assert current_config().launch_retries == 4
    monkeypatch.setenv("CHROMEGUARD_LAUNCH_RETRIES", "6")
    assert current_config().launch_retries == 6
    assert current_config().navigation_timeout == 9
    assert chromeguard.config.resolve_config(launch_retries=1).launch_retries == 1


def test_configure_validates_before_storing() -> None:
    with pytest.raises(ConfigError):
        chromeguard.configure(launch_timeout=-1)
    assert current_config().launch_timeout == 30.0


def test_environment_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHROMEGUARD_CHROME_PATH", "/opt/chrome/chrome")
    monkeypatch.setenv("CHROMEGUARD_HEADLESS", "0")
    monkeypatch.setenv("CHROMEGUARD_SANDBOX", "1")
    monkeypatch.setenv("CHROMEGUARD_EXTRA_ARGS", "--lang=de '--user-agent=A B'")
    monkeypatch.setenv("CHROMEGUARD_WINDOW_SIZE", "800x600")
    monkeypatch.setenv("CHROMEGUARD_PROFILE_ROOT", str(tmp_path))
    cfg = current_config()
    assert cfg.executable_path == "/opt/chrome/chrome"
    assert cfg.headless is False
    assert cfg.sandbox is True
    assert cfg.extra_args == ("--lang=de", "--user-agent=A B")
    assert cfg.window_size == (800, 600)
    assert cfg.profile_root == str(tmp_path)
    monkeypatch.setenv("CHROMEGUARD_SANDBOX", "auto")
    assert current_config().sandbox is None


def test_bad_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHROMEGUARD_LAUNCH_RETRIES", "many")
    with pytest.raises(ConfigError, match="CHROMEGUARD_LAUNCH_RETRIES"):
        current_config()


def test_env_chrome_path_is_used_for_launch(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CHROMEGUARD_CHROME_PATH", str(tmp_path / "missing"))
    with pytest.raises(chromeguard.BrowserLaunchError) as info:
        chromeguard.create_browser()
    assert str(tmp_path / "missing") in str(info.value)


def test_find_chrome_prefers_the_headless_shell() -> None:
    found = chromeguard.find_chrome()
    assert found is not None
    if os.path.exists("/usr/lib/chromium/chromium-headless-shell"):
        assert found == "/usr/lib/chromium/chromium-headless-shell"
