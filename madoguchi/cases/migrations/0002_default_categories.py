from django.db import migrations

DEFAULTS = [
    ("delivery", "配送"),
    ("defect", "商品の不具合"),
    ("description", "商品説明との相違"),
    ("billing", "請求・支払い"),
    ("service", "接客・対応"),
    ("other", "その他"),
]


def create(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    for position, (code, name) in enumerate(DEFAULTS):
        Category.objects.get_or_create(code=code, defaults={"name": name, "position": position})


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
