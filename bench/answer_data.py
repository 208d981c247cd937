"""The answer layer's data: question runs through retrieval, with labels, for training and measuring.

Sets (``SETS``), by role:

- dev (trained on, measured out of fold): ARCD questions over ARCD + the 2,000
  SaudiNewsNet articles (answerable), the same questions over the SaudiNewsNet
  articles alone (out of corpus: their articles are absent), the team's unanswerable
  Arabic questions, the team's English questions about the Arabic articles (the dev
  set and the tuning set) and English questions the corpus cannot answer;
- external (trained on in every fold, never measured): public training splits
  (``bench.external``: SQuAD 2.0), when present;
- held-out (measured with the shipped models, never trained or tuned on): the frozen
  English set and the Arabic news set about randomly picked SaudiNewsNet articles,
  the latter also over an index without its articles (out of corpus).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from bench.common import ARCD_ARTICLES, ARCD_QUESTIONS, ROOT, SNN_ARTICLES, build_index_cli, need
from bench.external import SQUAD, available, convert_squad
from index.answer.answerability import ANSWERABILITY_FEATURES, hit_features
from index.answer.head import head_rows
from index.answer.learned import LearnedModel
from index.answer.matching import Matcher
from index.answer.ordering import lead_with_best_answer
from index.answer.selector import (
    SENTENCE_FEATURES,
    SentenceRef,
    apply_sentence_probabilities,
    sentence_features,
)
from index.results import Hit
from index.search.retrieval import Candidates
from index.search.searcher import AnswerModels, Searcher, SearchParams
from index.storage.store import current_build_id
from index.text.arabic import normalize
from index.tools.evaluate import contains_answer, load_questions

DATA = ROOT / "bench" / "data"
ARABIC_HELDOUT = DATA / "arabic_heldout.jsonl"
ARABIC_NEWS = DATA / "arabic_news.jsonl"
DEV, EXTERNAL_TRAINING, HELDOUT = "dev", "external", "heldout"


def _distinctive(answer: str) -> bool:
    """An answer unlikely to be in an unrelated article by chance: two words or more, ten characters or more."""
    return len(answer.split()) >= 2 and len(answer) >= 10


def corpus_without(questions: Path, name: str, copies: bool) -> Path:
    """The SaudiNewsNet articles less those ``questions`` ask about (their out-of-corpus index); ``copies``: less,
    too, every article holding one of their distinctive answers (``_distinctive``), most often another
    outlet's copy of the same story (news is syndicated: a question "out of corpus" is otherwise still answered)."""
    out = ROOT / "var" / f"snn-without-{name}{'-and-copies' if copies else ''}.jsonl"
    if not out.exists() and questions.exists() and SNN_ARTICLES.exists():
        asked = load_questions(questions)
        ids = {q["article_id"] for q in asked}
        answers = {normalize(a) for q in asked for a in q["answers"] if _distinctive(normalize(a))} if copies else set()
        kept = []
        for line in SNN_ARTICLES.read_text(encoding="utf-8").splitlines():
            article = json.loads(line)
            text = normalize(f"{article.get('title', '')} {article.get('text', '')}")
            if article["id"] not in ids and not any(a in text for a in answers):
                kept.append(line)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return out


@dataclass(frozen=True)
class IndexSpec:
    path: Path
    articles: Callable[[], list[Path]]


INDEXES = {
    "arcd+snn": IndexSpec(ROOT / "var" / "answers-arcd-snn", lambda: [ARCD_ARTICLES, SNN_ARTICLES]),
    "snn": IndexSpec(ROOT / "var" / "answers-snn", lambda: [SNN_ARTICLES]),
    "arcd+snn-heldout": IndexSpec(
        ROOT / "var" / "answers-arcd-snn-less-heldout", lambda: [ARCD_ARTICLES, corpus_without(ARABIC_HELDOUT, "heldout", False)]
    ),
    "arcd+snn-heldout-copies": IndexSpec(
        ROOT / "var" / "answers-arcd-snn-less-heldout-copies",
        lambda: [ARCD_ARTICLES, corpus_without(ARABIC_HELDOUT, "heldout", True)],
    ),
    "arcd+snn-news": IndexSpec(
        ROOT / "var" / "answers-arcd-snn-less-news-copies", lambda: [ARCD_ARTICLES, corpus_without(ARABIC_NEWS, "news", True)]
    ),
    "squad2": IndexSpec(ROOT / "var" / "answers-squad2", lambda: [SQUAD.articles]),
}


