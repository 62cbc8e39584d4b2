"""DSSE envelopes signed with Ed25519 (SPEC 1.2): verifying on the board, signing at the province.

A manifest is trusted only when one of its signatures verifies against a configured public
key; the `keyid` is a hint to try that key first, never a reason to trust. The same envelope
carries software releases and rollouts (SPEC 8), told apart by their payload type, which is
signed too: a manifest's signature can never be passed off as a release's.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kiosk.core.config import public_key_bytes
from kiosk.core.textrules import shown

MANIFEST_TYPE = "application/vnd.kiosk.manifest+json"
RELEASE_TYPE = "application/vnd.kiosk.release+json"  # signed by a release key (SPEC 8.1)
ROLLOUT_TYPE = "application/vnd.kiosk.rollout+json"  # signed by the content key (SPEC 8.2)


class EnvelopeError(ValueError):
    """An envelope that cannot be trusted; `code` is the problem code of SPEC 3.3."""

    def __init__(self, code: str, problem: str) -> None:
        self.code = code
        super().__init__(problem)


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what is actually signed."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def keyid(raw_public_key: bytes) -> str:
    return hashlib.sha256(raw_public_key).hexdigest()


def public_key_text(raw_public_key: bytes) -> str:
    return "ed25519:" + base64.b64encode(raw_public_key).decode("ascii")


def _b64(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise EnvelopeError("manifest_invalid", f"{what} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:  # binascii.Error, or a character outside ASCII (found by fuzzing)
        raise EnvelopeError("manifest_invalid", f"{what} is not valid base64") from None


def verify_envelope(
    data: bytes, public_keys: Sequence[str], payload_type: str = MANIFEST_TYPE
) -> bytes:
    """The payload bytes of an envelope of that type signed by one of the keys, or
    EnvelopeError (its code is manifest_invalid or signature_invalid whatever the type: the
    caller of a release or rollout reports it under its own code)."""
    try:
        env = json.loads(data)
    except RecursionError:
        raise EnvelopeError("manifest_invalid", "the envelope is nested too deeply") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EnvelopeError("manifest_invalid", f"the envelope is not valid JSON ({exc})") from None
    if not isinstance(env, dict):
        raise EnvelopeError("manifest_invalid", "the envelope is not a JSON object")
    ptype = env.get("payloadType")
    if ptype != payload_type:
        raise EnvelopeError(
            "manifest_invalid", f"payloadType is {shown(ptype)}, not {payload_type!r}"
        )
    payload = _b64(env.get("payload"), "payload")
    sigs = env.get("signatures")
    if not isinstance(sigs, list) or not sigs:
        raise EnvelopeError("signature_invalid", "the envelope carries no signatures")
    keys = {
        keyid(raw): Ed25519PublicKey.from_public_bytes(raw)
        for raw in map(public_key_bytes, public_keys)
    }
    message = pae(payload_type, payload)
    for sig in sigs[:16]:  # a bound on the work an envelope can ask of a small board
        if not isinstance(sig, dict):
            continue
        try:
            signature = _b64(sig.get("sig"), "sig")
        except EnvelopeError:
            continue
        hint = sig.get("keyid")
        order = sorted(keys.items(), key=lambda kv: kv[0] != hint)  # the hinted key first
        for _, key in order:
            try:
                key.verify(signature, message)
                return payload
            except InvalidSignature:
                continue
    raise EnvelopeError(
        "signature_invalid", "no signature verifies against a trusted public key in kiosk.toml"
    )


def sign_envelope(
    payload: bytes, key: Ed25519PrivateKey, payload_type: str = MANIFEST_TYPE
) -> bytes:
    raw = raw_public_key(key)
    env = {
        "payloadType": payload_type,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [
            {
                "keyid": keyid(raw),
                "sig": base64.b64encode(key.sign(pae(payload_type, payload))).decode("ascii"),
            }
        ],
    }
    return (json.dumps(env, indent=1) + "\n").encode("utf-8")


def raw_public_key(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def write_private_key(path: Path, key: Ed25519PrivateKey) -> None:
    """A PKCS#8 PEM file, created with mode 0600; an existing file is never overwritten."""
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
        f.flush()
        os.fsync(f.fileno())


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The signing key of `kiosk keygen`; ValueError with a plain message otherwise."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: is not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: is not an Ed25519 key (make one with kiosk keygen)")
    return key
