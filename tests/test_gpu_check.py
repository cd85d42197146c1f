"""scripts/gpu_check.py, the prepared run for a lent GPU machine: it carries what that machine lacks, at the course's
versions, and nothing that would replace the machine's own CUDA build of torch."""
import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_script():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "scripts" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def requirement_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        match = re.match(r"([A-Za-z0-9_.-]+)==([^\s#]+)", line)
        if match:
            pins[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return pins


def test_the_wheels_carried_are_what_the_image_lacks_at_the_course_pins():
    gpu_check = load_script()
    wheels = gpu_check.needed_wheels()
    # what a notebook run needs and the image does not hold, and the pins whose versions matter
    assert {"datasets", "trl", "gguf", "nbval", "ipykernel", "transformers", "tokenizers", "huggingface-hub"} <= set(wheels)
    # never the machine's torch (its CUDA build), nor what the image holds at a version that works
    assert not {"torch", "torchvision", "numpy", "pandas", "scipy", "matplotlib"} & set(wheels)
    pins = requirement_pins()
    assert all(wheels[name] == pins[name] for name in wheels if name in pins), \
        {name: (wheels[name], pins[name]) for name in wheels if name in pins and wheels[name] != pins[name]}
