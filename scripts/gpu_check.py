"""The gpu path on a real GPU, in the T4's precision: what CI's CPU rehearsal cannot see (device placement, fp16
with a loss scaler, GPU memory), in one prepared run.

CI rehearses the gpu profile on the CPU (`make rehearse`). On a CUDA machine this script runs the same rehearsal
with the course's precision forced to the T4's (KDCOURSE_PRECISION=fp16: fp16 with a loss scaler, where an A100 or
H100 would pick bf16), so every GPU-only cell runs too, then times the gpu profile at its real sizes on random
full-size models. Each notebook's wall time and peak GPU memory (nvidia-smi's memory.used, the CUDA context
included) go to $OUT/summary.txt (OUT defaults to /tmp/kdcourse_gpu_check), a line per executed cell to
progress.txt (a run stopped at --timeout still says how far it got), its log's tail to logs.txt.

    python scripts/gpu_check.py prepare          # here, with the package index: .gpu/ (wheels + the tiny cache)
    python3 scripts/gpu_check.py tiny            # there: every notebook on the tiny stand-ins, fp16 forced
    python3 scripts/gpu_check.py full 06 04      # there: the gpu profile's sizes, for the named notebooks

KDCOURSE_PRECISION=fp16 is the default here (a T4's precision, on any GPU); set it to bf16 or fp32 to time another.

A machine without a package index (a lent GPU machine) gets the course's Python packages as wheels: `prepare`
downloads, for that machine's Python, those the course needs beyond what its image holds (IMAGE below), and the
tiny rehearsal cache, whose tokenizers the full one reuses (`--tokenizers-from`: the asset packages stay behind).
"""
from __future__ import annotations

import argparse
import importlib.metadata as md
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from pathlib import Path

from packaging.utils import canonicalize_name  # PEP 503: 'scikit_learn' and 'Scikit-Learn' are one package

ROOT = Path(__file__).resolve().parent.parent
PREPARED = ROOT / ".gpu"  # ignored by git (.gitignore); carried to the GPU machine
OUT = Path(os.environ.get("OUT", "/tmp/kdcourse_gpu_check"))
WORK = Path("/tmp/kdcourse_gpu_check_work")
PYTHON = "3.12"  # the lent machines' Python (3.12.3 with torch 2.11.0 in 2026-11)
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
             "manylinux1_x86_64"]
# The Python packages the lent GPU machines' image holds (its package list, read 2026-11-17); the course brings its
# own version of those whose version matters (PINNED), and every other package it needs.
IMAGE = """
absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio attrs botorch build certifi
charset-normalizer chex click cloudpickle cmake colorama contourpy coverage cuda-bindings cuda-core cuda-pathfinder
cuda-toolkit cupy-cuda13x cycler cython diffrax e3nn einops equinox etils execnet filelock flatbuffers flax
fonttools formulaic frozenlist fsspec gpytorch grpcio h11 h5py hf-xet httpcore httpx huggingface-hub humanize
hypothesis idna imageio iniconfig interface-meta jax jax-cuda13-pjrt jax-cuda13-plugin jaxlib jaxtyping jinja2
joblib kiwisolver lazy-loader lightning lightning-utilities linear-operator lineax llvmlite lxml markdown
markdown-it-py markupsafe matplotlib mdurl meson ml-dtypes mpi4py mpmath msgpack multidict multipledispatch
mypy-extensions nanobind narwhals networkx ninja numba numba-cuda numpy numpyro nvidia-cublas nvidia-cuda-cupti
nvidia-cuda-nvrtc nvidia-cuda-runtime nvidia-cudnn-cu13 nvidia-cufft nvidia-cufile nvidia-curand nvidia-cusolver
nvidia-cusparse nvidia-cusparselt-cu13 nvidia-ml-py nvidia-nccl-cu13 nvidia-nvjitlink nvidia-nvshmem-cu13
nvidia-nvtx onnx onnx-ir onnxruntime onnxscript opencv-python-headless opt-einsum opt-einsum-fx optax optimistix
orbax-checkpoint packaging pandas pathspec patsy peft pillow pip pluggy portalocker prometheus-client propcache
protobuf psutil py-cpuinfo pyarrow pybind11 pygments pyparsing pyproject-hooks pyre-extensions pytest
pytest-benchmark pytest-cov pytest-mock pytest-timeout pytest-xdist python-dateutil pytorch-lightning pyyaml regex
requests rich sacrebleu safetensors scikit-build-core scikit-image scikit-learn scipy seaborn sentence-transformers
sentencepiece setuptools shellingham simplejson six sortedcontainers statsmodels sympy tabulate tensorboard
tensorboard-data-server tensorstore threadpoolctl tifffile tiktoken timm tokenizers toolz torch torch-geometric
torchaudio torchdiffeq torchmetrics torchvision tqdm transformers treescope triton typer typing-extensions
typing-inspect urllib3 uvloop wadler-lindig werkzeug wheel wrapt xarray xxhash yarl zipp""".split()
PINNED = {"transformers", "tokenizers", "huggingface-hub"}  # the image's are older than the course's pins
ROOTS = ["transformers", "tokenizers", "huggingface_hub", "datasets", "trl", "gguf", "nbval", "ipykernel", "nbclient",
         "nbformat", "ipywidgets", "scipy", "scikit-learn", "pandas", "matplotlib", "onnxscript", "onnxruntime"]
