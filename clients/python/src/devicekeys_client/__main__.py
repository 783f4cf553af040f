"""``python -m devicekeys_client``: the ``devicekeys`` command without its console script."""

import sys

from .cli import main

sys.exit(main())
