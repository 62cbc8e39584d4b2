"""The templates of what a technician's laptop writes (report.html and its chart), through
Jinja2 with autoescape: unit names and labels come from the inventory, anyone's CSV."""

from __future__ import annotations

import jinja2

PAGES = jinja2.Environment(
    loader=jinja2.PackageLoader("kiosk.technician", "templates"),
    autoescape=jinja2.select_autoescape(("html", "svg")),
    undefined=jinja2.StrictUndefined,
)
