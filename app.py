"""The practitioners' web interface: ``python app.py`` (settings -> services -> UI -> launch).

Settings come from ``assistant.toml`` and ``ASSISTANT_*`` variables (``ASSISTANT_UI__HOST``,
``ASSISTANT_UI__PORT`` or ``GRADIO_SERVER_PORT``, ``ASSISTANT_UI__AUTH_USER``/``AUTH_PASSWORD``…). On an
empty index the demo corpus is indexed first; documents already indexed are kept.
"""

import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline: no telemetry calls

from assistant.factory import build_services  # noqa: E402
from assistant.settings import load_settings  # noqa: E402
from assistant.ui import PortInUse, bind, build_ui, launch  # noqa: E402

DEMO_CORPUS = Path(__file__).resolve().parent / "corpus" / "demo"


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    try:
        bind(settings.ui.host, settings.ui.port).close()  # a busy port is said before the demo corpus is indexed
    except PortInUse as exc:
        sys.exit(str(exc))
    services = build_services(settings)
    try:
        services.indexer.index_demo_if_empty(DEMO_CORPUS)
        launch(build_ui(services), services)
    except PortInUse as exc:
        sys.exit(str(exc))
    finally:
        services.close()


if __name__ == "__main__":
    main()
