"""`ckan statrequest ...` sub-commands by area; each module adds commands to the group."""
