"""``python -m hub.bench.child module:function '[args]'``: one measurement in a process of its own
(``hub.bench.in_child``); prints ``{"result": ..., "peak_rss_mb": ...}`` as its last line."""

from __future__ import annotations

import asyncio
import importlib
import json
import resource
import sys


def main() -> None:
    module, _, function = sys.argv[1].partition(":")
    work = getattr(importlib.import_module(module), function)
    result = asyncio.run(work(*json.loads(sys.argv[2])))
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"result": result, "peak_rss_mb": round(peak_kb / 1024, 1)}))


if __name__ == "__main__":
    main()
