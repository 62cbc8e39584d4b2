"""Bulletins found in the database a page at a time (issue 27): a row per channel of each
bulletin, its words as a search compares them, and the indexes the lists sort by. The
bulletins of the previous release get theirs."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def index_bulletins(apps, schema_editor):
    from kiosk.core.vietnamese import search_key

    Bulletin = apps.get_model("bulletins", "Bulletin")
    BulletinChannel = apps.get_model("bulletins", "BulletinChannel")
    for b in Bulletin.objects.all().iterator():
        words = search_key(" ".join((b.title, b.ticker, b.caption)))[:700]
        Bulletin.objects.filter(pk=b.pk).update(search=words)
        BulletinChannel.objects.bulk_create(
            [BulletinChannel(bulletin_id=b.pk, channel=c) for c in sorted(set(b.channels))]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("bulletins", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="BulletinChannel",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("channel", models.CharField(db_index=True, max_length=64)),
            ],
        ),
        migrations.AddField(
            model_name="bulletin",
            name="search",
            field=models.CharField(blank=True, editable=False, max_length=700),
        ),
        migrations.AddIndex(
            model_name="bulletin",
            index=models.Index(fields=["-updated_at", "-id"], name="bulletin_updated"),
        ),
        migrations.AddIndex(
            model_name="bulletin",
            index=models.Index(fields=["published_at"], name="bulletin_published"),
        ),
        migrations.AddField(
            model_name="bulletinchannel",
            name="bulletin",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="channel_rows",
                to="bulletins.bulletin",
            ),
        ),
        migrations.AddConstraint(
            model_name="bulletinchannel",
            constraint=models.UniqueConstraint(
                fields=("bulletin", "channel"), name="bulletin_channel_once"
            ),
        ),
        migrations.RunPython(index_bulletins, migrations.RunPython.noop),
    ]
