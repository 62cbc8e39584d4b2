"""Plays summed as they arrive (issue 27): the raw plays keyed by themselves (no id, no
board index), partitioned by day on PostgreSQL; the daily sums keyed the same way; each
board's counter and the latest play it delivered. What the old tables held moves over: the
daily sums stay, every raw play is added to its day's sum, and the raw plays of the last
35 days (the most a board may still resend, SPEC 7.4) stay raw so a resend of them is
still known."""

from datetime import timedelta

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

RESEND_DAYS = 35
CHUNK = 10_000

PARTITIONED = """
CREATE TABLE fleet_play (
    board_id varchar(64) NOT NULL
        REFERENCES fleet_board (device_id) DEFERRABLE INITIALLY DEFERRED,
    channel varchar(64) NOT NULL,
    item varchar(64) NOT NULL,
    started_at timestamp with time zone NOT NULL,
    duration_s double precision NOT NULL,
    CONSTRAINT fleet_play_pkey PRIMARY KEY (board_id, channel, item, started_at)
) PARTITION BY RANGE (started_at);
CREATE INDEX play_started ON fleet_play (started_at);
CREATE TABLE fleet_play_default PARTITION OF fleet_play DEFAULT;
"""


def _keyed_by(moment: str) -> list[tuple[str, models.Field]]:
    """The key both tables share: board, channel, item and a moment (no id)."""
    key = ("board_id", "channel", "item", moment)
    on_delete = django.db.models.deletion.CASCADE
    return [
        ("pk", models.CompositePrimaryKey(*key, blank=True, editable=False, primary_key=True,
                                          serialize=False)),
        ("board", models.ForeignKey(db_index=False, on_delete=on_delete, to="fleet.board")),
        ("channel", models.CharField(max_length=64)),
        ("item", models.CharField(max_length=64)),
    ]  # fmt: skip


def old_tables_aside(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for table in ("fleet_play", "fleet_playday"):
            cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_old")
            if schema_editor.connection.vendor == "postgresql":  # index names are global
                cursor.execute(f"ALTER INDEX {table}_pkey RENAME TO {table}_old_pkey")


def create_raw_table(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(PARTITIONED)
    else:
        schema_editor.create_model(apps.get_model("fleet", "Play"))


def move_plays(apps, schema_editor):
    """The old sums as they were, each old raw play added to its day's sum, the recent raw
    plays kept raw; each board's counter and latest play set."""
    from zoneinfo import ZoneInfo

    connection = schema_editor.connection
    ops, tz = connection.ops, ZoneInfo(settings.TIME_ZONE)
    resend_from = timezone.now() - timedelta(days=RESEND_DAYS)
    Board = apps.get_model("fleet", "Board")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO fleet_playday (board_id, channel, item, day, plays, seconds) "
            "SELECT board_id, channel, item, day, plays, seconds FROM fleet_playday_old"
        )
        last_id, boards = 0, {}
        while True:
            cursor.execute(
                "SELECT id, board_id, channel, item, started_at, duration_s FROM fleet_play_old "
                "WHERE id > %s ORDER BY id LIMIT %s",
                [last_id, CHUNK],
            )
            rows = cursor.fetchall()
            if not rows:
                break
            last_id = rows[-1][0]
            sums = {}
            for _id, board, channel, item, started, seconds in rows:
                if isinstance(started, str):  # SQLite hands back the stored text
                    started = ops.convert_datetimefield_value(started, None, connection)
                key = (board, channel, item, started.astimezone(tz).date())
                n, s = sums.get(key, (0, 0.0))
                sums[key] = (n + 1, s + seconds)
                count, through = boards.get(board, (0, started))
                boards[board] = (count + 1, max(through, started))
                if started >= resend_from:
                    cursor.execute(
                        "INSERT INTO fleet_play (board_id, channel, item, started_at, "
                        "duration_s) VALUES (%s, %s, %s, %s, %s)",
                        [board, channel, item, ops.adapt_datetimefield_value(started), seconds],
                    )
            for (board, channel, item, day), (n, s) in sums.items():
                cursor.execute(
                    "INSERT INTO fleet_playday (board_id, channel, item, day, plays, seconds) "
                    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (board_id, channel, item, day) "
                    "DO UPDATE SET plays = fleet_playday.plays + excluded.plays, "
                    "seconds = fleet_playday.seconds + excluded.seconds",
                    [board, channel, item, ops.adapt_datefield_value(day), n, s],
                )
    for board, (count, through) in boards.items():
        Board.objects.filter(pk=board).update(plays_stored=count, plays_through=through)


def drop_old_tables(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP TABLE fleet_play_old")
        cursor.execute("DROP TABLE fleet_playday_old")


class Migration(migrations.Migration):
    dependencies = [("fleet", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="board",
            name="plays_stored",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="board",
            name="plays_through",
            field=models.DateTimeField(null=True),
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(old_tables_aside)],
            state_operations=[migrations.DeleteModel("Play"), migrations.DeleteModel("PlayDay")],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Play",
                    fields=[
                        *_keyed_by("started_at"),
                        ("started_at", models.DateTimeField()),
                        ("duration_s", models.FloatField()),
                    ],
                    options={"indexes": [models.Index(fields=["started_at"], name="play_started")]},
                )
            ],
            database_operations=[],  # made by create_raw_table, which sees this model
        ),
        migrations.RunPython(create_raw_table),
        migrations.CreateModel(
            name="PlayDay",
            fields=[
                *_keyed_by("day"),
                ("day", models.DateField()),
                ("plays", models.PositiveIntegerField()),
                ("seconds", models.FloatField()),
            ],
            options={"indexes": [models.Index(fields=["day"], name="play_day_day")]},
        ),
        migrations.RunPython(move_plays),
        migrations.RunPython(drop_old_tables),
    ]
