"""DSSE and Ed25519 against the vectors of an independent implementation (SPEC 1.2)."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.core.model import ImageItem, parse_manifest
from kiosk.core.signing import (
    EnvelopeError,
    keyid,
    pae,
    public_key_text,
    raw_public_key,
    sign_envelope,
    verify_envelope,
)
from tests.test_model import VECTORS

KEYS = json.loads((VECTORS / "keys.json").read_text())
TRUSTED = [KEYS["trusted_public_key"]]


@pytest.mark.parametrize("name", ["valid.json", "valid-two-signatures.json"])
def test_valid_vectors_are_accepted_with_the_exact_payload(name):
    payload = verify_envelope((VECTORS / name).read_bytes(), TRUSTED)
    assert payload == (VECTORS / "manifest.payload.json").read_bytes()


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("bad-signature.json", "signature_invalid"),
        ("wrong-key.json", "signature_invalid"),
        ("wrong-payload-type.json", "manifest_invalid"),
    ],
)
def test_bad_vectors_are_rejected(name, code):
    with pytest.raises(EnvelopeError) as caught:
        verify_envelope((VECTORS / name).read_bytes(), TRUSTED)
    assert caught.value.code == code


def test_wrong_key_vector_is_accepted_only_by_a_board_that_trusts_that_key():
    verify_envelope((VECTORS / "wrong-key.json").read_bytes(), [KEYS["untrusted_public_key"]])


def test_the_asset_vector_matches_the_manifests_image_item():
    payload = json.loads((VECTORS / "manifest.payload.json").read_bytes())
    manifest, errors = parse_manifest(payload, "tinh-08")
    assert not errors and manifest.sequence == 7
    (img,) = [i for i in manifest.items if isinstance(i, ImageItem)]
    data = (VECTORS / "asset.png").read_bytes()
    assert img.id == "anh-01"
    assert hashlib.sha256(data).hexdigest() == img.asset.sha256 and len(data) == img.asset.size


def test_the_seed_gives_the_trusted_key_and_its_keyid():
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(KEYS["trusted_private_seed_hex"]))
    assert public_key_text(raw_public_key(key)) == KEYS["trusted_public_key"]
    assert keyid(raw_public_key(key)) == KEYS["trusted_keyid"]


def test_our_signature_verifies_like_the_vectors():
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(KEYS["trusted_private_seed_hex"]))
    payload = (VECTORS / "manifest.payload.json").read_bytes()
    env = json.loads(sign_envelope(payload, key))
    valid = json.loads((VECTORS / "valid.json").read_bytes())
    assert env == valid  # Ed25519 is deterministic: the same payload gives the same envelope
    assert verify_envelope(json.dumps(env).encode(), TRUSTED) == payload


def test_pae_is_length_prefixed():
    assert pae("t", b"ab") == b"DSSEv1 1 t 2 ab"
    assert pae("é", b"") == b"DSSEv1 2 \xc3\xa9 0 "


def test_the_keyid_is_a_hint_only():
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(KEYS["trusted_private_seed_hex"]))
    env = json.loads(sign_envelope(b"{}", key))
    env["signatures"][0]["keyid"] = "0" * 64  # a wrong hint: the signature still counts
    assert verify_envelope(json.dumps(env).encode(), TRUSTED) == b"{}"
    env["signatures"][0]["keyid"] = KEYS["trusted_keyid"]
    env["payload"] = base64.b64encode(b"{ }").decode()  # a right hint: the bytes still count
    with pytest.raises(EnvelopeError):
        verify_envelope(json.dumps(env).encode(), TRUSTED)
