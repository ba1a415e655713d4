"""payviz: see how an online card payment really works."""

__version__ = "0.1.0"
