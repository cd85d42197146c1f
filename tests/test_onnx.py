"""kd.measure.onnx: the ONNX Runtime student answers as the PyTorch one does, and its int8 copy is smaller."""
import torch
from transformers import BertConfig, BertForSequenceClassification

import kdcourse as kd
from kdcourse.measure import OnnxClassifier, export_onnx, quantize_onnx


def test_exported_student_matches_pytorch_and_int8_is_smaller(tmp_path, tok):
    tokenizer = tok
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=128, max_position_embeddings=64)
    model = BertForSequenceClassification(config).eval()
    texts = ["a fine film", "not good at all, long and dull", "ok"]
    fp32 = OnnxClassifier(export_onnx(model, tokenizer, tmp_path / "student.onnx"))
    int8 = OnnxClassifier(quantize_onnx(fp32.path))
    enc = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits
    got = fp32(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits
    assert torch.allclose(got, expected, atol=1e-4)  # another batch size and length than at export
    assert int8.size_mb < 0.6 * fp32.size_mb
    assert (int8(**{k: enc[k] for k in ("input_ids", "attention_mask")}).logits - expected).abs().max() < 0.5
    latency = kd.measure.latency_by_batch_size(int8, tokenizer, texts, batch_sizes=(1, 2), runs=3)
    assert set(latency) == {"p50@1", "p90@1", "p50@2", "p90@2"} and all(v > 0 for v in latency.values())
