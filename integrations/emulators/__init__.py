"""Local stand-ins for the calendar providers (no Django imports): one package each."""
