"""The web page at ``/``: one template and a little plain JavaScript and CSS that use the JSON API."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)


@bp.get("/")
def index():
    return render_template("web/index.html")
