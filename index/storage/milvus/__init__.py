"""The index in Milvus: one collection per build behind an alias, statistics in a side collection.

Needs the ``milvus`` extra (``pip install -e '.[milvus]'``); nothing else in the engine imports
``pymilvus``. ``docs/milvus.md`` says how to run it and what it does not do.
"""
