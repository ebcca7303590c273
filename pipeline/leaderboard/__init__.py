"""Leaderboards: the scores papers report (the record's ``scores``), lined up across the whole corpus.

`names`: dataset and metric names folded to one key, and which way a metric is better (a curated table the reader
extends in config.toml, ``[leaderboard]``). `read`: the scored records of either corpus layout, fast. `board`: per
benchmark reported by two papers or more, each paper's own best score, best first. `render`: the boards as text
for a terminal, JSON and CSV (``summarize leaderboard``). The page's Scores view is drawn from the same keys
(`pipeline.table.page_record`).

Nothing is imported here: the tables import `names` alone, below the corpus readers `board` uses.
"""

