"""``python -m accelscope.cli``: the same as the ``accelscope`` command."""

from accelscope.cli import main

main()
