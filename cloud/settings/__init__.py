"""Cloud (head office) settings: base, then dev, test or prod on top."""
