import re
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.support.corpus import ROOT


def test_env_example_documents_every_setting():
    documented = set(re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(encoding="utf-8"), re.M))
    assert documented == {name.upper() for name in Settings.model_fields}


def test_env_example_defaults_match_the_code(monkeypatch):
    values = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.startswith("#")
    )
    for key in values:
        monkeypatch.delenv(key, raising=False)
    defaults = Settings(_env_file=None).model_dump()
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    assert Settings(_env_file=None).model_dump() == defaults


def test_admin_ids_accept_commas(monkeypatch):
    monkeypatch.setenv("ADMIN_USER_IDS", "12, 34;56")
    assert Settings(_env_file=None).admin_user_ids == [12, 34, 56]


def test_flags_build_matching_params(monkeypatch):
    monkeypatch.setenv("CHUNK_TARGET_WORDS", "70")
    monkeypatch.setenv("BM25_K1", "1.5")
    monkeypatch.setenv("INDEX_DIR", "/tmp/somewhere")
    s = Settings(_env_file=None)
    assert s.chunk_params().target_words == 70 and s.lexical_params().k1 == 1.5
    assert s.index_dir == Path("/tmp/somewhere")
    assert s.build_config().chunking.target_words == 70


def test_invalid_settings_are_named_not_traced(monkeypatch, capsys, tmp_path):
    from bot.__main__ import main as bot_main
    from bot.settings import SettingsError
    from bot.settings import load_bot_settings as load_settings

    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("ADMIN_USER_IDS", "12,abc")
    monkeypatch.setenv("WEBHOOK_PORT", "eighty")
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert "ADMIN_USER_IDS" in str(err.value) and "WEBHOOK_PORT" in str(err.value)
    assert bot_main([]) == 2
    assert "WEBHOOK_PORT" in capsys.readouterr().err


def test_settings_that_contradict_each_other_are_refused(monkeypatch, tmp_path):
    from bot.settings import SettingsError
    from bot.settings import load_bot_settings as load_settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MIN_CONFIDENCE", "0.5")
    monkeypatch.setenv("SURE_CONFIDENCE", "0.2")
    with pytest.raises(SettingsError, match="SURE_CONFIDENCE"):
        load_settings()
    monkeypatch.delenv("SURE_CONFIDENCE")
    monkeypatch.delenv("MIN_CONFIDENCE")
    monkeypatch.setenv("INDEX_WATCH_SECONDS", "0.01")  # would poll the disk in a tight loop
    with pytest.raises(SettingsError, match="INDEX_WATCH_SECONDS"):
        load_settings()


# ------------------------------------------------------------------ red-team findings of 2026-12 (docs/reliability.md)


def test_a_log_level_that_does_not_exist_is_one_line_not_a_traceback(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "LOG_LEVEL": "verbose", "INDEX_DIR": str(tmp_path / "none")}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--console"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, input=""
    )
    assert done.returncode != 0 and "LOG_LEVEL" in done.stderr and "Traceback" not in done.stderr
    assert "DEBUG, INFO, WARNING, ERROR, CRITICAL" in done.stderr


def test_secrets_lose_the_whitespace_of_a_paste():
    settings = Settings(_env_file=None, telegram_bot_token="123456:ABCdef-ghi\n", webhook_secret=" abcdefghijklmnopq\r\n")
    assert settings.telegram_bot_token.get_secret_value() == "123456:ABCdef-ghi"
    assert settings.webhook_secret.get_secret_value() == "abcdefghijklmnopq"


async def test_a_token_pasted_with_a_newline_reaches_the_bot_api(tmp_path):
    """It gave "cannot reach the Bot API … check the network": the raw value, newline and all, was used."""
    from bot.app import build_application
    from bot.service import QAService
    from tests.support.botkit import make_settings
    from tests.support.fake_telegram import FakeTelegram

    async with FakeTelegram() as fake:
        app = build_application(
            make_settings(fake, tmp_path, telegram_bot_token=fake.token + "\n"), QAService(make_settings(fake, tmp_path), None)
        )
        async with app:  # initialize() asks getMe
            assert app.bot.username == fake.bot_username


def test_the_engine_settings_defaults_are_the_engines_own():
    """index/settings.py spells the defaults as literals (so importing it loads no engine code); they must agree."""
    from index.build import BuildConfig
    from index.search.searcher import SearchParams
    from index.settings import EngineSettings

    engine = EngineSettings(_env_file=None)
    assert engine.build_config() == BuildConfig()
    assert engine.search_params() == SearchParams()


def test_importing_the_engine_settings_loads_almost_no_engine_code():
    import subprocess
    import sys

    code = "import sys, index.settings; print(sorted(m for m in sys.modules if m == 'index' or m.startswith('index.')))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    modules = eval(loaded)  # a list literal printed by the child
    assert len(modules) <= 10, modules


def test_the_bot_settings_extend_the_engines():
    from index.settings import EngineSettings

    engine_only = set(EngineSettings.model_fields)
    assert engine_only < set(Settings.model_fields)
    assert {"telegram_bot_token", "admin_user_ids", "webhook_secret", "index_channels"}.isdisjoint(engine_only)


def test_the_configuration_page_lists_every_setting_and_only_settings():
    """docs/configuration.md against both settings classes: the engine's under the engine's headings, the bot's apart."""
    import re

    from index.settings import EngineSettings

    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    engine_part, bot_part = page.split("\n## The bot\n")
    names = lambda part: {n for row in re.findall(r"^\| (`[^|]+) \|", part, re.M) for n in re.findall(r"`([A-Z0-9_]+)`", row)}  # noqa: E731
    assert names(engine_part) == {f.upper() for f in EngineSettings.model_fields}
    assert names(bot_part) == {f.upper() for f in Settings.model_fields} - {f.upper() for f in EngineSettings.model_fields}


def test_the_readme_is_a_front_door_with_both_quick_start_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "scripts/demo.sh" in readme and "scripts/test.sh" in readme
    assert len(readme) <= 12_000
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "scripts/test.sh" in ci, "CI runs the README's test command"
