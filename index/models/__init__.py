"""The answer layer's learned models as JSON package data: answer_sentence.json and answerability.json (bench/train_answers.py)."""
