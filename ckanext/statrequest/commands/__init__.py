"""`ckan statrequest ...` sub-commands by area. Each module defines plain click commands and
imports nothing of the CLI; `cli.py` assembles them into the group."""