LEFT_OUT = {"debugpy", "jedi", "widgetsnbextension", "jupyterlab-widgets"}  # optional for a kernel run by nbval: 10 MB
MARKERS = {"extra": "", "python_version": PYTHON, "python_full_version": PYTHON + ".3", "sys_platform": "linux",
           "platform_system": "Linux", "os_name": "posix", "platform_machine": "x86_64",
           "implementation_name": "cpython", "platform_python_implementation": "CPython"}


def needed_wheels() -> dict[str, str]:
    """name -> version: what the course's environment here installs for ROOTS, less what the image holds."""
    from packaging.requirements import Requirement

    found: dict[str, str] = {}

    def walk(name: str) -> None:
        if canonicalize_name(name) in found:
            return
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            return
        found[canonicalize_name(name)] = dist.version
        for line in dist.requires or []:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate(MARKERS):
                walk(req.name)

    for name in ROOTS:
        walk(name)
    image = {canonicalize_name(n) for n in IMAGE}
    return {n: v for n, v in sorted(found.items())
            if (n not in image or n in PINNED) and n not in LEFT_OUT and not n.startswith(("nvidia-", "torch"))}


def prepare() -> None:
    """Here: the wheels for the GPU machine's Python and the tiny rehearsal cache, into .gpu/."""
    shutil.rmtree(PREPARED, ignore_errors=True)
    wheels = PREPARED / "whl"
    wanted = needed_wheels()
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                    "--python-version", PYTHON, "--implementation", "cp", *platforms, "-d", str(wheels),
                    *(f"{n}=={v}" for n, v in wanted.items())], check=True)
    cache = WORK / "prepare" / "hub"
    shutil.rmtree(cache.parent, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "kdcourse.rehearsal", "--output", str(cache), "--size", "tiny"], check=True)
    with tarfile.open(PREPARED / "tiny_hub.tgz", "w:gz") as tar:
        tar.add(cache, arcname="hub")
    size = sum(f.stat().st_size for f in PREPARED.rglob("*") if f.is_file()) / 2**20
    print(f"{len(wanted)} wheels and the tiny cache in {PREPARED.relative_to(ROOT)}/: {size:.0f} MiB")


