"""Research toolkit: the library behind the method notebooks.

Subpackages are imported on demand (``from toolkit import zoo``); importing
``toolkit`` itself stays cheap.
"""

from toolkit.seeding import seed_everything

__version__ = "0.1.0"
__all__ = ["seed_everything", "__version__"]
