"""Shared test setup: never reach the Hugging Face hub, use the smoke profile unless a test picks
another, and run on one thread (tiny models are fastest that way, and far faster when other
processes share the cores)."""
import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("KDCOURSE_PROFILE", "smoke")

import pytest  # noqa: E402
import torch  # noqa: E402

import kdcourse as kd  # noqa: E402


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tok():
    """The course's WordPiece tokenizer, loaded once."""
    return kd.load_tokenizer(kd.get_profile("smoke"))


@pytest.fixture(scope="session")
def rehearsal_cache(tmp_path_factory):
    """The tiny rehearsal cache (random models under the real hub ids), built once per test session."""
    from kdcourse.rehearsal import build

    cache = tmp_path_factory.getbasetemp() / "hf-rehearsal" / "hub"
    build(cache, "tiny")
    return cache
