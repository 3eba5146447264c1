"""Japanese phone identities stored as +81… become the domestic 0… form normalise_identity now
gives, so a caller is found whichever way the number was written. A number already held in the
domestic form by someone is left as it is (staff merge those two customers if they are one)."""

from django.db import migrations


def to_domestic(apps, schema_editor):
    Identity = apps.get_model("customers", "Identity")
    for identity in Identity.objects.filter(kind="phone", value__startswith="+81").iterator():
        domestic = "0" + identity.value[3:].lstrip("0")
        if len(domestic) > 1 and not Identity.objects.filter(kind="phone", value=domestic).exists():
            Identity.objects.filter(pk=identity.pk).update(value=domestic)


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_customer_merge")]
    operations = [migrations.RunPython(to_domestic, migrations.RunPython.noop)]
