"""``python -m nlhf_core.cli``: the ``nlhf`` command (``torchrun ... -m nlhf_core.cli train`` for DDP)."""

import sys

from nlhf_core.cli.main import main

sys.exit(main())
