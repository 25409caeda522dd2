"""The tests, by layer: core (lrn_core), lab (lrn_lab), app (lrn_app and the pages through
Streamlit's AppTest), browser (the app in Chromium), serving (a classroom and a cluster).
The files here hold the rules of the whole project: its layout and its packaging."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the repository