@dataclass(frozen=True)
class QuestionSet:
    name: str
    questions: Path
    index: str
    answerable: bool
    language: str
    role: str = DEV  # DEV: trained on and measured out of fold; EXTERNAL_TRAINING: trained on in every fold,
    # never measured; HELDOUT: measured with the shipped models only, never trained or tuned on
    copies: bool = False  # out of corpus, but news is syndicated: a passage holding a gold answer is another
    # outlet's copy of the story and does answer (counted apart: neither a wrong sure answer nor a miss)


SETS = (
    QuestionSet("arcd", ARCD_QUESTIONS, "arcd+snn", True, "ar"),
    QuestionSet("arcd-out-of-corpus", ARCD_QUESTIONS, "snn", False, "ar"),
    QuestionSet("unanswerable-ar", DATA / "unanswerable_ar.jsonl", "arcd+snn", False, "ar"),
    QuestionSet("unanswerable-ar@snn", DATA / "unanswerable_ar.jsonl", "snn", False, "ar"),
    QuestionSet("arabic-news", ARABIC_NEWS, "arcd+snn", True, "ar"),
    QuestionSet("arabic-news-out-of-corpus", ARABIC_NEWS, "arcd+snn-news", False, "ar", copies=True),
    QuestionSet("english", DATA / "english_questions.jsonl", "arcd+snn", True, "en"),
    QuestionSet("english-tuning", DATA / "english_tuning.jsonl", "arcd+snn", True, "en"),
    QuestionSet("unanswerable-en", DATA / "unanswerable_en.jsonl", "arcd+snn", False, "en"),
    QuestionSet("squad2", SQUAD.questions(True), "squad2", True, "en", EXTERNAL_TRAINING),
    QuestionSet("squad2-unanswerable", SQUAD.questions(False), "squad2", False, "en", EXTERNAL_TRAINING),
    QuestionSet("english-heldout", DATA / "english_heldout.jsonl", "arcd+snn", True, "en", HELDOUT),
    QuestionSet("arabic-heldout", ARABIC_HELDOUT, "arcd+snn", True, "ar", HELDOUT),
    QuestionSet("arabic-heldout-out-of-corpus", ARABIC_HELDOUT, "arcd+snn-heldout", False, "ar", HELDOUT, copies=True),
    QuestionSet(
        "arabic-heldout-out-of-corpus-and-copies", ARABIC_HELDOUT, "arcd+snn-heldout-copies", False, "ar", HELDOUT, copies=True
    ),
)


def sets_for(*roles: str) -> tuple[QuestionSet, ...]:
    """The sets of these roles whose questions are there (external data only when converted: ``bench.external``)."""
    if EXTERNAL_TRAINING in roles and available(SQUAD):
        convert_squad(SQUAD)
    return tuple(spec for spec in SETS if spec.role in roles and spec.questions.exists())


def neutral_models() -> AnswerModels:
    """Models that score every row 0.5: retrieval stages do not use them, and training replaces them."""

    def flat(name: str, features: tuple[str, ...]) -> LearnedModel:
        zeros = np.zeros(len(features))
        params = {"mean": zeros, "scale": np.ones(len(features)), "coef": zeros, "intercept": np.float64(0.0)}
        return LearnedModel(name, "logistic", features, logistic=params)

    return AnswerModels(flat("answer_sentence", SENTENCE_FEATURES), flat("answerability", ANSWERABILITY_FEATURES))


def open_searchers(
    models: AnswerModels | None = None,
    params: SearchParams | None = None,
    chunk_words: int | None = None,
    sets: tuple[QuestionSet, ...] = (),
) -> dict[str, Searcher]:
    """One searcher per index the ``sets`` use (default: the dev sets'), built first when missing
    (``chunk_words``: another chunk size, its own index)."""
    out = {}
    for name in dict.fromkeys(spec.index for spec in sets or sets_for(DEV)):
        path, extra = INDEXES[name].path, []
        if chunk_words:
            path = path.with_name(f"{path.name}-{chunk_words}w")
            extra = ["--chunk-words", str(chunk_words)]
        if current_build_id(path) is None:
            build_index_cli(path, [need(p) for p in INDEXES[name].articles()], extra)
        out[name] = Searcher.open(path, params=params or SearchParams(), models=models or neutral_models())
    return out


