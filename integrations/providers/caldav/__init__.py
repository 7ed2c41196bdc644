"""CalDAV (Apple iCloud, Fastmail, Nextcloud, Radicale, ...): see ``provider.py`` and docs/caldav-connection.md."""
