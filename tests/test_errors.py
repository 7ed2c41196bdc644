"""Unknown API paths answer in the API's error shape; other paths keep Django's page."""


def test_unknown_api_path_is_json_404(anon, db):
    response = anon.get("/api/v1/no-such-endpoint")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}


def test_unknown_page_is_html_404(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
