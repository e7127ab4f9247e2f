"""``python -m recipes`` is ``rnn-apps``: list, run, compare and predict."""

import sys

from rnn_apps.harness import cli

sys.exit(cli.main())
