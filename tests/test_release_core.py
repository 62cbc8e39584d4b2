"""The pure rules of software updates (SPEC 8.1, 8.2): documents, buckets, versions, wheels."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from packaging.tags import Tag

from kiosk.core.release import (
    MAX_WHEEL_BYTES,
    UpdateError,
    bucket,
    parse_release,
    parse_rollout,
    python_refusal,
    rollout_refusal,
    version_wanted,
)
from kiosk.core.signing import (
    MANIFEST_TYPE,
    RELEASE_TYPE,
    ROLLOUT_TYPE,
    EnvelopeError,
    public_key_text,
    raw_public_key,
    sign_envelope,
    verify_envelope,
)

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
ARM = "cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64"
X86 = "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"


def wheel(filename: str, size: int = 1000) -> dict:
    return {
        "filename": filename,
        "sha256": hashlib.sha256(filename.encode()).hexdigest(),
        "size": size,
    }


def release_doc(version: str = "1.2.0", **changes) -> dict:
    doc = {
        "format": 1,
        "version": version,
        "issued_at": "2026-12-01T08:00:00+07:00",
        "requires_python": ">=3.11",
        "wheels": [
            wheel(f"bangtin_kiosk-{version}-py3-none-any.whl"),
            wheel(f"pygame_ce-2.5.8-{ARM}.whl", 12_000_000),
            wheel(f"pygame_ce-2.5.8-{X86}.whl", 13_000_000),
            wheel("requests-2.34.2-py3-none-any.whl"),
        ],
    }
    doc.update(changes)
    return doc


def rollout_doc(**changes) -> dict:
    doc = {
        "format": 1,
        "sequence": 3,
        "issued_at": "2026-12-05T08:00:00+07:00",
        "expires_at": "2027-01-05T08:00:00+07:00",
        "version": "1.2.0",
        "devices": ["08-02263-01"],
        "percent": 0,
    }
    doc.update(changes)
    return doc


# Computed apart from the code, with coreutils: printf %s "$id:$v" | sha256sum, the first
# 8 hex digits as a number, modulo 100.
@pytest.mark.parametrize(
    ("device", "version", "expected"),
    [
        ("08-02263-01", "1.2.0", 75),  # 0x39adb2a7
        ("08-02263-01", "1.3.0", 94),  # 0x9cbb349a
        ("bang-tin-demo", "0.2.0", 86),  # 0x599c7ad6
        ("01-00004-01", "2.0.0rc1", 89),  # 0x5af418dd
    ],
)
def test_the_bucket_is_spec_8_2s_arithmetic(device, version, expected):
    assert bucket(device, version) == expected


def test_a_percentage_chooses_about_that_share_and_a_larger_one_keeps_the_smaller_ones():
    devices = [f"08-{n:05d}-01" for n in range(10_000)]
    ten = {d for d in devices if parse_rollout(rollout_doc(devices=[], percent=10)).chooses(d)}
    fifty = {d for d in devices if parse_rollout(rollout_doc(devices=[], percent=50)).chooses(d)}
    assert 900 <= len(ten) <= 1100 and 4800 <= len(fifty) <= 5200
    assert ten <= fifty  # advancing a stage never drops a board already chosen
    assert not any(parse_rollout(rollout_doc(devices=[], percent=0)).chooses(d) for d in devices)
    assert all(parse_rollout(rollout_doc(devices=[], percent=100)).chooses(d) for d in devices)


def test_canaries_are_chosen_whatever_their_bucket_and_a_halted_rollout_chooses_none():
    rollout = parse_rollout(rollout_doc(devices=["08-02263-01"], percent=0))
    assert rollout.chooses("08-02263-01") and not rollout.chooses("08-02263-02")
    halted = parse_rollout(rollout_doc(version=None, percent=100))
    assert not halted.chooses("08-02263-01")


def test_the_bucket_hashes_the_version_as_written():
    # "1.2" and "1.2.0" are the same PEP 440 version but not the same characters
    assert bucket("08-02263-01", "1.2") != bucket("08-02263-01", "1.2.0")
    assert parse_rollout(rollout_doc(version="1.2")).version == "1.2"


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"format": 2}, "format"),
        ({"version": "one"}, "PEP 440"),
        ({"version": 12}, "version"),
        ({"issued_at": "yesterday"}, "issued_at"),
        ({"requires_python": ">=>3"}, "requires_python"),
        ({"wheels": []}, "wheels"),
        ({"wheels": [wheel("bangtin_kiosk-1.2.0-py3-none-any.whl")] * 2}, "twice"),
        ({"wheels": [wheel("../../etc/passwd.whl")]}, "file name"),
        ({"wheels": [wheel("bangtin_kiosk-1.2.0-py3-none-any.whl", MAX_WHEEL_BYTES + 1)]}, "size"),
        ({"wheels": [{**wheel("bangtin_kiosk-1.2.0-py3-none-any.whl"), "sha256": "AB"}]}, "hex"),
        ({"wheels": [wheel("requests-2.34.2-py3-none-any.whl")]}, "bangtin-kiosk wheel"),
        ({"wheels": [wheel("bangtin_kiosk-1.1.0-py3-none-any.whl")]}, "bangtin-kiosk wheel"),
    ],
)
def test_a_release_that_breaks_a_rule_is_refused_naming_it(changes, words):
    with pytest.raises(UpdateError) as caught:
        parse_release(release_doc(**changes))
    assert caught.value.reason == "release_invalid" and caught.value.code == "update_failed"
    assert words in str(caught.value)


def test_a_release_at_the_wheel_limit_is_taken():
    many = [wheel(f"dep{i}-1.0-py3-none-any.whl") for i in range(199)]
    release = parse_release(
        release_doc(wheels=[*many, wheel("bangtin_kiosk-1.2.0-py3-none-any.whl")])
    )
    assert len(release.wheels) == 200
    with pytest.raises(UpdateError):
        parse_release(
            release_doc(wheels=[*many, wheel("x-1-py3-none-any.whl"), *release_doc()["wheels"][:1]])
        )


def test_a_board_takes_one_wheel_per_project_for_its_own_platform():
    release = parse_release(release_doc())
    arm = [
        Tag("cp311", "cp311", "manylinux_2_36_aarch64"),
        Tag("cp311", "cp311", "manylinux_2_17_aarch64"),
        Tag("py3", "none", "any"),
    ]
    names = [w.filename for w in release.wheels_for(arm)]
    assert names == [
        "bangtin_kiosk-1.2.0-py3-none-any.whl",
        f"pygame_ce-2.5.8-{ARM}.whl",
        "requests-2.34.2-py3-none-any.whl",
    ]
    with pytest.raises(UpdateError) as caught:
        release.wheels_for([Tag("cp311", "cp311", "win_amd64"), Tag("py3", "none", "any")])
    assert caught.value.reason == "platform_unsupported" and "pygame-ce" in str(caught.value)


def test_requires_python_is_held_to_the_boards_python():
    release = parse_release(release_doc(requires_python=">=3.12"))
    assert python_refusal(release, "3.11.2").reason == "python_unsupported"
    assert python_refusal(release, "3.13.5") is None


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"format": "1"}, "format"),
        ({"sequence": 0}, "sequence"),
        ({"sequence": True}, "sequence"),
        ({"expires_at": "2026-12-05T08:00:00+07:00"}, "after issued_at"),
        ({"version": "latest"}, "PEP 440"),
        ({"devices": ["../x"]}, "device id"),
        ({"devices": "08-02263-01"}, "devices"),
        ({"percent": 101}, "percent"),
        ({"percent": 5.5}, "percent"),
    ],
)
def test_a_rollout_that_breaks_a_rule_is_refused_naming_it(changes, words):
    with pytest.raises(UpdateError) as caught:
        parse_rollout(rollout_doc(**changes))
    assert caught.value.reason == "rollout_invalid" and words in str(caught.value)


def test_an_older_rollout_is_a_replay_and_an_expired_one_starts_nothing():
    rollout = parse_rollout(rollout_doc(sequence=3))
    assert rollout_refusal(rollout, 3, NOW) is None  # the same one again is fine
    assert rollout_refusal(rollout, 4, NOW).reason == "rollback_rejected"
    later = datetime(2027, 1, 5, 1, 0, tzinfo=UTC)  # 08:00+07:00 is 01:00 UTC
    assert rollout_refusal(rollout, 3, later).reason == "rollout_expired"
    assert rollout_refusal(rollout, 3, later - timedelta(seconds=1)) is None


def test_a_board_moves_only_forward_and_never_to_a_version_that_failed_on_it():
    rollout = parse_rollout(rollout_doc(version="1.2.0"))
    me = "08-02263-01"
    assert version_wanted(rollout, me, "1.1.0", []) == "1.2.0"
    assert version_wanted(rollout, me, None, []) == "1.2.0"
    assert version_wanted(rollout, me, "1.2.0", []) is None  # already there
    assert version_wanted(rollout, me, "1.10.0", []) is None  # PEP 440: 1.10 > 1.2
    assert version_wanted(rollout, me, "1.1.0", ["1.2"]) is None  # the same version, written apart
    assert version_wanted(rollout, "08-02263-02", "1.1.0", []) is None  # not chosen
    assert version_wanted(parse_rollout(rollout_doc(version=None)), me, "1.1.0", []) is None


KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUBLIC = public_key_text(raw_public_key(KEY))


@pytest.mark.parametrize("signed_as", [MANIFEST_TYPE, ROLLOUT_TYPE])
def test_an_envelope_of_another_type_is_no_release(signed_as):
    envelope = sign_envelope(b"{}", KEY, signed_as)
    with pytest.raises(EnvelopeError) as caught:
        verify_envelope(envelope, [PUBLIC], RELEASE_TYPE)
    assert "payloadType" in str(caught.value)
    assert verify_envelope(envelope, [PUBLIC], signed_as) == b"{}"
