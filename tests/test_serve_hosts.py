"""DNS rebinding and cross-site form posts (serve/hosts.py): the server answers only the host
names it was started for, and refuses writes whose Origin is another site."""
import pytest
from fastapi.testclient import TestClient

from sentiment_lab.serve import create_app


@pytest.fixture(scope="module")
def client(tiny_bundle):
    with TestClient(create_app(tiny_bundle, threads=1), base_url="http://localhost:8000") as c:
        yield c


@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST"])
def test_local_names_are_served(client, host):
    assert client.get("/healthz", headers={"host": host}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "localhost.evil", ""])
def test_other_host_names_are_refused(client, host):
    """A rebinding page's requests carry its own name: found in an audit, `Host: evil.example` was served."""
    r = client.post("/v1/predict", json={"text": "a fine film"}, headers={"host": host})
    assert r.status_code == 400 and "--allowed-host" in r.json()["detail"]


def test_a_cross_origin_form_post_is_refused(client):
    """Found in an audit: a multipart POST from another site's page (a 'simple' request that
    browsers send without a preflight) was answered 200."""
    files = {"file": ("t.csv", b"text\na fine film\n", "text/csv")}
    r = client.post("/v1/predict/file", files=files, headers={"origin": "http://evil.example"})
    assert r.status_code == 403 and "cross-origin" in r.json()["detail"]
    assert client.post("/v1/predict", json={"text": "a fine film"}, headers={"origin": "null"}).status_code == 403


def test_same_origin_and_non_browser_posts_are_served(client):
    ok = client.post("/v1/predict", json={"text": "a fine film"}, headers={"origin": "http://localhost:8000"})
    assert ok.status_code == 200
    assert client.post("/v1/predict", json={"text": "a fine film"}).status_code == 200  # curl sends no Origin


def test_allowed_hosts_are_configurable(tiny_bundle):
    app = create_app(tiny_bundle, threads=1, allowed_hosts=("reviews.example.org",))
    with TestClient(app, base_url="http://reviews.example.org") as c:
        assert c.get("/healthz").status_code == 200
        assert c.get("/healthz", headers={"host": "localhost"}).status_code == 400
    with TestClient(create_app(tiny_bundle, threads=1, allowed_hosts=("*",)), base_url="http://any.example") as c:
        assert c.get("/healthz").status_code == 200


def test_serve_command_answers_for_its_host_and_the_allowed_ones(tiny_bundle, monkeypatch):
    import uvicorn
    from typer.testing import CliRunner

    import sentiment_lab.serve as serve_pkg
    from sentiment_lab.cli import app

    seen = {}
    real = serve_pkg.create_app
    monkeypatch.setattr(serve_pkg, "create_app", lambda *a, **kw: seen.setdefault("hosts", kw["allowed_hosts"]) and real(*a, **kw))
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: seen.setdefault("uvicorn", kw))
    r = CliRunner().invoke(app, ["serve", "-m", str(tiny_bundle), "--host", "0.0.0.0", "--port", "0",
                                 "--allowed-host", "reviews.example.org", "--limit-concurrency", "100"])
    assert r.exit_code == 0, r.output
    assert seen["uvicorn"]["limit_concurrency"] == 100
    assert set(seen["hosts"]) == {"localhost", "127.0.0.1", "::1", "reviews.example.org"}  # 0.0.0.0 is no name
