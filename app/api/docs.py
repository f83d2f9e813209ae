"""The API's description: the OpenAPI document and an interactive Swagger UI page.

The page's scripts and styles come from the ``offapi`` package (Swagger UI's release
files, shipped in the wheel) and are served by the app, so the docs work without internet.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from flask import Blueprint, abort, current_app, jsonify, render_template_string, send_file

from app.api.openapi import openapi_document
from app.security_headers import page_policy

bp = Blueprint("docs", __name__)

OWN_ASSETS = Path(__file__).resolve().parent / "docs_assets"
# URL name -> file in the offapi package, or in docs_assets.
ASSETS = {
    "swagger-ui.css": ("offapi", "swagger_style.css"),
    "swagger-ui-bundle.js": ("offapi", "swagger_bundle.js"),
    "docs.js": (None, "docs.js"),
}
ASSET_MAX_AGE = 24 * 3600
# Swagger UI sets style attributes from script; everything else stays 'self'.
DOCS_POLICY = page_policy(style_src="'self' 'unsafe-inline'")

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>docjobs API</title>
  <link rel="stylesheet" href="{{ url_for('api.docs.asset', name='swagger-ui.css') }}">
</head>
<body data-spec-url="{{ url_for('api.docs.openapi_json') }}">
  <div id="swagger-ui"></div>
  <script src="{{ url_for('api.docs.asset', name='swagger-ui-bundle.js') }}"></script>
  <script src="{{ url_for('api.docs.asset', name='docs.js') }}"></script>
</body>
</html>
"""


@bp.get("/openapi.json")
def openapi_json():
    document = current_app.extensions.get("openapi_document")
    if document is None:
        document = current_app.extensions["openapi_document"] = openapi_document()
    return jsonify(document)


@bp.get("/docs")
def docs_page():
    return render_template_string(PAGE), 200, {"Content-Security-Policy": DOCS_POLICY}


@bp.get("/docs/assets/<name>")
def asset(name: str):
    if name not in ASSETS:
        abort(404)
    package, filename = ASSETS[name]
    path = OWN_ASSETS / filename if package is None else resources.files(package) / filename
    return send_file(path, max_age=ASSET_MAX_AGE)
