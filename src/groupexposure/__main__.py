"""``python -m groupexposure``: the command line."""

from .cli import main

raise SystemExit(main())
