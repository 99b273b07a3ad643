"""Write keras_counts.json: the parameter counts of the models each example summarises and fits,
run under Keras 3 (torch backend) by the same runner, on the same offline data.

    .venv/bin/python tests/keras_examples/make_keras_counts.py [NAME ...]

Examples that fail under Keras here (see the printed reason) keep their previous entry.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from test_examples import COUNTS_FILE, MANIFEST, run_example  # noqa: E402


def main(names: list[str]) -> None:
    for name in names or list(MANIFEST):
        with tempfile.TemporaryDirectory() as tmp:
            record, _ = run_example("keras", name, Path(tmp))
        if record["error"]:
            print(f"{name}: Keras run failed, entry kept:\n{record['error']}")
            continue
        entry = {"fits": [f["params"] for f in record["fits"]], "summaries": [s["params"] for s in record["summaries"]]}
        # read just before writing, so that runs for other examples at the same time are kept
        counts = json.loads(COUNTS_FILE.read_text()) if COUNTS_FILE.exists() else {}
        counts[name] = entry
        COUNTS_FILE.write_text(json.dumps(counts, indent=1, sort_keys=True) + "\n")
        print(name, entry)


if __name__ == "__main__":
    main(sys.argv[1:])
