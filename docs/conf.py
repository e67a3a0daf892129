"""Sphinx configuration of the scalinglaws documentation (``make docs``)."""

from __future__ import annotations

import importlib.util
import os
import sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "src")))

project = "scalinglaws"
author = "scalinglaws developers"
copyright = "scalinglaws developers, MIT License"
try:
    release = _version("scalinglaws")
except PackageNotFoundError:  # a source tree that is not installed
    release = "0.0.0+unknown"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_click",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
# Guides written alongside this site: the index lists those that exist (see setup below).
ALONGSIDE = ("nonlinear-theory", "fitting")
templates_path = []

myst_enable_extensions = ["dollarmath", "amsmath", "deflist"]
myst_heading_anchors = 3

autosummary_generate = True
# Each object is documented on the page of the module that defines it (a package's page lists
# its modules), so names re-exported by a package's __all__ are not documented twice.
autodoc_default_options = {"members": True, "ignore-module-all": True}
autodoc_member_order = "bysource"
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "alabaster"
html_title = f"scalinglaws {release}"
html_theme_options = {"description": "A solvable model of neural scaling laws",
                      "fixed_sidebar": False, "page_width": "1100px"}  # fmt: skip
# Formulas are typeset by MathJax. With the sphinx-mathjax-offline package (docs extra) its copy
# of MathJax 3 is shipped inside the built site, so the pages render offline; without it the
# pages load MathJax from its CDN when viewed. Either way the build itself makes no request.
_spec = importlib.util.find_spec("sphinx-mathjax-offline")
if _spec is not None and _spec.origin:
    html_static_path = [os.path.join(os.path.dirname(_spec.origin), "static")]
    mathjax_path = "mathjax/tex-chtml.js"


def _list_alongside(app, docname, source):
    """Put the guides of ALONGSIDE that exist into the index's toctree (marker line)."""
    if docname != "index":
        return
    here = os.path.dirname(__file__)
    present = [name for name in ALONGSIDE if os.path.exists(os.path.join(here, f"{name}.md"))]
    source[0] = source[0].replace("ALONGSIDE-GUIDES", "\n".join(present))


def setup(app):
    app.connect("source-read", _list_alongside)
    return {"parallel_read_safe": True}
