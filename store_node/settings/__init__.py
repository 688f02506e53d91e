"""Store node settings: base, then dev, test or prod on top."""