def install_prepared() -> dict[str, str]:
    """There: the carried wheels on the path (of this process and of the kernels it starts), the tiny cache
    unpacked; the environment every run shares."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", KDCOURSE_PRECISION=os.environ.get("KDCOURSE_PRECISION", "fp16"),
               PYTHONUNBUFFERED="1", TOKENIZERS_PARALLELISM="false")
    paths = [str(ROOT)]
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    if (PREPARED / "whl").is_dir() and here != PYTHON:
        print(f"the wheels in {PREPARED.name}/whl are for Python {PYTHON}, this is {here}: "
              "using this environment's packages")
    elif (PREPARED / "whl").is_dir():
        site = WORK / "site"
        wheels = sorted((PREPARED / "whl").glob("*.whl"))
        pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
                              "--no-cache-dir", "--upgrade", "--target", str(site), *map(str, wheels)])
        if pip.returncode != 0:  # no pip in that Python: a wheel is a zip of what site-packages holds
            print("pip could not install the wheels: unpacking them instead")
            for wheel in wheels:
                zipfile.ZipFile(wheel).extractall(site)
        paths.insert(0, str(site))
    env["PYTHONPATH"] = os.pathsep.join(paths + [p for p in [os.environ.get("PYTHONPATH")] if p])
    tiny = WORK / "tiny" / "hf"
    if not tiny.exists() and (PREPARED / "tiny_hub.tgz").exists():
        shutil.rmtree(tiny.with_name("hf.partial"), ignore_errors=True)
        with tarfile.open(PREPARED / "tiny_hub.tgz") as tar:
            tar.extractall(tiny.with_name("hf.partial"), filter="data")
        tiny.with_name("hf.partial").rename(tiny)
    build_once(tiny, [sys.executable, "-m", "kdcourse.rehearsal", "--output", str(tiny / "hub")], env)  # assets here
    return env


def gpu_memory_sampler(stop: threading.Event, peaks: list[int]) -> None:
    """The largest memory.used (MiB) nvidia-smi reports, every quarter second until `stop` (none without it)."""
    while shutil.which("nvidia-smi") and not stop.is_set():
        out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True).stdout.split()
        if out:
            peaks.append(int(out[0]))
        stop.wait(0.25)


def run_cells(path: Path, progress: Path) -> None:
    """Execute a notebook as nbval does (every cell, stop at the first error; no output compared), one progress line
    per cell, so that a run stopped at its time limit still says how far it got."""
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    code = sum(c.cell_type == "code" for c in nb.cells)
    start, done = time.perf_counter(), [0]

    def executed(cell, cell_index, execute_reply):
        done[0] += cell.cell_type == "code"
        with open(progress, "a") as f:
            f.write(f"  {path.name[:2]} code cell {done[0]:3d}/{code} (index {cell_index:3d}) done at "
                    f"{time.perf_counter() - start:6.0f} s\n")

    client = nbclient.NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}},
                                     on_cell_executed=executed)
    client.execute()


def run_notebook(path: Path, env: dict[str, str], label: str, timeout: int) -> bool:
    """One notebook, timed, its GPU memory sampled; True when every cell ran."""
    stop, peaks = threading.Event(), [0]
    sampler = threading.Thread(target=gpu_memory_sampler, args=(stop, peaks), daemon=True)
    sampler.start()
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "cells", str(path), "--progress", str(OUT / "progress.txt")],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)  # its own process group: the kernel it starts goes with it
    try:
        log, _ = proc.communicate(timeout=timeout)
        status = "every cell ran" if proc.returncode == 0 else f"failed (exit {proc.returncode})"
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        log, _ = proc.communicate()
        status = f"stopped at {timeout} s"
    seconds = time.perf_counter() - start
    stop.set()
    sampler.join()
    line = f"{label:5s} {path.name:40s} {status:20s} {seconds / 60:5.1f} min   peak GPU memory {max(peaks):6,d} MiB"
    print(line, flush=True)
    with open(OUT / "summary.txt", "a") as f:
        f.write(line + "\n")
    with open(OUT / "logs.txt", "a") as f:
        f.write(f"\n===== {label} {path.name}: {status}\n" + "\n".join((log or "").splitlines()[-60:]) + "\n")
    return proc.returncode == 0


def check_versions(env: dict[str, str]) -> list[str]:
    """There: each carried package's requirements against what this machine holds (a carried `datasets` that needs a
    newer pyarrow than the image's, say): one line per requirement not met."""
    wheels = sorted((PREPARED / "whl").glob("*.whl")) if (PREPARED / "whl").is_dir() else []
    names = [w.name.split("-")[0] for w in wheels]
    code = ("import sys, importlib.metadata as md\n"
            "from packaging.requirements import Requirement\n"
            "for name in sys.argv[1:]:\n"
            "    for line in md.distribution(name).requires or []:\n"
            "        req = Requirement(line)\n"
            "        if req.marker is not None and not req.marker.evaluate({'extra': ''}):\n"
            "            continue\n"
            "        try:\n"
            "            have = md.version(req.name)\n"
            "        except md.PackageNotFoundError:\n"
            "            print(f'{name} needs {req}: not installed')\n"
            "            continue\n"
            "        if req.specifier and not req.specifier.contains(have, prereleases=True):\n"
            "            print(f'{name} needs {req}: {have} is installed')\n")
    out = subprocess.run([sys.executable, "-c", code, *names], env=env, capture_output=True, text=True)
    return out.stdout.splitlines() + [f"version check failed: {line}" for line in out.stderr.splitlines()[-3:]]


