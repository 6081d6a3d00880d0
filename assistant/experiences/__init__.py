"""Experience cards (structured records of concrete experiences), precedent finder, comparison and note drafting."""
