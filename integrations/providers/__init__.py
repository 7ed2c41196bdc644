"""Calendar providers, registered explicitly by key (no import side effects)."""
