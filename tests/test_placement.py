"""The placement rehearsal (kd.placement): a pretend GPU on the CPU must fail where a real GPU fails (a model
called with a batch left on the CPU, a loss that mixes the two devices, `.numpy()` of a GPU tensor) and must not
fail where a GPU does not (moves, generation, an optimiser step, a CPU scalar, library code that creates tensors
on its inputs' device). The notebooks run under it in `make rehearse`."""
import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

import kdcourse as kd
from kdcourse import placement

MIXED = "Expected all tensors to be on the same device.*cuda:0 and cpu"


def tiny_llama(seed=0):
    torch.manual_seed(seed)
    return LlamaForCausalLM(LlamaConfig(vocab_size=60, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                        num_key_value_heads=2, intermediate_size=64, max_position_embeddings=64,
                                        bos_token_id=1, eos_token_id=2, pad_token_id=0))


@pytest.fixture
def blocks():
    return torch.randint(3, 60, (8, 12), generator=torch.Generator().manual_seed(0))


def test_a_model_on_the_device_called_with_cpu_inputs_fails_as_on_a_gpu(blocks):
    """Notebook 06 before issue 25: `teacher(input_ids=held_out[:4])` with the teacher on the GPU."""
    with placement.simulate():
        teacher = tiny_llama().to(kd.device.device())
        assert kd.device.device().type == "cuda" and kd.loop.model_device(teacher).type == "cuda"
        with pytest.raises(RuntimeError, match=MIXED):
            teacher(input_ids=blocks[:4])
        logits = teacher(input_ids=kd.loop.to_model(blocks[:4], teacher)).logits
        assert logits.device.type == "cuda" and blocks.device.type == "cpu"  # a move copies; the CPU tensor stays
    assert kd.device.device().type == "cpu"  # everything restored after the block


def test_tensors_of_two_devices_meeting_outside_a_model_fail(blocks):
    """Notebook 06's section 10 before issue 25: a loss from the teacher's GPU logits and CPU labels."""
    with placement.simulate():
        teacher = tiny_llama().to(kd.device.device())
        logits = teacher(input_ids=kd.loop.to_model(blocks, teacher)).logits
        with pytest.raises(RuntimeError, match=MIXED):
            torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, 60), blocks[:, 1:].reshape(-1))
        with pytest.raises(TypeError, match="numpy"):
            logits.detach().numpy()
        labels = kd.loop.to_model(blocks, teacher)[:, 1:].reshape(-1)
        loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, 60), labels)
        assert torch.isfinite(loss.cpu()) and loss.detach().cpu().numpy().shape == ()


def test_what_works_on_a_gpu_works_here(blocks):
    """No false alarms: generation (transformers creates tensors on its inputs' device), a training step with
    AdamW, a CPU scalar in arithmetic, a model moved back to the CPU, dtype changes that keep the device."""
    with placement.simulate():
        student = tiny_llama(seed=1).to(kd.device.device())
        ids = kd.loop.to_model(blocks, student)
        out = student.generate(ids[:2, :4], attention_mask=torch.ones_like(ids[:2, :4]), max_new_tokens=3,
                               do_sample=False, pad_token_id=0)
        assert out.device.type == "cuda" and out.shape == (2, 7)
        optimizer = torch.optim.AdamW(student.parameters(), lr=1e-3)
        loss = student(input_ids=ids, labels=ids).loss * torch.tensor(2.0)  # a 0-dim CPU tensor may mix
        loss.backward()
        optimizer.step()
        assert loss.half().device.type == "cuda" and loss.item() > 0
        student.to("cpu")
        assert kd.loop.model_device(student).type == "cpu"
        student(input_ids=blocks)  # a CPU model with CPU inputs


def test_the_environment_switch_is_checked(monkeypatch):
    monkeypatch.setenv("KDCOURSE_PLACEMENT", "gpu")
    with pytest.raises(ValueError, match="only value is 'simulate'"):
        placement.simulate_from_environment()
    monkeypatch.delenv("KDCOURSE_PLACEMENT")
    assert placement.simulate_from_environment() is False


def _gpu():
    return torch.arange(12.0).reshape(4, 3).to(kd.device.device())


FAILS_ON_A_GPU = {  # each of these raises on a real GPU (the placement rehearsal must catch it too)
    "np.asarray of a GPU tensor": lambda g: __import__("numpy").asarray(g),
    "a CPU total += a GPU loss": lambda g: torch.tensor(0.0).__iadd__(g.sum()),
    "a CPU tensor indexed by GPU indices": lambda g: torch.zeros(4)[g[:, 0].long() % 4],
    "a GPU mask written into CPU labels": lambda g: torch.zeros(4).__setitem__(g[:, 0] > 3, -100.0),
    "stacking a GPU scalar with a CPU scalar": lambda g: torch.stack([g.sum(), torch.tensor(1.0)]),
    "concatenating GPU and CPU rows": lambda g: torch.cat([g, torch.zeros(1, 3)]),
}
WORKS_ON_A_GPU = {  # and each of these works there (no false alarm)
    "deepcopy of a model on the GPU": lambda g: __import__("copy").deepcopy(torch.nn.Linear(3, 2).to(g.device))(g),
    "a layer made on the device": lambda g: torch.nn.Linear(3, 2, device=g.device)(g),
    "a CPU model loading a GPU state dict": lambda g: torch.nn.Linear(3, 2).load_state_dict(
        torch.nn.Linear(3, 2).to(g.device).state_dict()),
    "a CPU copy of a weight leaves the model on the GPU": lambda g: (lambda m: (m.weight.cpu(), m(g)))(
        torch.nn.Linear(3, 2).to(g.device)),
    "a list of GPU scalars made into a tensor is on the CPU": lambda g: torch.tensor([g.sum().item(), 1.0]).numpy(),
    "type_as moves to the other tensor's device": lambda g: torch.nn.functional.mse_loss(torch.ones(4, 3).type_as(g), g),
    "a GPU tensor indexed by CPU indices": lambda g: g[torch.tensor([0, 2])],
    "numpy(force=True)": lambda g: g.numpy(force=True),
}


@pytest.mark.parametrize("case", FAILS_ON_A_GPU)
def test_what_fails_on_a_gpu_fails_here(case):
    with placement.simulate(), pytest.raises((RuntimeError, TypeError), match="same device|indices should be|numpy"):
        FAILS_ON_A_GPU[case](_gpu())


@pytest.mark.parametrize("case", WORKS_ON_A_GPU)
def test_what_works_on_a_gpu_does_not_fail_here(case):
    with placement.simulate():
        WORKS_ON_A_GPU[case](_gpu())


def test_a_saved_gpu_tensor_loads_on_the_cpu_unmarked(tmp_path):
    with placement.simulate():
        torch.save(_gpu(), tmp_path / "t.pt")
        assert torch.load(tmp_path / "t.pt", map_location="cpu").numpy().shape == (4, 3)
