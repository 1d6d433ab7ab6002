"""Charts drawn on the server as SVG (pygal): no script runs in the page to draw them."""

from __future__ import annotations

from collections.abc import Sequence

import pygal
from pygal.style import Style

_STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1d2430",
    foreground_strong="#1d2430",
    foreground_subtle="#4a5568",
    colors=("#a12622", "#1d6b3a"),
    font_family="system-ui, sans-serif",
)
# An SVG served alone, shown by an <img>: its own inline styles only, nothing loaded, nothing run.
CHART_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def fees_and_recovered(
    months: Sequence[str], fees_cents: Sequence[int], recovered_cents: Sequence[int]
) -> bytes:
    """Bars per month: the fees offices claimed and the money they recovered, in euros."""
    chart = pygal.Bar(
        style=_STYLE,
        width=900,
        height=360,
        js=[],  # pygal's tooltips load a script from elsewhere: none here
        disable_xml_declaration=False,
        legend_at_bottom=True,
        print_values=False,
        show_y_guides=True,
        y_title="EUR",
        title="Fees vs money recovered, per month",
    )
    chart.x_labels = list(months)
    chart.add("Fees claimed", [c / 100 for c in fees_cents])
    chart.add("Money recovered", [c / 100 for c in recovered_cents])
    svg: bytes = chart.render()
    return svg
