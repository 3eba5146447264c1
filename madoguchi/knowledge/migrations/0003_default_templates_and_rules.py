from django.db import migrations


def install(apps, schema_editor):
    from madoguchi.knowledge.seed import install_templates_and_rules

    install_templates_and_rules(apps)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0002_search_engine_index"), ("cases", "0002_default_categories")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
