from setuptools import setup

# Metadata lives in setup.cfg; this file only wires Babel's extractors for i18n,
# as CKAN's extension template does.
setup(
    message_extractors={
        "ckanext": [
            ("**.py", "python", None),
            ("**.js", "javascript", None),
            ("**/templates/**.html", "ckan", None),
        ],
    },
)
