"""``python -m inception_lab.train``: see :mod:`inception_lab.train.cli`."""

import sys

from inception_lab.train.cli import main

sys.exit(main())
