"""Tests never reach the Hugging Face hub, and use the smoke profile unless they choose another."""
import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("KDCOURSE_PROFILE", "smoke")
