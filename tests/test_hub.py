"""hub_has honours a pre-filled Hugging Face cache and never touches the network when offline;
load_sst2 reads GLUE SST-2 from that cache."""
import pytest

import kdcourse as kd
from kdcourse import hub
from kdcourse.rehearsal import HUB_IDS, SST2_REPO


@pytest.fixture
def no_network(monkeypatch):
    """Fail the test if hub_has asks the hub anything."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"hub_has went to the network for {args}")

    monkeypatch.setattr(hub, "hub_answers", refuse)


@pytest.fixture
def offline_cache(monkeypatch, tmp_path, rehearsal_cache, no_network):
    """HF_HUB_OFFLINE=1 with the rehearsal cache as HF_HUB_CACHE; datasets' own cache in tmp_path."""
    import datasets

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(rehearsal_cache))
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "datasets")
    return rehearsal_cache


def repo_type(repo_id: str) -> str:
    return "dataset" if repo_id == SST2_REPO else "model"


@pytest.mark.parametrize("repo_id", HUB_IDS)
def test_hub_has_finds_every_rehearsed_repository_offline(offline_cache, repo_id):
    assert hub.hub_has(repo_id, repo_type=repo_type(repo_id))


def test_hub_has_is_false_for_what_is_not_cached(offline_cache):
    assert not hub.hub_has("roberta-base")
    assert not hub.hub_has("gpt2", filename="no-such-file.bin")
    assert not hub.hub_has(SST2_REPO, repo_type="dataset", filename="cola/train-00000-of-00001.parquet")


def test_hub_has_reads_the_cache_folder_at_call_time(offline_cache, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    assert not hub.hub_has("bert-base-uncased")
    monkeypatch.delenv("HF_HUB_CACHE")
    monkeypatch.setenv("HF_HOME", str(offline_cache.parent))  # the cache is HF_HOME/hub
    assert hub.hub_has("bert-base-uncased")


@pytest.fixture
def online(monkeypatch):
    """As if HF_HUB_OFFLINE had never been set (tests/conftest.py sets it before any import)."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)


def test_offline_flag_is_read_at_call_time(online, monkeypatch):
    assert not hub.hub_offline()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub.hub_offline()


def test_hub_has_asks_the_hub_only_when_online_and_not_cached(offline_cache, online, monkeypatch):
    asked = []
    monkeypatch.setattr(hub, "hub_answers", lambda *args: asked.append(args) or True)
    assert hub.hub_has("bert-base-uncased") and asked == []  # cached: no question asked
    assert hub.hub_has("roberta-base") and asked == [("roberta-base", "model", None)]


def test_hub_answers_turns_every_failure_into_false(monkeypatch):
    import huggingface_hub

    calls = []

    def unreachable(url, **kwargs):
        calls.append((url, kwargs))
        raise ConnectionError("no route to huggingface.co")

    monkeypatch.setattr(huggingface_hub, "get_hf_file_metadata", unreachable)
    assert hub.hub_answers.__wrapped__(SST2_REPO, "dataset") is False  # __wrapped__: skip the memo
    url, kwargs = calls[0]
    assert url.endswith("datasets/nyu-mll/glue/resolve/main/sst2/train-00000-of-00001.parquet")
    assert kwargs["timeout"] == hub.HUB_TIMEOUT_S


def test_unknown_dataset_needs_a_filename():
    with pytest.raises(ValueError, match="filename="):
        hub.hub_has("stanfordnlp/imdb", repo_type="dataset")


def test_load_sst2_offline_from_the_cache(offline_cache):
    ds = hub.load_sst2()
    assert {s: ds[s].column_names for s in ds} == {s: ["text", "label"] for s in ("train", "validation", "test")}
    assert (len(ds["train"]), len(ds["validation"]), len(ds["test"])) == (380, 20, 100)  # 5 % of 400
    assert set(ds["test"]["label"]) == {0, 1}  # GLUE validation, labelled; GLUE test (-1) is unused
    assert ds["train"].features["label"].names == ["negative", "positive"]
    assert not set(ds["train"]["text"]) & set(ds["validation"]["text"])
    assert hub.load_sst2()["validation"]["text"] == ds["validation"]["text"]  # the same 5 % every time


def test_gpu_sentiment_uses_sst2_from_the_cache(offline_cache, capsys):
    ds = kd.load_sentiment(kd.get_profile("gpu"))
    assert "Rotten Tomatoes" not in capsys.readouterr().out
    assert len(ds["test"]) == 100 and len(ds["train"]) == 380  # the rehearsal's SST-2, not the 1,245 snippets


def test_load_mrpc_offline_from_the_cache(offline_cache):
    ds = hub.load_mrpc()
    assert {s: ds[s].column_names for s in ds} == {s: ["sentence1", "sentence2", "label"]
                                                   for s in ("train", "validation", "test")}
    assert (len(ds["train"]), len(ds["validation"]), len(ds["test"])) == (180, 20, 60)  # 10 % of 200
    assert set(ds["test"]["label"]) == {0, 1}  # GLUE validation, labelled
    assert ds["train"].features["label"].names == ["not_equivalent", "equivalent"]


def test_gpu_pairs_use_mrpc_from_the_cache_and_say_so_when_it_is_missing(offline_cache, capsys, monkeypatch):
    gpu = kd.get_profile("gpu")
    pairs = kd.data.load_pairs(gpu)
    assert pairs["train"].features["label"].names == ["not_equivalent", "equivalent"] and len(pairs["test"]) == 60
    assert len(set(pairs["test"]["group"])) == 60  # every MRPC pair is its own group
    assert "next-sentence" not in capsys.readouterr().out
    monkeypatch.setattr(hub, "in_cache", lambda repo_id, repo_type="model", filename=None: "mrpc" not in (filename or ""))
    monkeypatch.setattr(kd.data, "hub_has", lambda *a, **k: hub.in_cache(*a, **k))
    pairs = kd.data.load_pairs(gpu)
    assert "GLUE MRPC neither on the hub nor in its local cache: using next-sentence pairs" in capsys.readouterr().out
    assert pairs["train"].features["label"].names == ["not next", "next"]
