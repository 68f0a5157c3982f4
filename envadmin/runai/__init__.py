"""Talking to a real Run:ai control plane (proxy mode): the HTTP client, its errors, tokens."""

from .client import RunaiClient
from .errors import (
    ControlPlaneFailed,
    ControlPlaneTimeout,
    ControlPlaneUnavailable,
    UpstreamError,
)
from .tokens import ServiceAccountTokens

__all__ = [
    "ControlPlaneFailed",
    "ControlPlaneTimeout",
    "ControlPlaneUnavailable",
    "RunaiClient",
    "ServiceAccountTokens",
    "UpstreamError",
]
