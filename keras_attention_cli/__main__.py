"""`python -m keras_attention_cli`: the `keras-attention` command."""

import sys

from keras_attention_cli.main import main

sys.exit(main())
