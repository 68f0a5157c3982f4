"""Talking to a real Run:ai control plane (proxy mode, issue 5)."""

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
