"""Run the tests written for the red-team findings of 2026-12 against the commit they were found on, and against now.

Each finding of issue 21 has tests that must fail on the commit the red team attacked
(17f8fbf) and pass after the fix. This script checks both sides in one run:

1. a git worktree of ``--baseline`` (17f8fbf), with the ``tests/`` folder of ``--tests-from``
   (the fixing commit, HEAD by default) laid over it, runs the findings' tests;
2. the same tests run on ``--tests-from`` itself;
3. optionally (``--mutants``), the three breakages of ``index/store.py`` that an audit found the old
   suite let through are applied one at a time, and the store's tests must fail for each.

Prints one table (finding, test, baseline, now) and, with ``--write``, replaces the "Findings of
2026-12 against 17f8fbf" section of docs/reliability.md with it. Needs no shared data.

    .venv/bin/python -m bench.findings [--baseline 17f8fbf] [--tests-from HEAD] [--mutants] [--write]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from bench.worktrees import short, tree_env, worktree

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "reliability.md"
SECTION = "## Findings of 2026-12 against 17f8fbf"

# finding -> the tests that reproduce it (pytest node ids, relative to tests/)
FINDINGS: list[tuple[str, list[str]]] = [
    (
        "1 an upload under an earlier upload's name replaced it",
        [
            "test_uploads.py::test_a_second_upload_under_the_same_name_keeps_the_first_and_asks_before_dropping",
            "test_uploads.py::test_replace_drops_the_earlier_file_after_the_admin_says_so",
            "test_uploads.py::test_the_same_name_with_every_earlier_article_replaces_it_quietly",
            "test_uploads.py::test_the_newest_upload_of_an_article_wins_whatever_its_name",
            "test_uploads.py::test_uploads_lists_every_file_with_its_articles",
            "test_uploads.py::test_uploads_are_never_overwritten_and_sort_by_time",
            "test_articles.py::test_a_later_file_replaces_an_earlier_copy_of_an_article",
        ],
    ),
    (
        "2 an update from another folder emptied the index",
        [
            "test_removal_guard.py::test_an_update_from_another_folder_is_refused_until_confirmed",
            "test_removal_guard.py::test_every_article_of_a_folder_not_given_is_refused_even_below_half",
            "test_removal_guard.py::test_sources_are_recorded_resolved",
            "test_removal_guard.py::test_the_share_is_a_setting",
            "test_removal_guard.py::test_an_upload_to_the_bot_cannot_empty_an_index_built_elsewhere",
            "test_removal_guard.py::test_reindex_on_the_wrong_folder_is_refused_and_can_be_cancelled",
            "test_removal_guard.py::test_a_refused_channel_batch_keeps_its_posts_and_tells_the_admins_once",
        ],
    ),
    (
        "3 a channel post arriving on a full disk was lost",
        ["test_bot_channels.py::test_a_post_that_cannot_be_written_waits_and_is_indexed_later"],
    ),
    (
        "4 an upload during a command-line build was never indexed",
        [
            "test_uploads.py::test_an_upload_while_the_command_line_holds_the_lock_is_indexed_when_it_ends",
            "test_uploads.py::test_an_update_gives_up_on_a_lock_held_too_long_and_says_so",
        ],
    ),
    (
        "5 a long URL turned a reply into dozens of messages",
        [
            "test_flooding.py::test_an_article_with_a_5000_character_url_gets_a_one_message_reply",
            "test_flooding.py::test_length_is_what_telegram_counts_not_the_html_source",
            "test_flooding.py::test_a_link_is_never_split_across_messages",
            "test_flooding.py::test_full_passage_presses_count_against_a_limit_of_their_own",
            "test_flooding.py::test_an_inline_result_keeps_title_outlet_and_date_whatever_the_url",
            "test_flooding.py::test_titles_are_clipped_in_replies",
        ],
    ),
    (
        "6 a slow-dripping server held a fetch run",
        [
            "test_fetch.py::test_a_response_that_runs_past_its_deadline_is_not_retried",
            "test_fetch.py::test_a_fetch_run_stops_at_its_time_budget_and_leaves_the_rest_for_the_next",
            "test_fetch.py::test_an_unfinished_listing_is_read_again_after_a_budget_stop",
        ],
    ),
    (
        "7 the webhook read whole unauthenticated bodies",
        [
            "test_webhook.py::test_a_body_without_the_secret_is_refused_before_it_is_read",
            "test_webhook.py::test_a_body_over_the_cap_is_refused_with_the_secret_too",
            "test_webhook.py::test_an_update_with_the_secret_is_answered",
        ],
    ),
    (
        "8 an upload was downloaded whole before its size was checked",
        ["test_uploads.py::test_an_upload_is_streamed_and_cut_at_the_size_limit"],
    ),
    (
        "9 a damaged embeddings cache blocked every build",
        ["test_faults.py::test_a_damaged_embeddings_cache_is_moved_aside_and_rebuilt"],
    ),
    (
        "10 an informative channel check stopped the bot",
        ["test_bot_channels.py::test_a_channel_check_that_fails_in_any_way_never_stops_the_bot"],
    ),
    ("11 a full disk while caching gave a traceback", ["test_faults.py::test_a_full_disk_while_caching_is_one_line"]),
    (
        "12 configuration slips",
        [
            "test_settings.py::test_a_log_level_that_does_not_exist_is_one_line_not_a_traceback",
            "test_settings.py::test_secrets_lose_the_whitespace_of_a_paste",
            "test_settings.py::test_a_token_pasted_with_a_newline_reaches_the_bot_api",
            "test_webhook.py::test_a_short_webhook_secret_is_refused_at_start_with_how_to_make_one",
            "test_bot_units.py::test_redactor",
            "test_webhook.py::test_a_body_that_is_not_an_update_gets_400_without_a_traceback",
            "test_fetch.py::test_sources_with_another_scheme_say_only_http_and_https",
        ],
    ),
    (
        "13 long upload names lost their suffix; a nameless file was read as text",
        [
            "test_uploads.py::test_a_long_arabic_name_keeps_its_suffix",
            "test_uploads.py::test_a_file_with_no_name_is_read_by_its_type_or_refused",
            "test_uploads.py::test_safe_filename",
        ],
    ),
    ("14 special address ranges passed the SSRF guard", ["test_fetch.py::test_special_ranges_are_refused"]),
    (
        "15 a feed with a DOCTYPE subset was taken for HTML",
        ["test_feeds.py::test_a_feed_whose_doctype_has_an_internal_subset_is_a_feed_and_its_entities_stay_unexpanded"],
    ),
    ("16 two /reindex at once both started", ["test_bot_e2e.py::test_two_reindex_commands_at_once_start_one_update"]),
    (
        "store: the swap's promises (pass on both: they guard against the mutants below)",
        [
            "test_store.py::test_current_changes_only_by_renaming_a_finished_file",
            "test_store.py::test_a_build_is_complete_in_its_place_before_current_names_it",
            "test_store.py::test_cleanup_never_removes_the_live_build",
        ],
    ),
]

# The three breakages of index/store.py that the old suite let through: (name, text, replacement).
MUTANTS = [
    (
        "CURRENT written in place",
        '    write_atomically(layout.current, build_id + "\\n", aside=layout.next_current(str(os.getpid())))',
        '    layout.current.write_text(build_id + "\\n", encoding="utf-8")',
    ),
    (
        "CURRENT names the build before its directory is in place",
        "    os.replace(tmp.root, final)\n    _fsync_dir(layout.builds)\n    set_current(index_dir, manifest.build_id)",
        "    set_current(index_dir, manifest.build_id)\n    os.replace(tmp.root, final)\n    _fsync_dir(layout.builds)",
    ),
    ("cleanup deletes the live build", "        if name not in needed:\n", "        if True:\n"),
]


def run_tests(tree: Path, tests: list[str], label: str) -> dict[str, str]:
    """Run ``tests`` in ``tree`` with its own code, and only it, importable; test id -> passed | failed | error | skipped."""
    report = tree / f".findings-{label}.xml"
    env = tree_env(tree)
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", *[f"tests/{t}" for t in tests]],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    results: dict[str, str] = {}
    if report.exists():
        for case in ET.parse(report).getroot().iter("testcase"):
            name = f"{Path(case.get('classname', '').replace('.', '/')).name}.py::{case.get('name')}"
            outcome = "passed"
            for child in case:
                if child.tag in ("failure", "error", "skipped"):
                    outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[child.tag]
            results[name] = outcome
        report.unlink()
    return results


def outcome_of(results: dict[str, str], test: str) -> str:
    """A test's outcome, several parameters folded into one (all passed, or the first that did not)."""
    found = [v for k, v in results.items() if k == test or k.startswith(test + "[")]
    if not found:
        return "not collected"  # e.g. the test file failed to import on the old code
    bad = [v for v in found if v != "passed"]
    return bad[0] if bad else "passed"


