"""Routes by concern; each module exposes ``router``."""
