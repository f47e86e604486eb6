"""docs/configuration.md is generated from the Settings model: it lists every setting as the code has it."""

from runform.settings import SETTING_KEYS
from runform.settings_doc import DOC, render


def test_configuration_doc_is_fresh():
    assert DOC.read_text() == render(), "docs/configuration.md is stale: run python -m runform.settings_doc"


def test_configuration_doc_lists_every_setting_and_flag():
    text = DOC.read_text()
    for key in SETTING_KEYS:
        assert f"| `{key}` | `--{key.replace('_', '-')}` |" in text, key
