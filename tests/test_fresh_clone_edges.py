"""What a new user hits on a fresh clone: every expected failure one clear line, bad values refused,
reports people can read, a console that behaves like the bot, quiet logs, the CPU build of torch."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
from importlib import metadata

import pytest

from bot.console import run_console
from index.__main__ import main as cli
from index.build import BuildError, run_build
from index.layout import IndexLayout
from index.results import Hit, Passage, SearchResult
from index.storage.loading import open_index
from index.tools.evaluate import format_table, score_results
from tests.support.corpus import CORPUS, ROOT, SAMPLES, write_jsonl

CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def clean_env(tmp_path, **values: str) -> dict[str, str]:
    """A new user's environment: no settings but the ones given, no .env read from the user's home."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **values}


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr[-3000:]
    assert lines and lines[-1].startswith("error: "), stderr[-3000:]
    return lines[-1]


# ------------------------------------------------------------------ 1. PyTorch's CPU build


def test_setup_installs_torch_from_pytorchs_cpu_index():
    script = (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert CPU_INDEX in script and "--index-url" in script
    # a blip is retried a few times; an unreachable index is given up on quickly (short timeout), not hung on
    assert "--retries 3" in script and "--timeout 15" in script


def cuda_build_signs(version: str, cuda: str | None, distributions: list[str]) -> list[str]:
    """Why an installed torch is a CUDA build: its version, its CUDA runtime, NVIDIA wheels beside it."""
    signs = []
    if cuda is not None:
        signs.append(f"torch.version.cuda is {cuda}")
    if "+cpu" not in version:
        signs.append(f"torch {version} has no +cpu tag")
    nvidia = sorted(d for d in distributions if d.lower().startswith("nvidia-"))
    if nvidia:
        signs.append("NVIDIA packages installed: " + ", ".join(nvidia[:5]))
    return signs


def test_the_check_tells_a_cuda_build():
    assert cuda_build_signs("2.13.0+cpu", None, ["numpy", "faiss-cpu"]) == []
    assert len(cuda_build_signs("2.13.0", "12.8", ["nvidia-cublas-cu12", "numpy"])) == 3


def test_installed_torch_is_the_cpu_build():
    if "TORCH_INDEX" in os.environ and not os.environ["TORCH_INDEX"].rstrip("/").endswith("/cpu"):
        pytest.skip("TORCH_INDEX chooses a non-CPU build of torch")
    try:
        version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        pytest.skip("torch is not installed")
    import torch

    distributions = [d.metadata["Name"] or "" for d in metadata.distributions()]
    assert cuda_build_signs(version, torch.version.cuda, distributions) == []


# ------------------------------------------------------------------ 2. no tracebacks for expected failures


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_bot_api_is_one_line_after_the_retries(tmp_path):
    base = f"http://127.0.0.1:{closed_port()}/bot"
    env = clean_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN="123456789:AAFakeTokenForTests_x",
        TELEGRAM_API_BASE_URL=base,
        TELEGRAM_NETWORK_RETRIES="1",
        INDEX_DIR=str(tmp_path / "ix"),
    )
    done = subprocess.run([sys.executable, "-m", "bot"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    line = one_error_line(done.stderr)
    assert f"cannot reach the Bot API at {base}" in line and "TELEGRAM_API_BASE_URL" in line
    assert "getMe failed (attempt 1), retrying" in done.stderr  # the retries are kept
    assert "faiss.loader" not in done.stderr and "ModuleNotFoundError" not in done.stderr  # 6. quiet logs


@pytest.mark.parametrize("command", ["build", "update", "search", "stats"])
def test_index_pointing_at_a_file_is_one_line(command, tmp_path, capsys):
    file = tmp_path / "notes.txt"
    file.write_text("not an index", encoding="utf-8")
    args = {"build": ["--articles", str(SAMPLES)], "update": ["--articles", str(SAMPLES)], "search": ["سؤال"], "stats": []}
    assert cli([command, "--index", str(file), "-q", *args[command]]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a file, not an index directory" in err and "--index" in err
    assert file.read_text(encoding="utf-8") == "not an index"


def test_index_below_a_file_is_one_line(tmp_path):
    from index.storage.store import NotAnIndexDir

    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(NotAnIndexDir, match="--index"):
        open_index(tmp_path / "file" / "ix")
    with pytest.raises(NotAnIndexDir, match="--index"):
        run_build([SAMPLES], tmp_path / "file" / "ix", progress=False)


class Terminal(io.StringIO):
    """Standard input that says it is a terminal; reading it directly (bypassing readline) is a bug."""

    def isatty(self) -> bool:
        return True

    def readline(self, *args) -> str:
        raise AssertionError("in a terminal the console reads lines through input() and readline")


def test_ctrl_c_in_the_console_exits_quietly(searcher, monkeypatch):
    def interrupted(prompt: str = "") -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr("builtins.input", interrupted)
    out = io.StringIO()
    assert run_console(searcher, stdin=Terminal(), stdout=out) == 130


def test_ctrl_c_in_python_m_bot_console_has_no_traceback(built_index, tmp_path):
    env = clean_env(tmp_path, INDEX_DIR=str(built_index))
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "--console"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a test run started in the background inherits SIGINT ignored, and Python then installs no
        # KeyboardInterrupt handler: give the child the terminal's default, as a user's shell does
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        proc.stdin.write("قطار الحرمين\n")
        proc.stdin.flush()
        first = proc.stdout.readline()  # the question echoed: the reply is printed, the console waits for the next line
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)  # exits on the signal itself, not on the end of input that communicate() sends
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.returncode is None:
            proc.kill()
    assert first.startswith("س: قطار الحرمين")
    assert proc.returncode == 130 and "Traceback" not in err and "KeyboardInterrupt" not in err, err[-3000:]


# ------------------------------------------------------------------ 3. bad values refused


@pytest.mark.parametrize("k", ["0", "-3"])
def test_search_k_below_one_is_refused(k, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli(["search", "--k", k, "سؤال"])
    assert exit_.value.code == 2
    assert "--k: must be 1 or more" in capsys.readouterr().err


def test_garbage_current_is_reported_and_the_newest_build_served(tmp_path, counting, caplog):
    articles = write_jsonl(tmp_path / "a" / "n.jsonl", CORPUS[:2])
    report = run_build([articles], tmp_path / "ix", embedder=counting, progress=False)
    for garbage in (b"garbage\n", b"\xff\xfe\x00not text"):
        IndexLayout(tmp_path / "ix").current.write_bytes(garbage)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="index.storage.store"):
            assert open_index(tmp_path / "ix").build_id == report.build_id
        assert any("CURRENT names no build" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        ({"articles": "nope"}, '"articles" is a string'),
        ("just text", "holds a string"),
        ({"data": [{"title": "t", "text": "x"}]}, "no text"),
    ],
)
def test_json_of_the_wrong_shape_says_what_was_expected(content, kind, tmp_path):
    from index.corpus.articles import load_articles

    path = tmp_path / "a.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    loaded = load_articles([path])
    (problem,) = loaded.problems
    assert kind in problem.reason and '{"articles": [...]}' in problem.reason and "item 0" not in problem.reason


def test_failed_first_build_leaves_nothing_and_names_the_file_types(tmp_path, counting):
    (tmp_path / "empty").mkdir()
    target = tmp_path / "var" / "ix"
    with pytest.raises(BuildError) as info:
        run_build([tmp_path / "empty"], target, embedder=counting, progress=False)
    assert ".jsonl" in str(info.value) and ".html" in str(info.value) and ".txt" in str(info.value)
    assert not (tmp_path / "var").exists()


def test_failed_build_keeps_an_existing_index(tmp_path, counting):
    articles = write_jsonl(tmp_path / "a" / "n.jsonl", CORPUS[:2])
    first = run_build([articles], tmp_path / "ix", embedder=counting, progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(BuildError):
        run_build([tmp_path / "empty"], tmp_path / "ix", embedder=counting, progress=False)
    assert open_index(tmp_path / "ix").build_id == first.build_id


# ------------------------------------------------------------------ 4. reports people can read


def test_update_lists_articles_by_title_and_file(tmp_path, capsys):
    articles = write_jsonl(tmp_path / "a" / "n.jsonl", CORPUS[:4])
    assert cli(["build", "-q", "--articles", str(articles), "--index", str(tmp_path / "ix")]) == 0
    write_jsonl(articles, CORPUS[1:5])
    capsys.readouterr()
    assert cli(["update", "-q", "--articles", str(articles), "--index", str(tmp_path / "ix")]) == 0
    out = capsys.readouterr().out
    added = next(line for line in out.splitlines() if CORPUS[4]["title"] in line)
    removed = next(line for line in out.splitlines() if CORPUS[0]["title"] in line)
    assert str(articles) in added and str(articles) in removed
    assert out.index("added: 1") < out.index(added) < out.index("removed: 1") < out.index(removed)


def test_update_without_an_index_says_it_is_a_full_build(tmp_path, capsys):
    articles = write_jsonl(tmp_path / "a" / "n.jsonl", CORPUS[:2])
    assert cli(["update", "-q", "--articles", str(articles), "--index", str(tmp_path / "ix")]) == 0
    assert "this update was a full build" in capsys.readouterr().out


def _hit(article_id: str) -> Hit:
    return Hit(1, article_id, "t", "s", "", "", 1.0, Passage(1, "", 0, 0, 1.0))


def test_eval_scores_unanswerable_questions_apart():
    questions = [
        {"question": "q1", "relevant_article_ids": ["a"], "answers": []},
        {"question": "q2", "relevant_article_ids": ["b"], "answers": []},
        {"question": "q3", "relevant_article_ids": [], "answers": []},
    ]
    results = [
        SearchResult("q1", "hybrid", [_hit("a")]),
        SearchResult("q2", "hybrid", [_hit("b")]),
        SearchResult("q3", "hybrid", [], no_answer=True),
    ]
    m = score_results(questions, results)
    assert m["article_hit@1"] == 1.0 and m["mrr@10"] == 1.0 and m["answerable"] == 2
    assert m["unanswerable"] == 1 and m["unanswerable_refused"] == 1 and m["no_answer"] == 1
    table = format_table([{**m, "mode": "hybrid", "latency_ms_p50": 1.0, "latency_ms_p95": 2.0}])
    assert "| 1/1 |" in table and "2 answerable questions" in table


# ------------------------------------------------------------------ 5. the console behaves like the bot


def test_console_commands_get_the_bots_replies(searcher):
    out = io.StringIO()
    run_console(searcher, stdin=io.StringIO("/start\n/help\nقطار الحرمين\n/stats\n/reindex\n"), stdout=out)
    text = out.getvalue()
    assert "أهلاً" in text and "في الأرشيف 6 أخبار" in text  # /start
    assert "كيف أستخدم البوت؟" in text and "<b>" not in text and "/reindex" in text  # /help, admin part, plain text
    assert "إحصاءات" in text and "أسئلة أُجيب عنها: 1" in text  # /stats counts the question asked
    assert "/reindex: not in the console" in text
    assert text.count("لم أجد في الأخبار") == 0  # no command was taken for a question


def test_console_reads_a_terminal_through_readline(searcher, monkeypatch):
    lines = iter(["قطار الحرمين", "/help"])

    def typed(prompt: str = "") -> str:
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr("builtins.input", typed)
    out = io.StringIO()
    assert run_console(searcher, stdin=Terminal(), stdout=out) == 0
    assert "readline" in sys.modules and "قطار الحرمين" in out.getvalue() and "كيف أستخدم البوت؟" in out.getvalue()


# ------------------------------------------------------------------ 6. quiet logs


def test_cli_keeps_faiss_loader_lines_out_even_when_verbose(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "index", "search", "-v", "--index", str(tmp_path / "none"), "سؤال"],
        cwd=ROOT,
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1 and "no index in" in one_error_line(done.stderr)
    assert "faiss.loader" not in done.stderr and "ModuleNotFoundError" not in done.stderr
