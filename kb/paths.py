"""Where the repository's data files are."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INDICATORS_DIR = ROOT / "indicators"
