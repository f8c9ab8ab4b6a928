"""``python -m pipeline …`` is the same as the ``iceberg`` command."""

import sys

from pipeline.cli import main

sys.exit(main())
