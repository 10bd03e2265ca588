"""Inference: one interface, three implementations (remote, embedded, scripted)."""

from play.engine.inference.base import (
    Backend,
    EmptyCompletion,
    EndpointDown,
    EndpointTimeout,
    GenParams,
    InferenceError,
    InvalidOutput,
    Message,
    RateLimited,
    Refusal,
    ServerError,
)
from play.engine.inference.registry import get_backend, override_backend

__all__ = [
    "Backend",
    "EmptyCompletion",
    "EndpointDown",
    "EndpointTimeout",
    "GenParams",
    "InferenceError",
    "InvalidOutput",
    "Message",
    "RateLimited",
    "Refusal",
    "ServerError",
    "get_backend",
    "override_backend",
]
