"""The discovery-document checker used by the other tests must be able to fail."""

from tests.emulators.google.support import ERROR_SCHEMA, schema_errors


def test_undeclared_keys_and_wrong_types_are_reported():
    assert schema_errors({"id": "a", "kind": "calendar#event"}, "Event") == []
    assert schema_errors({"bogus": 1}, "Event") == ["$.bogus: not a declared property"]
    assert schema_errors({"sequence": "1"}, "Event") == ["$.sequence: expected integer"]
    assert schema_errors({"start": {"dateTime": "tomorrow"}}, "Event") == [
        "$.start.dateTime: 'tomorrow' is not a date-time"
    ]
    assert schema_errors({"attendees": [{"self": "yes"}]}, "Event") == ["$.attendees[0].self: expected boolean"]
    assert schema_errors({"expiration": "soon"}, "Channel") == ["$.expiration: 'soon' is not a int64"]
    assert schema_errors({"error": {"code": "400"}}, ERROR_SCHEMA) == ["$.error.code: expected integer"]
