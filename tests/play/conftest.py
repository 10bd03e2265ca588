import pytest

from play.inference.registry import override_backend
from play.inference.scripted import ScriptedBackend


@pytest.fixture
def scripted():
    backend = ScriptedBackend()
    with override_backend(backend):
        yield backend
