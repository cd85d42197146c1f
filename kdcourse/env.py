"""An environment check for notebook 00 and bug reports: versions, device, profile, assets."""
from __future__ import annotations

import platform

from .assets import asset_report


def environment_report() -> dict[str, str]:
    """Python and library versions, the compute device, and which course assets were found."""
    import datasets
    import torch
    import transformers

    from .device import describe

    device = describe()
    report = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "datasets": datasets.__version__,
        "device": device,
    }
    report.update(asset_report())
    return report
