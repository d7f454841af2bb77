"""One export of the whole case list in a process of its own, for `make bench`:

    python -m bench.export_memory csv|xlsx

Signs in as the benchmark's superuser (every case), downloads `/cases/?format=<fmt>` through
Django's handler, reads the whole file, and prints one JSON line: rows, bytes, seconds, the
process's peak resident memory after a warm-up export of one row (`baseline_mb`) and after
the whole export (`peak_mb`). Streaming in constant memory shows as a peak close to the
baseline, whatever the number of rows. The export's record is removed afterwards, so that
repeated runs do not grow the benchmark database.
"""

from __future__ import annotations

import json
import resource
import sys
import time


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def main(fmt: str) -> None:
    import django

    django.setup()
    from django.urls import reverse

    from accounts.models import User
    from bench.signin import signed_in_client
    from reports.models import Export, ExportedCase

    superuser, _created = User.objects.get_or_create(
        username="syn-bench-superuser",
        defaults={"is_superuser": True, "is_staff": True, "password": "!synthetic"},
    )
    client = signed_in_client(superuser)
    url = reverse("cases:list")
    newest = Export.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def download(params: dict[str, str]) -> tuple[int, bytes]:
        response = client.get(url, {**params, "format": fmt})
        if response.status_code != 200:
            sys.exit(f"{url}?format={fmt} answered {response.status_code}, not 200.")
        size = 0
        last = b""
        for chunk in response.streaming_content:
            size += len(chunk)
            last = chunk
        response.close()
        return size, last

    # Warm-up: imports, the cursor machinery, a file with no rows.
    download({"q": "zzzzzzzz"})
    baseline = _peak_mb()
    start = time.perf_counter()
    size, _last = download({})
    seconds = time.perf_counter() - start
    peak = _peak_mb()
    done = Export.objects.filter(pk__gt=newest).order_by("-pk").first()
    rows = done.rows if done else 0
    ExportedCase.objects.filter(export_id__gt=newest).delete()
    Export.objects.filter(pk__gt=newest).delete()
    print(
        json.dumps(
            {
                "format": fmt,
                "rows": rows,
                "bytes": size,
                "seconds": round(seconds, 2),
                "baseline_mb": baseline,
                "peak_mb": peak,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "csv")
