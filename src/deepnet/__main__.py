"""``python -m deepnet``: the ``deepnet`` command line (see :mod:`deepnet.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