def build_once(folder: Path, command: list[str], env: dict[str, str]) -> None:
    """Run `command`, which writes `folder`, unless an earlier run completed it: the command writes a temporary
    folder instead (renamed when it succeeds, so a half-written one is never reused); a failure shows its output."""
    if folder.exists():
        return
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    start = time.perf_counter()
    done = subprocess.run([part.replace(str(folder), str(partial)) for part in command], env=env, capture_output=True,
                          text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    partial.rename(folder)
    print(f"{folder.relative_to(WORK)} written in {time.perf_counter() - start:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stage", choices=["prepare", "tiny", "full", "cells"])
    parser.add_argument("notebooks", nargs="*", help="numbers, e.g. 06 04 (default: every notebook)")
    parser.add_argument("--timeout", type=int, default=540, help="seconds per notebook")
    parser.add_argument("--allow-cpu", action="store_true", help="run without a GPU (to try the script itself)")
    parser.add_argument("--progress", type=Path, help=argparse.SUPPRESS)  # `cells`: where its progress lines go
    args = parser.parse_args()
    if args.stage == "prepare":
        return prepare()
    if args.stage == "cells":  # the child process of run_notebook
        return run_cells(Path(args.notebooks[0]), args.progress)
    OUT.mkdir(parents=True, exist_ok=True)
    env = install_prepared()
    probe = subprocess.run([sys.executable, "-c", "import torch, transformers, kdcourse as kd; "
                            "print(torch.cuda.is_available()); print(kd.device.describe(), '| torch', "
                            "torch.__version__, '| transformers', transformers.__version__)"],
                           env=env, capture_output=True, text=True, cwd=ROOT)
    if probe.returncode != 0:
        sys.exit(f"the course does not import here:\n{probe.stderr[-3000:]}")
    cuda, header = probe.stdout.strip().splitlines()[-2:]
    if cuda != "True" and not args.allow_cpu:
        sys.exit(f"no CUDA GPU here ({header}): this check is for a GPU machine (--allow-cpu to try it anyway)")
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if args.notebooks:
        unknown = [n for n in args.notebooks if not any(nb.name.startswith(n) for nb in notebooks)]
        if unknown:
            sys.exit(f"no notebook starts with {', '.join(unknown)}: name them by number, e.g. 06 04")
        notebooks = [nb for n in args.notebooks for nb in notebooks if nb.name.startswith(n)]
    with open(OUT / "summary.txt", "a") as f:
        f.write(f"# {args.stage}: {header}\n" + "".join(f"# {line}\n" for line in check_versions(env)))
    print(header, flush=True)
    hf = WORK / args.stage / "hf"
    if args.stage == "full":
        build_once(hf, [sys.executable, "-m", "kdcourse.rehearsal", "--output", str(hf / "hub"), "--size", "full",
                        "--tokenizers-from", str(WORK / "tiny" / "hf" / "hub")], env)
    env |= dict(KDCOURSE_PROFILE="rehearsal" if args.stage == "tiny" else "gpu", HF_HOME=str(hf),
                KDCOURSE_CACHE=str(WORK / args.stage / "cache"))
    results = [run_notebook(nb, env, args.stage, args.timeout) for nb in notebooks]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
