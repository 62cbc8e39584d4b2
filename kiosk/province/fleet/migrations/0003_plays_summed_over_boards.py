"""Plays summed over boards (issue 27): each board's number (its bit in the sets of boards),
the part of each daily sum already rolled up, and the rollup's tables: an item's day in an
area (ItemDay) and its whole life in an area (ItemTotal). The rollup fills them from the
daily sums at the housekeeping's next minutes."""

from django.db import migrations, models


def key_titles(apps, schema_editor):
    """The titles of the previous release made searchable."""
    from kiosk.core.vietnamese import search_key

    ItemTitle = apps.get_model("fleet", "ItemTitle")
    for row in ItemTitle.objects.all().iterator():
        ItemTitle.objects.filter(pk=row.pk).update(title_key=search_key(row.title))


def number_boards(apps, schema_editor):
    """The boards of the previous release, numbered in device-id order, and searchable."""
    from kiosk.core.vietnamese import search_key

    Board = apps.get_model("fleet", "Board")
    for n, b in enumerate(list(Board.objects.order_by("device_id"))):
        words = search_key(f"{b.unit_name} {b.district}")[:700]
        Board.objects.filter(device_id=b.device_id).update(number=n, search=words)


class Migration(migrations.Migration):
    dependencies = [
        ("fleet", "0002_plays_summed_as_they_arrive"),
    ]

    operations = [
        migrations.CreateModel(
            name="ItemDay",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "channel",
                        "item",
                        "day",
                        "area",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("channel", models.CharField(max_length=64)),
                ("item", models.CharField(max_length=64)),
                ("day", models.DateField()),
                ("area", models.CharField(max_length=300)),
                ("plays", models.PositiveBigIntegerField(default=0)),
                ("seconds", models.FloatField(default=0.0)),
                ("boards", models.BinaryField(default=b"")),
            ],
        ),
        migrations.CreateModel(
            name="ItemTotal",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "channel",
                        "item",
                        "area",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("channel", models.CharField(max_length=64)),
                ("item", models.CharField(max_length=64)),
                ("area", models.CharField(max_length=300)),
                ("first_day", models.DateField()),
                ("last_day", models.DateField()),
                ("plays", models.PositiveBigIntegerField(default=0)),
                ("seconds", models.FloatField(default=0.0)),
                ("boards", models.BinaryField(default=b"")),
            ],
        ),
        migrations.RemoveIndex(
            model_name="playday",
            name="play_day_day",
        ),
        migrations.AddField(
            model_name="board",
            name="number",
            field=models.PositiveIntegerField(null=True, unique=True),
        ),
        migrations.AddField(
            model_name="playday",
            name="rolled_plays",
            field=models.PositiveIntegerField(db_default=0),
        ),
        migrations.AddField(
            model_name="playday",
            name="rolled_seconds",
            field=models.FloatField(db_default=0.0),
        ),
        migrations.AddIndex(
            model_name="playday",
            index=models.Index(
                condition=models.Q(("plays__gt", models.F("rolled_plays"))),
                fields=["channel", "item"],
                name="play_day_unrolled",
            ),
        ),
        migrations.AddIndex(
            model_name="itemtotal",
            index=models.Index(fields=["last_day", "first_day"], name="item_total_days"),
        ),
        migrations.AddField(
            model_name="itemtitle",
            name="title_key",
            field=models.CharField(default="", max_length=300),
        ),
        migrations.AddField(
            model_name="board",
            name="search",
            field=models.CharField(blank=True, default="", max_length=700),
        ),
        migrations.RunPython(number_boards, migrations.RunPython.noop),
        migrations.RunPython(key_titles, migrations.RunPython.noop),
    ]
