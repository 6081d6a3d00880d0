"""The practitioners' web interface: ``python app.py`` (settings -> components -> UI -> launch).

Settings come from ``assistant.toml`` and ``ASSISTANT_*`` variables (``ASSISTANT_UI__HOST``,
``ASSISTANT_UI__PORT``, ``ASSISTANT_UI__AUTH_USER``/``AUTH_PASSWORD``…). On an empty index the demo
corpus is indexed first; documents already indexed are kept.
"""

import logging
import os
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline: no telemetry calls

from assistant.factory import build_components  # noqa: E402
from assistant.settings import load_settings  # noqa: E402
from assistant.ui import build_ui, index_demo_if_empty, launch  # noqa: E402

DEMO_CORPUS = Path(__file__).resolve().parent / "corpus" / "demo"


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    components = build_components(load_settings())
    try:
        index_demo_if_empty(components, DEMO_CORPUS)
        launch(build_ui(components), components)
    finally:
        components.close()


if __name__ == "__main__":
    main()
