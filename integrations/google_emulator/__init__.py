"""A local emulator of Google's OAuth 2.0 and Calendar v3 endpoints. Filled in by the emulator work."""
