"""Client side of devicekeys: a device's key pair, its proofs, and (later) the HTTP client."""

from .device import DeviceKeyPair

__all__ = ["DeviceKeyPair"]
