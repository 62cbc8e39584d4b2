"""Where a bulletin can go, in the words an officer uses: the whole province, the communes
of a district, one commune. Each is a set of channels, by the naming of docs/protocol.md:
`tinh-<province code>` for the province, `xa-<commune code>` for a ward, town or commune
(the codes of Decision 19/2025/QĐ-TTg), which is what each board lists in source.channels.

Pure: built from the inventory's boards as the server keeps them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kiosk.core.vietnamese import search_key, sort_key

DISTRICT_PREFIX = "district:"
COMMUNE_PREFIX = "xa-"


@dataclass(frozen=True)
class Unit:
    """One board's place, as the inventory gives it."""

    unit_name: str
    province_code: str
    commune_code: str
    district: str


@dataclass(frozen=True)
class Target:
    key: str  # the form's value: a channel, or "district:<name>"
    label: str  # in Vietnamese
    channels: tuple[str, ...]


def province_channel(code: str) -> str:
    return f"tinh-{code}"


def commune_channel(code: str) -> str:
    return f"{COMMUNE_PREFIX}{code}"


def targets(units: Iterable[Unit]) -> list[Target]:
    """The province first, then each district's communes, then each commune by name."""
    provinces: set[str] = set()
    communes: dict[str, Unit] = {}
    for u in units:
        provinces.add(u.province_code)
        if u.commune_code:
            communes.setdefault(u.commune_code, u)
    out = [
        Target(province_channel(p), "Toàn tỉnh" + (f" (mã {p})" if len(provinces) > 1 else ""),
               (province_channel(p),))
        for p in sorted(provinces)
    ]  # fmt: skip
    districts: dict[str, list[str]] = {}
    for code, u in communes.items():
        if u.district:
            districts.setdefault(u.district, []).append(commune_channel(code))
    for name in sorted(districts, key=sort_key):
        if len(districts[name]) < 2:
            continue  # the commune itself is offered below
        out.append(
            Target(
                DISTRICT_PREFIX + name,
                f"Mọi xã, phường của {name}",
                tuple(sorted(districts[name])),
            )
        )
    for code, u in sorted(communes.items(), key=lambda kv: sort_key(kv[1].unit_name)):
        where = f" ({u.district})" if u.district else ""
        out.append(Target(commune_channel(code), u.unit_name + where, (commune_channel(code),)))
    return out


def expand(keys: Sequence[str], choices: Sequence[Target]) -> tuple[str, ...]:
    """The channels the chosen targets name, sorted, each once. Unknown keys raise KeyError:
    a forged form cannot reach a channel the inventory does not have."""
    by_key = {t.key: t for t in choices}
    channels: set[str] = set()
    for key in keys:
        channels.update(by_key[key].channels)
    return tuple(sorted(channels))


class Places:
    """Channels in words, for lists of bulletins: made once per page from the targets (10,000
    communes), then asked for each row."""

    def __init__(self, choices: Sequence[Target]) -> None:
        self.labels = {t.channels[0]: t.label for t in choices
                       if not t.key.startswith(DISTRICT_PREFIX)}  # fmt: skip
        self.districts = [(t.label, frozenset(t.channels)) for t in choices
                          if t.key.startswith(DISTRICT_PREFIX) and len(t.channels) > 1]  # fmt: skip

    def describe(self, channels: Iterable[str]) -> str:
        """A bulletin's channels in words: a whole district named once when all its
        communes are there."""
        wanted = set(channels)
        parts: list[str] = []
        if len(wanted) > 1:  # one channel is never a whole district
            for label, members in self.districts:
                if members <= wanted:
                    parts.append(label)
                    wanted -= members
        parts += [self.labels.get(c, c) for c in sorted(wanted)]
        return ", ".join(parts)


def describe(channels: Iterable[str], choices: Sequence[Target]) -> str:
    """A bulletin's channels in words (for one bulletin; a list makes Places once)."""
    return Places(choices).describe(channels)


def find(choices: Sequence[Target], words: str, most: int = 20) -> list[Target]:
    """The communes whose name (or district, or code) holds the words, as an officer types
    them: any case, with or without marks."""
    key = search_key(words)
    if not key:
        return []
    found = []
    for t in choices:
        if t.key.startswith(COMMUNE_PREFIX) and (key in search_key(t.label) or key in t.key):
            found.append(t)
            if len(found) == most:
                break
    return found
