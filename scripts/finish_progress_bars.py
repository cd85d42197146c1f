"""Give every stored progress bar the text of its finished state.

A notebook executed by nbconvert stores each tqdm bar as a widget (whose saved state is finished) plus a
plain-text copy taken when the bar was created: "0%| | 0/5". Static renderers (GitHub, nbviewer, Colab's
preview) and untrusted notebooks show that text, so a reader sees "0%" above "trained in 124 s". This
rewrites the text from the widget's final state: "teacher: 100% ██████████ 5/5 [02:03<00:00, 25.00s/it]",
and writes the widget state as JupyterLab would, so opening and saving the notebook changes nothing.

    python scripts/finish_progress_bars.py notebooks/*.ipynb     (make execute runs it)
"""
from __future__ import annotations

import html
import json
import sys
from pathlib import Path

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def bar_text(state: dict, model_id: str) -> str | None:
    """The tqdm line a finished bar would print, from the widget state; None if it is not a tqdm bar."""
    box = state.get(model_id, {})
    children = [c.removeprefix("IPY_MODEL_") for c in box.get("state", {}).get("children", [])]
    if box.get("model_name") != "HBoxModel" or len(children) != 3:
        return None
    left, bar, right = (state.get(c, {}) for c in children)
    if bar.get("model_name") != "FloatProgressModel":
        return None
    value, total = bar["state"].get("value", 0), bar["state"].get("max") or 0
    filled = int(10 * value / total) if total else 0
    clean = lambda w: html.unescape(w.get("state", {}).get("value", "")).replace("\u2007", " ")  # noqa: E731
    return f"{clean(left)} {'█' * filled}{'·' * (10 - filled)} {clean(right).strip()}"


def as_javascript_writes(value):
    """Widget state as JupyterLab saves it: JavaScript has one number type, so 15.0 is written 15.
    Without this, opening and saving a notebook in JupyterLab rewrites every bar's state."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: as_javascript_writes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_javascript_writes(v) for v in value]
    return value


def finish(path: Path) -> int:
    """Rewrite the bars of one notebook in place; returns how many were rewritten."""
    nb = json.loads(path.read_text())
    state = nb.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    changed = 0
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            view = out.get("data", {}).get(WIDGET_VIEW)
            text = bar_text(state, view["model_id"]) if view else None
            stored = out.get("data", {}).get("text/plain")
            if text is not None and stored != [text]:
                out["data"]["text/plain"] = [text]  # a list of lines, as Jupyter itself writes it
                changed += 1
    widgets = nb.get("metadata", {}).get("widgets")
    if widgets is not None and json.dumps(as_javascript_writes(widgets)) != json.dumps(widgets):
        nb["metadata"]["widgets"] = as_javascript_writes(widgets)
        changed += 1
    if changed:
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return changed


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{name}: {finish(Path(name))} outputs or widget states rewritten")
