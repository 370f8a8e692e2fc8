"""Research toolkit: the library behind the method notebooks."""

__version__ = "0.1.0"
