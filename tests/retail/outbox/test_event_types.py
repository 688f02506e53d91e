import re
from pathlib import Path

from retail.outbox.types import EVENT_TYPES

DOC = Path(__file__).resolve().parents[3] / "docs" / "events.md"


def test_every_event_type_is_documented_and_every_documented_type_exists():
    documented = set(re.findall(r"^### `([a-z_]+\.[a-z_]+)`", DOC.read_text(), flags=re.M))
    assert documented == set(EVENT_TYPES)
