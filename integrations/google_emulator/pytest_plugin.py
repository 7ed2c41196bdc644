"""pytest fixtures that run the Google emulator in-process. Filled in by the emulator work."""
