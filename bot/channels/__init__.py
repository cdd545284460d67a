"""One adapter per messenger; the only modules that import a messenger SDK."""
