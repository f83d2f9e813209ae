"""Every error is JSON: {"error": {"code", "message"}}."""

from __future__ import annotations

from app import create_app
from config import TestConfig


def test_unknown_route_is_a_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_wrong_method_is_a_json_405_with_allow(client):
    response = client.delete("/api/v1/auth/login")
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"
    assert "POST" in response.headers["Allow"]


def test_unexpected_error_is_a_json_500_without_a_traceback():
    app = create_app(TestConfig())

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert response.json["error"]["code"] == "internal_error"
    assert "secret internals" not in response.get_data(as_text=True)
