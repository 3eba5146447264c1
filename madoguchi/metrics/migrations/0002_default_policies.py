"""Default SLA policies (business minutes): urgent, chat, and the standard for the rest."""

from django.db import migrations

POLICIES = [
    # name, priority, channel, first, next, resolution, position
    ("緊急", 4, "", 30, 60, 540, 0),
    ("チャット", None, "chat", 2, 5, 540, 1),
    ("標準", None, "", 240, 480, 1620, 2),
]


def seed(apps, schema_editor):
    SlaPolicy = apps.get_model("metrics", "SlaPolicy")
    if SlaPolicy.objects.exists():
        return
    SlaPolicy.objects.bulk_create([
        SlaPolicy(name=n, priority=p, channel=c, first_response_minutes=f, next_response_minutes=x,
                  resolution_minutes=r, position=pos)
        for n, p, c, f, x, r, pos in POLICIES
    ])


class Migration(migrations.Migration):
    dependencies = [("metrics", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
