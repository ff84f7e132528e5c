"""Synthetic N-Quads shaped like the graph cbmkg builds (the generator is loaders/synthetic.py).

    python benchmarks/synthetic.py OUT.nq [--quads 1000000]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loaders.synthetic import main  # noqa: E402

if __name__ == "__main__":
    main()
