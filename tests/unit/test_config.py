"""Settings: defaults, parsing of AIMTRACK_* variables, one-line errors and secret hygiene."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from aimtrack.config import ConfigError, load_settings

GOOD_SECRET = "k7Qv2LmX9pR4tW8yZ1bN6cD3fG5hJ0sA2eU7iO9qT4wE8rY1"  # 48 characters
SHORT_SECRET = "hunter2-very-secret"
TELEGRAM_TOKEN = "123456:telegram-token-do-not-leak"
AI_API_KEY = "sk-ai-key-do-not-leak-0123456789"


def config_error(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> ConfigError:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    return caught.value


# --- defaults ----------------------------------------------------------------------------


def test_defaults_without_any_environment() -> None:
    settings = load_settings()

    assert str(settings.telegram_base_url).rstrip("/") == "https://api.telegram.org"
    assert settings.webhook_url is None
    assert settings.data_dir == Path("data")
    assert settings.default_language == "nl"
    assert settings.timezone == "Europe/Amsterdam"
    assert settings.ai_base_url is None
    assert settings.allowed_users == frozenset()
    assert settings.telegram_token is None
    assert settings.secret_key is None
    assert settings.web_port == 8080


def test_default_database_is_sqlite_inside_the_data_directory(tmp_path: Path) -> None:
    url = load_settings().resolved_database_url

    prefix = "sqlite+aiosqlite:///"
    assert url.startswith(prefix)
    path = Path(url.removeprefix(prefix))
    assert path.is_absolute()
    assert url.endswith("data/aimtrack.db")
    assert path == tmp_path.resolve() / "data" / "aimtrack.db"


def test_data_dir_moves_the_default_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AIMTRACK_DATA_DIR", str(tmp_path / "elsewhere"))

    settings = load_settings()

    assert settings.data_dir == tmp_path / "elsewhere"
    assert settings.resolved_database_url == (
        f"sqlite+aiosqlite:///{(tmp_path / 'elsewhere' / 'aimtrack.db').resolve()}"
    )


# --- database url ------------------------------------------------------------------------


def test_database_url_overrides_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql+asyncpg://aim:pw@db.example:5432/aimtrack"
    monkeypatch.setenv("AIMTRACK_DATABASE_URL", url)

    assert load_settings().resolved_database_url == url


@pytest.mark.parametrize("value", ["", "   "])
def test_empty_database_url_means_the_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str
) -> None:
    monkeypatch.setenv("AIMTRACK_DATABASE_URL", value)

    settings = load_settings()

    assert settings.database_url is None
    assert settings.resolved_database_url == (
        f"sqlite+aiosqlite:///{tmp_path.resolve() / 'data' / 'aimtrack.db'}"
    )


@pytest.mark.parametrize(
    "name", ["AIMTRACK_WEBHOOK_URL", "AIMTRACK_PUBLIC_URL", "AIMTRACK_AI_BASE_URL"]
)
def test_empty_optional_url_means_unset(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "")

    settings = load_settings()

    assert getattr(settings, name.removeprefix("AIMTRACK_").lower()) is None
    assert settings.ai_base_url is None


@pytest.mark.parametrize(
    "name", ["AIMTRACK_TELEGRAM_TOKEN", "AIMTRACK_AI_API_KEY", "AIMTRACK_SECRET_KEY"]
)
def test_empty_secret_means_unset(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "")

    assert getattr(load_settings(), name.removeprefix("AIMTRACK_").lower()) is None


# --- allowed users -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("123, 456,,789", frozenset({123, 456, 789})),
        ("42", frozenset({42})),
        ("1;2 ; 3", frozenset({1, 2, 3})),
        ("7,7,7", frozenset({7})),
        ("", frozenset()),
        (" , ,", frozenset()),
    ],
)
def test_allowed_users_are_parsed_from_a_list(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: frozenset[int]
) -> None:
    monkeypatch.setenv("AIMTRACK_ALLOWED_USERS", value)

    assert load_settings().allowed_users == expected


@pytest.mark.parametrize("value", ["12a", "123, abc", "-5", "1.5", "@someone"])
def test_malformed_allowed_users_are_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    error = config_error(monkeypatch, "AIMTRACK_ALLOWED_USERS", value)

    assert "AIMTRACK_ALLOWED_USERS" in str(error)
    assert "\n" not in str(error)


# --- malformed settings ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AIMTRACK_WEB_PORT", "abc"),
        ("AIMTRACK_WEB_PORT", "70000"),
        ("AIMTRACK_WEB_PORT", "0"),
        ("AIMTRACK_TIMEZONE", "Mars/Base"),
        ("AIMTRACK_DEFAULT_LANGUAGE", "fr"),
        ("AIMTRACK_AI_TIMEOUT_S", "-1"),
        ("AIMTRACK_AI_TIMEOUT_S", "0"),
        ("AIMTRACK_AI_TIMEOUT_S", "3601"),
        ("AIMTRACK_TELEGRAM_BASE_URL", "not a url"),
        ("AIMTRACK_WEBHOOK_URL", "ftp://example.org/hook"),
        ("AIMTRACK_AI_VISION", "maybe"),
        ("AIMTRACK_REMINDER_SCAN_S", "0"),
        ("AIMTRACK_REMINDER_SCAN_S", "3601"),  # a scan an hour at least, in a 10-hour window
    ],
)
def test_malformed_setting_gives_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    message = str(config_error(monkeypatch, name, value))

    assert "\n" not in message
    assert message.startswith("invalid configuration:")
    assert name in message


def test_several_malformed_settings_are_all_named_on_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIMTRACK_WEB_PORT", "abc")
    monkeypatch.setenv("AIMTRACK_TIMEZONE", "Mars/Base")

    with pytest.raises(ConfigError) as caught:
        load_settings()

    message = str(caught.value)
    assert "\n" not in message
    assert "AIMTRACK_WEB_PORT" in message
    assert "AIMTRACK_TIMEZONE" in message


@pytest.mark.parametrize(
    ("name", "value", "attribute", "expected"),
    [
        ("AIMTRACK_WEB_PORT", "1", "web_port", 1),
        ("AIMTRACK_WEB_PORT", "65535", "web_port", 65535),
        ("AIMTRACK_TIMEZONE", "UTC", "timezone", "UTC"),
        ("AIMTRACK_TIMEZONE", "America/New_York", "timezone", "America/New_York"),
        ("AIMTRACK_DEFAULT_LANGUAGE", "en", "default_language", "en"),
        ("AIMTRACK_AI_TIMEOUT_S", "2.5", "ai_timeout_s", 2.5),
        ("AIMTRACK_AI_VISION", "true", "ai_vision", True),
        ("AIMTRACK_AI_VISION", "0", "ai_vision", False),
        ("AIMTRACK_REMINDER_SCAN_S", "60", "reminder_scan_s", 60.0),
        ("AIMTRACK_REMINDER_SCAN_S", "3600", "reminder_scan_s", 3600.0),
    ],
)
def test_well_formed_setting_is_read(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, attribute: str, expected: object
) -> None:
    monkeypatch.setenv(name, value)

    assert getattr(load_settings(), attribute) == expected


def test_custom_bot_api_server_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIMTRACK_TELEGRAM_BASE_URL", "http://localhost:8081")

    assert str(load_settings().telegram_base_url).rstrip("/") == "http://localhost:8081"


# --- AI ----------------------------------------------------------------------------------


@pytest.mark.parametrize("model", [None, "", "   "])
def test_ai_base_url_without_a_model_is_refused(
    monkeypatch: pytest.MonkeyPatch, model: str | None
) -> None:
    if model is not None:
        monkeypatch.setenv("AIMTRACK_AI_MODEL", model)

    message = str(config_error(monkeypatch, "AIMTRACK_AI_BASE_URL", "http://localhost:11434/v1"))

    assert "AIMTRACK_AI_MODEL" in message
    assert message.startswith("invalid configuration:")
    assert "\n" not in message


def test_ai_base_url_with_a_model_enables_ai(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIMTRACK_AI_BASE_URL", "http://localhost:11434/v1")
    monkeypatch.setenv("AIMTRACK_AI_MODEL", "llama3.2")

    settings = load_settings()

    assert settings.ai_base_url is not None
    assert settings.ai_model == "llama3.2"


def test_ai_model_alone_does_not_enable_ai(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIMTRACK_AI_MODEL", "llama3.2")

    assert load_settings().ai_base_url is None


# --- secrets -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["changeme", "CHANGEME", "change-me", "secret", "please-change-me", "  changeme  "]
)
def test_placeholder_secret_key_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    message = str(config_error(monkeypatch, "AIMTRACK_SECRET_KEY", value))

    assert "AIMTRACK_SECRET_KEY" in message
    assert "\n" not in message


@pytest.mark.parametrize("value", [SHORT_SECRET, "x" * 31])
def test_short_secret_key_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    message = str(config_error(monkeypatch, "AIMTRACK_SECRET_KEY", value))

    assert "AIMTRACK_SECRET_KEY" in message
    assert "32" in message


@pytest.mark.parametrize("value", [GOOD_SECRET, "x" * 32])
def test_strong_secret_key_is_accepted(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("AIMTRACK_SECRET_KEY", value)

    secret = load_settings().secret_key

    assert secret is not None
    assert secret.get_secret_value() == value


def test_refused_secret_key_is_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    error = config_error(monkeypatch, "AIMTRACK_SECRET_KEY", SHORT_SECRET)

    assert SHORT_SECRET not in str(error)
    assert SHORT_SECRET not in repr(error)


def test_refused_secret_key_is_not_echoed_with_other_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIMTRACK_WEB_PORT", "abc")

    error = config_error(monkeypatch, "AIMTRACK_SECRET_KEY", SHORT_SECRET)

    assert "AIMTRACK_WEB_PORT" in str(error)
    assert "AIMTRACK_SECRET_KEY" in str(error)
    assert SHORT_SECRET not in str(error)


def test_secrets_do_not_appear_in_repr_or_str(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIMTRACK_SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv("AIMTRACK_TELEGRAM_TOKEN", TELEGRAM_TOKEN)
    monkeypatch.setenv("AIMTRACK_AI_API_KEY", AI_API_KEY)

    settings = load_settings()

    for shown in (repr(settings), str(settings)):
        assert GOOD_SECRET not in shown
        assert TELEGRAM_TOKEN not in shown
        assert AI_API_KEY not in shown
    assert settings.telegram_token is not None
    assert settings.telegram_token.get_secret_value() == TELEGRAM_TOKEN
    assert settings.ai_api_key is not None
    assert settings.ai_api_key.get_secret_value() == AI_API_KEY


# --- .env file ---------------------------------------------------------------------------


def test_settings_are_read_from_a_dotenv_file_in_the_working_directory() -> None:
    Path(".env").write_text(
        "AIMTRACK_WEB_PORT=9999\nAIMTRACK_ALLOWED_USERS=11,22\n", encoding="utf-8"
    )

    settings = load_settings()

    assert settings.web_port == 9999
    assert settings.allowed_users == frozenset({11, 22})


def test_real_environment_variable_wins_over_dotenv(monkeypatch: pytest.MonkeyPatch) -> None:
    Path(".env").write_text("AIMTRACK_WEB_PORT=9999\n", encoding="utf-8")
    monkeypatch.setenv("AIMTRACK_WEB_PORT", "1234")

    assert load_settings().web_port == 1234


def test_malformed_dotenv_value_names_the_variable() -> None:
    Path(".env").write_text("AIMTRACK_WEB_PORT=abc\n", encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_settings()

    assert "AIMTRACK_WEB_PORT" in str(caught.value)


def test_unknown_dotenv_entries_are_ignored() -> None:
    Path(".env").write_text("OTHER_APP_SETTING=1\nAIMTRACK_UNKNOWN=2\n", encoding="utf-8")

    assert load_settings().web_port == 8080


# --- immutability ------------------------------------------------------------------------


@pytest.mark.parametrize(("attribute", "value"), [("web_port", 1), ("timezone", "UTC")])
def test_settings_are_frozen(attribute: str, value: object) -> None:
    settings = load_settings()

    with pytest.raises(ValidationError):
        setattr(settings, attribute, value)
    assert getattr(settings, attribute) != value


# --- regressions found in review ---------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "²", "١٢٣", "12,0"])
def test_allowed_users_are_positive_ascii_numbers(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    error = config_error(monkeypatch, "AIMTRACK_ALLOWED_USERS", value)
    assert "AIMTRACK_ALLOWED_USERS" in str(error)
    assert "is not a Telegram user id" in str(error)


def test_a_blank_secret_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    error = config_error(monkeypatch, "AIMTRACK_SECRET_KEY", " " * 40)
    assert "AIMTRACK_SECRET_KEY" in str(error)


def test_a_refused_secret_is_not_reachable_from_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    error = config_error(monkeypatch, "AIMTRACK_SECRET_KEY", SHORT_SECRET)
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None:
        chain.append(current)
        current = current.__cause__ or current.__context__
    assert all(SHORT_SECRET not in repr(link) and SHORT_SECRET not in str(link) for link in chain)


def test_database_url_is_secret_but_still_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql+asyncpg://aimtrack:S3cretPw@db:5432/aimtrack"
    monkeypatch.setenv("AIMTRACK_DATABASE_URL", url)
    settings = load_settings()
    assert "S3cretPw" not in repr(settings)
    assert "S3cretPw" not in str(settings)
    assert settings.resolved_database_url == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgres://u:p@h/db", "uses the driver 'postgres'"),
        ("postgresql://u:p@h/db", "uses the driver 'postgresql'"),
        ("mysql+aiomysql://u:p@h/db", "uses the driver 'mysql+aiomysql'"),
        ("not a url", "is not a database URL"),
    ],
)
def test_unsupported_database_urls_are_explained(
    monkeypatch: pytest.MonkeyPatch, url: str, reason: str
) -> None:
    error = config_error(monkeypatch, "AIMTRACK_DATABASE_URL", url)
    assert f"AIMTRACK_DATABASE_URL: {reason}" in str(error)
    assert "postgresql+asyncpg://" in str(error)


@pytest.mark.parametrize("zone", ["Europe", "America"])
def test_a_time_zone_folder_is_a_config_error(monkeypatch: pytest.MonkeyPatch, zone: str) -> None:
    error = config_error(monkeypatch, "AIMTRACK_TIMEZONE", zone)
    assert "AIMTRACK_TIMEZONE: unknown time zone" in str(error)
