"""A normal (not editable) install holds every subpackage and the model files: packages are found, not listed."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from tests.support.corpus import ROOT


def test_a_wheel_holds_every_subpackage_and_imports_each(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    packages = sorted(
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("index", "bot")
        for init in (ROOT / top).rglob("__init__.py")
        if "__pycache__" not in init.parts
    )
    for package in packages:
        assert f"{package.replace('.', '/')}/__init__.py" in names, package
    assert {"index/models/answer_sentence.json", "index/models/answerability.json"} <= set(names)
    assert {"bot/locale/ar/LC_MESSAGES/bot.po", "bot/locale/en/LC_MESSAGES/bot.po"} <= set(names), "the bot's words"
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    # -S: no site-packages, so nothing comes from the editable install; the packages' own modules are light
    code = f"import sys; sys.path.insert(0, {str(target)!r}); import importlib\n" + "".join(
        f"m = importlib.import_module({p!r}); assert m.__file__.startswith({str(target)!r}), m.__file__\n"
        for p in packages
        if p.startswith("index")
    )
    subprocess.run([sys.executable, "-S", "-c", code], check=True, timeout=120)
