"""The emulator's endpoint URLs, derived from its base URL (in-process and remote alike)."""


class EmulatorUrls:
    """Google's endpoint layout under ``base_url``; subclasses provide ``base_url``."""

    base_url: str

    @property
    def auth_uri(self) -> str:
        return self.base_url + "o/oauth2/v2/auth"

    @property
    def token_uri(self) -> str:
        return self.base_url + "token"

    @property
    def revoke_uri(self) -> str:
        return self.base_url + "revoke"

    @property
    def api_root(self) -> str:
        return self.base_url

    @property
    def calendar_endpoint(self) -> str:
        """What to pass as ``client_options={"api_endpoint": ...}`` to googleapiclient."""
        return self.api_root + "calendar/v3/"
