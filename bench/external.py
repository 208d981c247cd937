"""Public QA training data from outside the project, read from a cache folder and never committed.

    python -m bench.external            # what is there, converted for the answer layer's training

The answer layer learns from the team's dev sets (ARCD and the team's own question
files) and, when present, from public *training* splits kept in ``EXTERNAL_QA_DIR``
(default ``var/external/``, git-ignored). Never a dev or test split. Each file, its
source and its licence:

- ``squad2-train-first10articles.json``: SQuAD 2.0, train split, the first 10 of its
  442 articles (4,371 answerable and 348 unanswerable questions), as cut down by
  github.com/PhongNTDo/guide_train_MRC_transformers (``train-v2.0.json``, commit f626fe8);
  sha256 53e67dd9…2638cb. SQuAD 2.0 is CC BY-SA 4.0 (Rajpurkar, Jia and Liang, 2018).
  The full file (rajpurkar.github.io/SQuAD-explorer, ``train-v2.0.json``) works the
  same way and is what a machine with internet access should use.

Converted to the project's article and question formats (one article per Wikipedia
article, its paragraphs as paragraphs; an unanswerable question has no answers and no
relevant article) in ``EXTERNAL_QA_DIR/converted/``. Looked at and rejected: QRCD
(Qur'anic QA; CC BY-NC-ND 4.0: no derivatives), and the Arabic train sets that could not
be reached from here (TyDi QA GoldP, ArTyDi-QA, Arabic-SQuAD; see docs/answers.md).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from bench.common import ROOT

EXTERNAL = Path(os.environ.get("EXTERNAL_QA_DIR", ROOT / "var" / "external"))


@dataclass(frozen=True)
class ExternalSet:
    """One public training file and where its conversion goes."""

    name: str
    file: str
    sha256: str
    licence: str
    source: str

    @property
    def path(self) -> Path:
        return EXTERNAL / self.file

    @property
    def articles(self) -> Path:
        return EXTERNAL / "converted" / f"{self.name}-articles.jsonl"

    def questions(self, answerable: bool) -> Path:
        return EXTERNAL / "converted" / f"{self.name}-{'answerable' if answerable else 'unanswerable'}.jsonl"


SQUAD = ExternalSet(
    "squad2",
    "squad2-train-first10articles.json",
    "53e67dd96e8597a8ef600e795d54d3fdef18486d42721884d38d652e2a2638cb",
    "CC BY-SA 4.0",
    "SQuAD 2.0 train (first 10 articles), github.com/PhongNTDo/guide_train_MRC_transformers train-v2.0.json @ f626fe8",
)
EXTERNAL_SETS = (SQUAD,)


def available(spec: ExternalSet) -> bool:
    """The file is there and is the one recorded (a different file would be a different experiment)."""
    if not spec.path.exists():
        return False
    digest = hashlib.sha256(spec.path.read_bytes()).hexdigest()
    if digest != spec.sha256:
        print(f"{spec.path}: sha256 {digest[:8]}… is not the recorded {spec.sha256[:8]}…; left out")
        return False
    return True


def convert_squad(spec: ExternalSet = SQUAD) -> tuple[Path, Path, Path]:
    """SQuAD v2 JSON -> articles JSONL and two question files (answerable, unanswerable); cached."""
    outputs = (spec.articles, spec.questions(True), spec.questions(False))
    if all(p.exists() and p.stat().st_mtime >= spec.path.stat().st_mtime for p in outputs):
        return outputs
    data = json.loads(spec.path.read_text(encoding="utf-8"))["data"]
    articles, answerable, unanswerable = [], [], []
    for n, article in enumerate(data):
        article_id = f"{spec.name}-{n:03d}"
        title = article["title"].replace("_", " ")
        paragraphs = [p["context"].strip() for p in article["paragraphs"]]
        articles.append(
            {
                "id": article_id,
                "title": title,
                "url": "",
                "date": "",
                "source": "Wikipedia (SQuAD)",
                "text": "\n\n".join(paragraphs),
            }
        )
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                if qa.get("is_impossible"):
                    unanswerable.append({"qid": qa["id"], "question": qa["question"], "answers": [], "relevant_article_ids": []})
                else:
                    texts = list(dict.fromkeys(a["text"] for a in qa["answers"]))
                    answerable.append(
                        {
                            "qid": qa["id"],
                            "question": qa["question"],
                            "answers": texts,
                            "article_id": article_id,
                            "relevant_article_ids": [article_id],
                        }
                    )
    spec.articles.parent.mkdir(parents=True, exist_ok=True)
    for path, rows in zip(outputs, (articles, answerable, unanswerable), strict=True):
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return outputs


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    for spec in EXTERNAL_SETS:
        if not available(spec):
            print(f"{spec.name}: not found at {spec.path} (see this script's help for where to get it)")
            continue
        articles, answerable, unanswerable = convert_squad(spec)
        counts = [sum(1 for _ in p.open(encoding="utf-8")) for p in (articles, answerable, unanswerable)]
        print(f"{spec.name} ({spec.licence}): {counts[0]} articles, {counts[1]} answerable, {counts[2]} unanswerable questions")


if __name__ == "__main__":
    main()
