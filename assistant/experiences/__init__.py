"""Experience cards (structured records of concrete experiences), the precedent finder and comparisons."""
