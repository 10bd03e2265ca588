import pytest

from play.engine.inference.registry import override_backend
from play.engine.inference.scripted import ScriptedBackend


@pytest.fixture
def scripted():
    backend = ScriptedBackend()
    with override_backend(backend):
        yield backend
