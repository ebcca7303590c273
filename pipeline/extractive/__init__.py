"""The embedded extractive model: a sentence-role CRF trained on CSAbstruct, field selectors learned from modern
abstracts, the tldr selector, the task/dataset/metric extractor, the sentence splitter, and their training.

Its weights ship in ``pipeline/extractive/weights/``. The engine adapter that turns these parts into a record is
``pipeline.engines.embedded``; nothing in this package knows about records, caches or runs.
"""
