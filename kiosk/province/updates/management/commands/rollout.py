"""`rollout` (kiosk province rollout VERSION --devices|--percent|--halt): SPEC 7.2."""

from __future__ import annotations

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from kiosk.province.updates import rollouts


class Command(BaseCommand):
    help = "Sign which boards take a release: canaries, a share of the fleet, or a halt."

    def add_arguments(self, parser) -> None:
        parser.add_argument("version")
        parser.add_argument("--devices", nargs="+")
        parser.add_argument("--percent", type=int)
        parser.add_argument("--halt", action="store_true")

    def handle(self, *args: object, version: str, devices: list[str] | None,
               percent: int | None, halt: bool, **_: object) -> None:  # fmt: skip
        now = datetime.now().astimezone()
        try:
            if halt:
                row = rollouts.current()
                if row is None or row.version != version:
                    in_force = row.version if row is not None and row.version else "none"
                    raise rollouts.RolloutRefused(
                        f"the rollout in force is of {in_force}, not {version}", ""
                    )
                row = rollouts.halt(None, now, reason="kiosk province rollout --halt")
            else:
                row = rollouts.start(None, now, version, devices, percent)
        except rollouts.RolloutRefused as exc:
            raise CommandError(f"no rollout signed: {exc}", returncode=2) from None
        except OSError as exc:
            raise CommandError(f"no rollout signed: {exc}", returncode=1) from None
        what = (f"{row.version} to {len(row.devices)} canary boards and {row.percent}% "
                "of the fleet" if row.version else f"halted ({row.halted_version})")  # fmt: skip
        self.stdout.write(f"rollout {row.sequence}: {what}, expires {row.expires_at.isoformat()}")
