"""Sphinx configuration of the course website, built by `make site` (scripts/build_site.py) from the committed
notebooks without executing them. Everything the pages need is served from the site itself: the theme's
fonts and scripts, MathJax (sphinx-mathjax-offline), the search index. Nothing is fetched at build or view time.
"""
import os

project = "kdcourse"
author = "the kdcourse authors"
copyright = "the kdcourse authors, MIT licence"  # noqa: A001  (Sphinx's name for it)
REPOSITORY = os.environ["KDCOURSE_SITE_REPOSITORY"]  # set by scripts/build_site.py from kdcourse/course.py
REF = os.environ["KDCOURSE_SITE_REF"]  # the branch or release tag the Colab links open
release = REF

extensions = ["myst_nb", "sphinx.ext.mathjax", "sphinx-mathjax-offline"]
exclude_patterns = ["_build"]
root_doc = "index"

# The notebooks are shown as committed: with the outputs of the stored `cpu` run, never re-executed.
nb_execution_mode = "off"
nb_ipywidgets_js = {}  # no widget scripts from a CDN: a progress bar shows its finished text instead
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None),
                              ("html", "application/vnd.jupyter.widget-state+json", None)]
nb_merge_streams = True  # a cell's printed lines as one block, not one box per write
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3  # links such as notebooks/03_distilling_mnist.ipynb#exercises
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header"]

html_theme = "sphinx_book_theme"
html_title = "kdcourse: moving knowledge between models"
html_static_path = ["_static"]
html_css_files = ["kdcourse.css"]
html_show_sourcelink = False
html_theme_options = {
    "repository_url": REPOSITORY,
    "repository_branch": REF,
    "path_to_docs": "",
    "use_repository_button": True,
    "use_download_button": True,  # the page's notebook, as committed
    "launch_buttons": {"colab_url": "https://colab.research.google.com"},
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