def mutant_results(tree: Path) -> list[tuple[str, str]]:
    store = next(p for p in (tree / "index" / "storage" / "store.py", tree / "index" / "store.py") if p.exists())
    original = store.read_text(encoding="utf-8")
    rows = []
    for name, old, new in MUTANTS:
        if old not in original:
            rows.append((name, "not applicable at this commit"))
            continue
        store.write_text(original.replace(old, new, 1), encoding="utf-8")
        try:
            results = run_tests(tree, ["test_store.py"], "mutant")
        finally:
            store.write_text(original, encoding="utf-8")
        failed = sorted(k.split("::")[1] for k, v in results.items() if v != "passed")
        rows.append((name, f"caught by {', '.join(failed)}" if failed else "NOT caught"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default="17f8fbf", help="the commit the findings were made on")
    parser.add_argument("--tests-from", default="HEAD", help="the commit whose tests (and code, for 'now') are used")
    parser.add_argument("--mutants", action="store_true", help="also check that each store breakage fails a test")
    parser.add_argument("--write", action="store_true", help="replace the section in docs/reliability.md")
    args = parser.parse_args()
    tests = [t for _, group in FINDINGS for t in group]
    tests_from = short(args.tests_from)
    with worktree(args.baseline) as base, worktree(tests_from) as now:
        shutil.rmtree(base / "tests")
        shutil.copytree(now / "tests", base / "tests")
        before = run_tests(base, tests, "baseline")
        after = run_tests(now, tests, "now")
        mutants = mutant_results(now) if args.mutants else []
    lines = [
        SECTION,
        "",
        f"Written by `bench/findings.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: the tests of each finding, taken from "
        f"{tests_from}, run on the attacked commit {args.baseline} (tests folder replaced, code as it was) and on {tests_from}. "
        "A finding is reproduced when its tests fail (or cannot run) on the baseline, and fixed when they pass now.",
        "",
        "| finding | test | baseline | now |",
        "|---|---|---|---|",
    ]
    for finding, group in FINDINGS:
        for n, test in enumerate(group):
            lines.append(f"| {finding if n == 0 else ''} | `{test}` | {outcome_of(before, test)} | {outcome_of(after, test)} |")
    lines += [
        "",
        "An error on the baseline means the test could not run there: finding 7's tests start the bot's own webhook "
        "server (`bot/webhook.py`), which did not exist; the baseline used python-telegram-bot's, which read the body first.",
    ]
    if mutants:
        lines += ["", f"The store's breakages, applied one at a time to `index/store.py` of {tests_from}:", ""]
        lines += ["| breakage | the store's tests |", "|---|---|"] + [f"| {n} | {r} |" for n, r in mutants]
    section = "\n".join(lines) + "\n"
    print(section)
    if args.write:
        text = DOC.read_text(encoding="utf-8")
        pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
        text = pattern.sub(lambda _: section + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + section
        DOC.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
