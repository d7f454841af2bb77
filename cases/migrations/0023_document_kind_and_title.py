"""Documents get a type and a readable title. The sample case's article, if already imported,
gets the title its case file now gives it, instead of showing its file name."""

from django.db import migrations, models


SAMPLE_ARTICLE = "000_2ae32ac5df5f4f9d.txt"
SAMPLE_TITLE = "News article (source of this sample case)"


def title_the_sample_article(apps, schema_editor):
    Document = apps.get_model("cases", "Document")
    Document.objects.filter(original_name=SAMPLE_ARTICLE, title="").update(title=SAMPLE_TITLE)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0022_caseevent_recorded_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="document",
            name="kind",
            field=models.CharField(
                choices=[
                    ("decision", "Decision"),
                    ("interview_record", "Interview record"),
                    ("identity", "Identity document"),
                    ("court_order", "Court order"),
                    ("evidence", "Evidence"),
                    ("correspondence", "Correspondence"),
                    ("other", "Other"),
                ],
                default="other",
                max_length=20,
                verbose_name="type of document",
            ),
        ),
        migrations.AddField(
            model_name="document",
            name="title",
            field=models.CharField(blank=True, max_length=200, verbose_name="title"),
        ),
        migrations.RunPython(title_the_sample_article, migrations.RunPython.noop),
    ]
