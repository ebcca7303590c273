"""Dispatch: papers to an engine through the cache, with a report of what happened.

- `runner`: the local executor (`Runner`: cache lookups, a loop for the embedded engine, async workers under a
  budget for an LLM) and the `RunReport`.
- `processes`: the embedded engine's cache misses on worker processes, one per CPU (imported only then).
- `ray_data`: the same work spread over a Ray cluster with Ray Data (``--executor ray``; imported only then).
- `outcomes`: one paper's outcome as JSON text, between a worker and the driver.
- `ctrl_c`: a Ctrl-C held while a summary is recorded (cached and counted), then delivered.
"""

from pipeline.dispatch.runner import Failure, Progress, Runner, RunReport, to_cache

__all__ = ["Failure", "Progress", "RunReport", "Runner", "to_cache"]