@dataclass
class Run:
    """One question through retrieval and grouping, with what the training needs."""

    set: str
    qid: str
    group: str  # the fold key: the gold article (or the question for unanswerable ones)
    question: dict
    matcher: Matcher
    cands: Candidates
    hits: list[Hit]
    answerable: bool
    copies: bool = False  # see ``QuestionSet.copies``
    x: np.ndarray = field(default_factory=lambda: np.zeros((0, len(SENTENCE_FEATURES))))
    refs: Sequence[SentenceRef] = field(default_factory=list)
    labels: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # questions in another script: each sentence's cosine to the question, as the searcher computes it
    cosines: np.ndarray | None = None
    vector: np.ndarray | None = None  # the question's

    def head_rows(self, hits: list[Hit], searcher: Searcher) -> np.ndarray:
        """The learned head's input for each hit's (current) passage: the question's vector times the passage's."""
        vectors = searcher.stored.vectors([h.passage.row for h in hits]) if hits else None
        if vectors is None or self.vector is None:
            return np.zeros((len(hits), 0))
        return head_rows(self.vector, vectors)

    def relevant(self, hit: Hit) -> bool:
        ids = {hit.article_id, *(d["article_id"] for d in hit.also_in)}
        return bool(ids & set(self.question["relevant_article_ids"]))

    def hit_answers(self, hit: Hit) -> bool:
        """The hit's passage holds a gold answer, and the hit is a relevant article (or, for ``copies``, any article)."""
        if not (self.answerable and self.relevant(hit)) and not self.copies:
            return False
        return contains_answer(hit.passage.text, self.question["answers"])


def collect(searchers: dict[str, Searcher], sets: tuple[QuestionSet, ...], k: int = 5, limit: int | None = None) -> list[Run]:
    """Every question of every set through retrieval (no answer model), with sentence features and labels."""
    from tqdm.auto import tqdm

    runs: list[Run] = []
    for spec in sets:
        if not spec.questions.exists():
            print(f"skipping {spec.name}: {spec.questions} is missing")
            continue
        searcher = searchers[spec.index]
        questions = load_questions(spec.questions)[:limit]
        vectors = searcher.encode([q["question"] for q in questions])
        for item, vec in tqdm(list(zip(questions, vectors, strict=True)), desc=spec.name, unit="q"):
            matcher = searcher.analyse(item["question"])
            cands = searcher.candidates(matcher, query_vector=vec)
            hits = searcher.hits(cands, k)
            gold = item.get("article_id") or (item["relevant_article_ids"][:1] or [item["qid"]])[0]
            run = Run(spec.name, item["qid"], gold, item, matcher, cands, hits, spec.answerable, spec.copies)
            run.x, run.refs = sentence_features(matcher, hits)
            run.labels = np.asarray(
                [
                    run.answerable
                    and run.relevant(hits[ref.hit])
                    and contains_answer(ref.passage.text[ref.span[0] : ref.span[1]], item["answers"])
                    for ref in run.refs
                ],
                dtype=np.float64,
            )
            run.vector = np.asarray(vec)
            similarity = searcher.similarity(matcher, vec)  # as the searcher's answer stage computes it
            if similarity is not None:
                run.cosines = similarity(run.refs)
            runs.append(run)
    return runs


def apply_sentence_scores(run: Run, probs: np.ndarray, depth: int) -> list[Hit]:
    """Highlights, snippets and answer scores from ``probs`` (one per sentence row), then the searcher's reordering."""
    apply_sentence_probabilities(run.hits, run.refs, probs)
    return lead_with_best_answer(list(run.hits), depth)


def answerability_rows(
    run: Run, hits: list[Hit], searcher: Searcher, head: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels (the hit holds the answer) of every hit of a run (``head``: the head's score of each)."""
    bm25 = dict(zip(run.cands.rows.tolist(), run.cands.bm25.tolist(), strict=True))
    k1 = searcher.manifest.lexical.k1
    x = hit_features(run.matcher, hits, bm25, k1, head)
    y = np.asarray([run.hit_answers(h) for h in hits], dtype=np.float64)
    return x, y


def with_params(searchers: dict[str, Searcher], **changes) -> dict[str, Searcher]:
    for s in searchers.values():
        s.params = replace(s.params, **changes)
    return searchers
