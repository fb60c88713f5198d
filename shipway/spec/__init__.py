"""The spec: ``shipway.yaml`` as a validated pydantic model."""

from .load import SpecError, load_spec, parse_spec, validate_spec
from .model import App, Environment, Pool, Process, Spec
from .references import listener_priority

__all__ = [
    "App",
    "Environment",
    "Pool",
    "Process",
    "Spec",
    "SpecError",
    "listener_priority",
    "load_spec",
    "parse_spec",
    "validate_spec",
]
