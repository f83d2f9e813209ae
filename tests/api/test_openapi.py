"""The OpenAPI document and the docs page the app serves about itself."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from openapi_spec_validator import validate

from tests.support import auth_headers

BEARER = [{"bearerAuth": []}]


class AssetLinks(HTMLParser):
    """Collect the URLs of a page's scripts and stylesheets."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and found.get("src"):
            self.urls.append(found["src"])
        if tag == "link" and found.get("rel") == "stylesheet":
            self.urls.append(found["href"])


@pytest.fixture(scope="module")
def document(app):
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def test_the_document_is_valid_openapi_3(document):
    validate(document)
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }


def test_every_api_route_is_described(app, document):
    described = {
        (method.upper(), path) for path, operations in document["paths"].items() for method in operations
    }
    undocumented = {"/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs/assets/<name>"}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule in undocumented:
            continue
        if rule.rule.startswith("/api/v1/bench/"):  # opt-in endpoints of bench/poll.py, not the API
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (method, path) in described, f"{method} {rule.rule} is not in the OpenAPI document"


@pytest.mark.parametrize(
    ("method", "path", "statuses", "secured"),
    [
        ("post", "/api/v1/auth/register", {"201", "409", "422"}, False),
        ("post", "/api/v1/jobs", {"200", "202", "401", "413", "415", "422", "429"}, True),
        ("get", "/api/v1/jobs/{job_id}", {"200", "304", "401", "404", "422"}, True),
        ("delete", "/api/v1/jobs/{job_id}", {"204", "401", "404"}, True),
        ("get", "/api/v1/jobs/{job_id}/export", {"200", "401", "404", "409", "422"}, True),
    ],
)
def test_operations_state_their_statuses_and_auth(document, method, path, statuses, secured):
    operation = document["paths"][path][method]
    assert statuses <= set(operation["responses"])
    assert (operation.get("security") == BEARER) is secured
    errors = [code for code in operation["responses"] if code >= "400"]
    for code in errors:
        schema = operation["responses"][code]["content"]["application/json"]["schema"]
        assert schema["$ref"].split("/")[-1] in {"ErrorBody", "ValidationErrorBody"}


def test_the_upload_form_and_its_header_are_described(document):
    upload = document["paths"]["/api/v1/jobs"]["post"]
    form = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    fields = document["components"]["schemas"][form["$ref"].split("/")[-1]]
    assert set(fields["properties"]) == {"file", "analyses", "force"}
    assert fields["required"] == ["file"]
    assert fields["properties"]["file"] == {
        "format": "binary",
        "type": "string",
        **fields["properties"]["file"],
    }
    headers = {p["name"] for p in upload["parameters"] if p["in"] == "header"}
    assert headers == {"Idempotency-Key"}
    assert "Location" in upload["responses"]["202"]["headers"]


def test_a_validation_error_names_each_field_in_the_envelope(client):
    response = client.get("/api/v1/jobs?page=0&per_page=x", headers=auth_headers(client))
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_error"
    assert "page" in error["message"]
    assert set(error["fields"]) == {"page", "per_page"}
    assert all(
        messages and all(isinstance(m, str) for m in messages) for messages in error["fields"].values()
    )


def test_auth_is_checked_before_the_query(client):
    response = client.get("/api/v1/jobs?page=0")
    assert response.status_code == 401


def test_the_docs_page_loads_only_its_own_assets(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    links = AssetLinks()
    links.feed(page.get_data(as_text=True))
    assert len(links.urls) == 3
    for url in links.urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{url} is not served by the app"
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert asset.content_length > 100 or len(asset.get_data()) > 100, url
        asset.close()


def test_an_unknown_docs_asset_is_a_json_404(client):
    response = client.get("/api/v1/docs/assets/nothing.js")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
