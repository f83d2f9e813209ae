"""CSV cells that a spreadsheet would run as formulas leave as text."""

from __future__ import annotations

import pytest

from app.jobs.export import spreadsheet_safe


@pytest.mark.parametrize(
    "cell",
    [
        "=cmd|' /C calc'!A0",
        "+SUM(1,2)",
        "-2+3",
        "@SUM(1,2)",
        '=HYPERLINK("http://x","y")',
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_a_text_cell_starting_like_a_formula_gets_a_quote_in_front(cell):
    assert spreadsheet_safe(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Plain text.", "", " =1+1", "'quoted already", "a=b", "{}"])
def test_other_text_is_left_alone(cell):
    assert spreadsheet_safe(cell) == cell


@pytest.mark.parametrize("cell", [-0.4767, -3, 0, None, True])
def test_numbers_the_server_computed_stay_numbers(cell):
    assert spreadsheet_safe(cell) is cell
