"""The portal's pure rules: no Flask, no HTTP, no database.

Strings a person reads are English message ids marked with `N_` (extracted into the gettext
catalogue by `make translations`) and translated where they are shown, in the page's language.
"""


def N_(message: str) -> str:
    """Marks `message` for the catalogue without translating it now (the template does)."""
    return message
