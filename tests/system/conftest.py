import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.system.nodes import make_node, migrated_template, seeded_cloud_template

_started = pytest.StashKey[float]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item.stash[_started] = time.time()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed system test shows what its servers wrote to stderr (a 500's traceback, say)."""
    report = yield
    workdir = item.funcargs.get("workdir") if hasattr(item, "funcargs") else None
    if report.failed and workdir is not None:
        since = item.stash.get(_started, 0.0)
        for log in sorted(workdir.glob("*.daphne.log")):
            if log.stat().st_mtime >= since:
                tail = log.read_text(errors="replace")[-6000:]
                if tail.strip():
                    report.sections.append((f"server log {log.name} (tail)", tail))
    return report


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    path = tmp_path_factory.mktemp("omnitill-system")
    migrated_template("cloud", path)
    migrated_template("store", path)
    return path


@pytest.fixture
def chain(workdir, request):
    """A seeded cloud serving on loopback, and stores S01 and S02 enrolled with it (not yet synced)."""
    name = request.node.name[:40]
    cloud = make_node(
        "cloud", workdir, f"cloud-{name}", template=seeded_cloud_template(workdir, products=60, members=5)
    )
    stores = {}
    try:
        codes = cloud.shell(
            "from cloud.sync.services import enrollment_code_create as c; from retail.stores.models import Store as S\n"
            "print(' '.join(c(store=S.objects.get(code=k))[1] for k in ('S01', 'S02')))"
        ).split()
        cloud.serve()
        for store_code in ("S01", "S02"):
            stores[store_code] = make_node("store", workdir, store_code)
        # Both enroll at once: each is a process of its own, most of it Django starting.
        with ThreadPoolExecutor(max_workers=2) as pool:
            enrolled = [
                pool.submit(store.manage, "enroll", "--cloud", cloud.url, "--code", enrollment)
                for store, enrollment in zip(stores.values(), codes, strict=True)
            ]
            for done in enrolled:
                done.result()
        yield cloud, stores
    finally:
        for node in [cloud, *stores.values()]:
            node.stop()
