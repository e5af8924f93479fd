"""sitegen — a static-site generator for the Intelligent Manufacturing "Dual Top-10" S&T Advances."""

__version__ = "0.1.0"
