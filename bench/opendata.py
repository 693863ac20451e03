"""Benchmark of the open-data bulk download (issue 8): is the streamed package of every release
of a bureau fast, and does it stay small in memory however many releases there are?

    .venv/bin/python bench/opendata.py [--releases 5000]
    .venv/bin/python bench/opendata.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench

It builds a throw-away database (a temporary SQLite file, or the named PostgreSQL database, which
it creates and drops; the portal then connects as the non-owner role ``portal_app`` so that
row-level security applies), seeds the demo world, and publishes ``--releases`` purchase
intentions for 赣县区 through the real ``publish`` path (each one a disclosure and its OCDS
release, committed in batches). Then it downloads ``/api/v1/public/ganxian/ocds/bulk`` through the
Flask test client, consuming the streamed body chunk by chunk, and prints the time, the body
size, the largest chunk, the peak Python heap during the download (tracemalloc, measured in a
second download so that tracing does not slow the timed one) and the process's resident peak.
A page of 100 releases and a 304 revalidation are timed for comparison.
"""
import argparse
import json
import os
import resource
import sys
import time
import tracemalloc
import uuid
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.visits import Database, platform_twin  # noqa: E402  (the throw-away database of the visit benchmark)

BATCH = 500
URL = "/api/v1/public/ganxian/ocds/bulk"


def seed(app):
    from portal.demo import seed as seed_demo
    from portal.extensions import db
    with platform_twin(app).app_context():  # as `flask seed-demo`, the platform role
        seed_demo("bench-pass-2026", history=True)
        db.session.commit()


class _Timer:
    """Wraps ``releases.release_disclosure`` to measure the open-data share of publishing."""

    def __init__(self):
        from portal.opendata import releases
        self.module, self.original, self.seconds = releases, releases.release_disclosure, 0.0
        releases.release_disclosure = self

    def __call__(self, *args, **kwargs):
        began = time.perf_counter()
        try:
            return self.original(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - began

    def restore(self):
        self.module.release_disclosure = self.original


def publish_releases(app, count):
    """``count`` purchase intentions published the way an officer does it (each makes a release)."""
    from sqlalchemy import select

    from portal.core.timeutil import utcnow
    from portal.extensions import db
    from portal.tenancy.models import Tenant
    from portal.tenancy.scope import all_tenants, tenant_scope
    from portal.tenders.models import BudgetLine
    from portal.tenders.planning import new_intention, publish_intention
    with app.app_context():
        with all_tenants():
            tenant_id = db.session.execute(select(Tenant.id).where(Tenant.code == "ganxian")).scalar_one()
        done = 0
        while done < count:
            with tenant_scope(tenant_id):
                line = BudgetLine(year=2027, name=f"社会救助专项资金（批次 {uuid.uuid4().hex[:8]}）", fund_source="中央和省级困难群众救助补助资金",
                                  amount_fen=10**14)
                db.session.add(line)
                db.session.flush()
                for n in range(done, min(done + BATCH, count)):
                    intention = new_intention(
                        budget_line=line, title=f"困难群众探访关爱服务采购项目（第 {n + 1} 包）",
                        description="为辖区分散供养特困人员、低保对象提供探访关爱、生活照料和精神慰藉服务；严禁服务转包。",
                        budget_fen=12_000_000 + n, expected_month=date(2027, 3, 1))
                    publish_intention(intention, utcnow())
                    done += 1
                db.session.commit()
    return done


def download(client, traced=False):
    """GET the bulk package without buffering, consuming the body as it streams."""
    if traced:
        tracemalloc.start()
    began = time.perf_counter()
    response = client.get(URL, buffered=False)
    size, chunks, largest, first_byte = 0, 0, 0, None
    for chunk in response.response:
        data = chunk.encode() if isinstance(chunk, str) else chunk
        if first_byte is None:
            first_byte = time.perf_counter() - began
        size += len(data)
        largest = max(largest, len(data))
        chunks += 1
    response.close()
    elapsed = time.perf_counter() - began
    peak = None
    if traced:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {"status": response.status_code, "etag": response.headers.get("ETag"), "seconds": elapsed,
            "first_byte": first_byte, "bytes": size, "chunks": chunks, "largest": largest, "heap_peak": peak,
            "streamed": response.is_streamed}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--releases", type=int, default=5000)
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL URL of a database to create and drop (default: a temporary SQLite file)")
    args = parser.parse_args(argv)
    os.environ.setdefault("PORTAL_ENV", "development")
    os.environ.pop("REDIS_URL", None)

    from portal import create_app
    began = time.perf_counter()
    with Database(args.database_url) as database:
        app = create_app({"SQLALCHEMY_DATABASE_URI": database.url, "REDIS_URL": None, "TESTING": True,
                          "FAST_PASSWORD_HASHING": True})
        seed(app)
        print(f"backend: {database.backend}; setup {time.perf_counter() - began:.1f} s")
        t0 = time.perf_counter()
        timer = _Timer()
        published = publish_releases(app, args.releases)
        timer.restore()
        publish_s = time.perf_counter() - t0
        print(f"published {published:,} releases in {publish_s:.1f} s ({published / publish_s:.0f}/s, "
              f"{1000 * publish_s / published:.1f} ms each for intention + disclosure + release + audit; "
              f"building and storing the OCDS release: {1000 * timer.seconds / published:.1f} ms each)")

        client = app.test_client()
        download(client)  # warm-up: imports, connection pool, statement caches
        timed = download(client)
        traced = download(client, traced=True)
        body = client.get(URL).get_json()
        releases = len(body["releases"])

        client.get("/api/v1/public/ganxian/ocds/releases?page=3")  # warm-up
        t0 = time.perf_counter()
        page = client.get("/api/v1/public/ganxian/ocds/releases?page=2")
        page_ms = 1000 * (time.perf_counter() - t0)
        client.get(URL, headers={"If-None-Match": timed["etag"]})  # warm-up
        t0 = time.perf_counter()
        revalidated = client.get(URL, headers={"If-None-Match": timed["etag"]})
        revalidate_ms = 1000 * (time.perf_counter() - t0)
        assert page.status_code == 200 and revalidated.status_code == 304

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print()
    print(f"bulk download: {releases:,} releases, {timed['bytes'] / 1e6:.2f} MB in {timed['chunks']} chunks "
          f"(largest {timed['largest'] / 1e3:.0f} kB), streamed={timed['streamed']}")
    print(f"  time {timed['seconds']:.2f} s ({timed['bytes'] / 1e6 / timed['seconds']:.1f} MB/s, "
          f"{releases / timed['seconds']:.0f} releases/s), first byte after {1000 * timed['first_byte']:.1f} ms")
    print(f"  peak Python heap during the download (tracemalloc): {traced['heap_peak'] / 1e6:.2f} MB "
          f"= {100 * traced['heap_peak'] / timed['bytes']:.0f} % of the body")
    print(f"page of 100 releases: {page_ms:.0f} ms, {len(page.data) / 1e3:.0f} kB; "
          f"304 revalidation of the bulk: {revalidate_ms:.1f} ms")
    print(f"peak memory: {rss_mb:.0f} MB resident (whole run, ru_maxrss); total {time.perf_counter() - began:.0f} s")
    print(json.dumps({"releases": releases, "bytes": timed["bytes"], "seconds": round(timed["seconds"], 3),
                      "heap_peak_bytes": traced["heap_peak"], "maxrss_mb": round(rss_mb)}))


if __name__ == "__main__":
    main()
