"""Research toolkit: the library behind the method notebooks.

Subpackages are imported on demand (``from toolkit import zoo``), and each loads its own
public names on first use, so importing ``toolkit`` itself stays cheap. The documentation,
including the method pages and the API reference, lives in ``docs/`` (``docs/index.md``).
"""

from typing import TYPE_CHECKING

from toolkit._lazy import lazy_exports

if TYPE_CHECKING:
    from toolkit.seeding import generator, seed_everything, stream

__version__ = "0.1.0"
__all__ = ["generator", "seed_everything", "stream"]
__getattr__, __dir__ = lazy_exports(__name__, __file__, __all__)
