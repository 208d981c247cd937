"""Arabic text, as pure functions: normalisation, tokens and stems, sentences, chunks, answer cues, sentence analyses.

The lowest floor: nothing here imports from any other folder of the engine.
"""

from index import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "normalize": ".arabic",
        "tokenize": ".arabic",
        "analyze": ".arabic",
        "analyze_question": ".arabic",
        "is_mostly_latin": ".arabic",
        "STEMMERS": ".arabic",
        "split_sentences": ".sentences",
        "Chunk": ".chunking",
        "ChunkParams": ".chunking",
        "chunk_article": ".chunking",
        "CUE_BITS": ".cues",
        "question_type": ".cues",
        "sentence_cues": ".cues",
        "YEAR_RE": ".cues",
        "SentenceInfo": ".analysis",
        "analyse_passage": ".analysis",
    },
)
