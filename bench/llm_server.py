"""A zero-latency OpenAI-compatible server in its own process, for the LLM client ceiling benchmark:
``python -m bench.llm_server PORT_FILE`` writes its base URL to PORT_FILE and serves until killed."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

if __name__ == "__main__":
    import time

    from fake_openai import FakeOpenAI

    with FakeOpenAI() as server:
        Path(sys.argv[1]).write_text(server.base_url)
        while True:
            time.sleep(3600)
