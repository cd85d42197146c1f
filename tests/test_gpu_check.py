"""scripts/gpu_check.py, the prepared run for a lent GPU machine: it carries what that machine lacks, at the course's
versions, and nothing that would replace the machine's own CUDA build of torch."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_script(name="gpu_check"):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def requirement_pins() -> dict[str, str]:
    return load_script("colab_check").read_pins(ROOT / "requirements.txt")  # the Colab check's reading of the pins


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
