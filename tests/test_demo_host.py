"""The demo host site (examples/host_site.py): its grants are accepted by the service."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

HOST_SITE = Path(__file__).parents[1] / "examples" / "host_site.py"


def load_host_site():
    spec = importlib.util.spec_from_file_location("host_site", HOST_SITE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def host_site(tmp_path):
    module = load_host_site()
    app, publishers = module.create_host_app("http://127.0.0.1:5000", tmp_path / "host")
    app.config["TESTING"] = True
    return module, app, publishers


def sign_in(host_app, username: str, password: str):
    client = host_app.test_client()
    answer = client.post("/login", data={"username": username, "password": password})
    assert answer.status_code == 302
    return client


def test_the_demo_hosts_grant_opens_the_same_notebook_for_the_same_user(make_app, host_site):
    _module, host_app, publishers = host_site
    service = make_app(NOTES_PUBLISHERS_FILE=str(publishers)).test_client()
    alice = sign_in(host_app, "alice", "alice-demo-pass")
    first = service.post("/api/v1/grants", json={"grant": alice.get("/grant").get_json()["grant"]})
    assert first.status_code == 201 and first.get_json()["created"] is True
    again = service.post("/api/v1/grants", json={"grant": alice.get("/grant").get_json()["grant"]})
    assert again.status_code == 201 and again.get_json()["notebook_id"] == first.get_json()["notebook_id"]
    bob = sign_in(host_app, "bob", "bob-demo-pass")
    other = service.post("/api/v1/grants", json={"grant": bob.get("/grant").get_json()["grant"]})
    assert other.status_code == 201 and other.get_json()["notebook_id"] != first.get_json()["notebook_id"]


def test_a_restarted_demo_host_keeps_its_keys_so_the_notes_still_open(make_app, tmp_path):
    module = load_host_site()
    host_app, publishers = module.create_host_app("http://127.0.0.1:5000", tmp_path / "host")
    service = make_app(NOTES_PUBLISHERS_FILE=str(publishers)).test_client()
    grant = sign_in(host_app, "alice", "alice-demo-pass").get("/grant").get_json()["grant"]
    made = service.post("/api/v1/grants", json={"grant": grant}).get_json()
    restarted, _ = module.create_host_app("http://127.0.0.1:5000", tmp_path / "host")
    grant = sign_in(restarted, "alice", "alice-demo-pass").get("/grant").get_json()["grant"]
    again = service.post("/api/v1/grants", json={"grant": grant})
    assert again.status_code == 201 and again.get_json()["notebook_id"] == made["notebook_id"]


def test_the_demo_host_gives_no_grant_when_signed_out_and_always_embeds_the_grant_url(host_site):
    _module, host_app, _ = host_site
    anonymous = host_app.test_client()
    assert anonymous.get("/grant").status_code == 401
    # Signed out too: the grant URL's 401 is how the widget learns of a sign-out.
    assert 'data-grant-url="http://localhost/grant"' in anonymous.get("/trial").get_data(as_text=True)
    assert anonymous.post("/login", data={"username": "alice", "password": "wrong"}).status_code == 401
    alice = sign_in(host_app, "alice", "alice-demo-pass")
    page = alice.get("/trial").get_data(as_text=True)
    assert 'data-grant-url="http://localhost/grant"' in page and "http://127.0.0.1:5000/widget.js" in page
    alice.post("/logout")
    assert alice.get("/grant").status_code == 401
