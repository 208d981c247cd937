"""What tests (and the benchmarks) run against: the fake Telegram Bot API server, a local news website, the test corpus, bot helpers."""
