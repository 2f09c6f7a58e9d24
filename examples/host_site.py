"""A demo host site with accounts that vouches for its users to Trial Notes (issue 15, point 4).

Two made-up users sign in with a form; the trial page embeds the widget with
`data-grant-url`, and `GET /grant` answers the signed-in user's grant: a JWT (ES256) with
iss, aud, sub, exp (5 minutes), jti and nks, where nks = HMAC-SHA256(user id) under a key
only this site keeps. The service trusts the site through the publishers file written here.

    python examples/host_site.py [--port 8001] [--service http://127.0.0.1:5000] [--workdir DIR]

prints the NOTES_PUBLISHERS_FILE and NOTES_ALLOWED_ORIGINS to start the service with. The
signing key and the nks key are made once into the work folder and kept: a new nks key would
leave every user's notes sealed (the service refuses a grant whose nks does not open them).
Tests build it in-process with `create_host_app(service_url, workdir)`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import secrets
import time
import uuid
from html import escape
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask, Response, redirect, request, session

AUDIENCE = "trial-notes"
GRANT_SECONDS = 300
# Made-up users: user id -> (login name, password, display name).
USERS = {
    "user-alice": ("alice", "alice-demo-pass", "Alice Example"),
    "user-bob": ("bob", "bob-demo-pass", "Bob Example"),
}
DEMO_PAGE = Path(__file__).with_name("embed-demo.html")
DEFAULT_SERVICE = "http://127.0.0.1:5000"


def host_grant(signing_key: Any, issuer: str, user_id: str, nks_key: bytes, audience: str = AUDIENCE) -> str:
    """The grant a host signs for its signed-in user: what a real host's server does in a few lines."""
    now = int(time.time())
    nks = hmac.new(nks_key, user_id.encode("utf-8"), hashlib.sha256).digest()
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": user_id,
        "iat": now,
        "exp": now + GRANT_SECONDS,
        "jti": uuid.uuid4().hex,
        "nks": base64.urlsafe_b64encode(nks).decode("ascii").rstrip("="),
    }
    return jwt.encode(claims, signing_key, algorithm="ES256")


def _private_file(path: Path, make: Any) -> bytes:
    """The bytes kept in `path`, made by `make()` (and written readable by the owner only) the first time."""
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(make())
    return path.read_bytes()


def _keys(workdir: Path) -> tuple[Any, bytes]:
    def new_signing_key() -> bytes:
        key = ec.generate_private_key(ec.SECP256R1())
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    pem = _private_file(workdir / "host-signing-key.pem", new_signing_key)
    nks_key = _private_file(workdir / "host-nks-key", lambda: secrets.token_bytes(32))
    return serialization.load_pem_private_key(pem, password=None), nks_key


def write_publishers_file(workdir: Path, issuer: str, signing_key: Any, audience: str = AUDIENCE) -> Path:
    """The NOTES_PUBLISHERS_FILE naming this host: its issuer, the service's audience, its public key."""
    public_pem = (
        signing_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    path = workdir / "publishers.json"
    entry = {"issuer": issuer, "audience": audience, "algorithms": ["ES256"], "public_key_pem": public_pem}
    path.write_text(json.dumps([entry], indent=2) + "\n", encoding="utf-8")
    return path


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head><body>{body}</body></html>"
    )


LOGIN_FORM = """
<h1>Example trial finder: sign in</h1>
<form method="post" action="/login">
  <p><label>User name <input name="username" autocomplete="username" required></label></p>
  <p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
  <p><button type="submit">Sign in</button></p>
</form>
<p>Demo users: <code>alice</code> / <code>alice-demo-pass</code> and <code>bob</code> / <code>bob-demo-pass</code>.
<a href="/trial">Read the trial without signing in</a> (notes stay in this browser).</p>
"""


def _trial_page(service_url: str, user_id: str | None, grant_url: str) -> str:
    """The embed demo page, the widget from `service_url`, with `data-grant-url` signed in or not.

    The attribute stays when no one is signed in: the widget learns of a sign-out from the grant
    URL's 401 and then forgets the account's token; a page without it is one that vouches for
    no one (the widget leaves the account's token alone there).
    """
    html = DEMO_PAGE.read_text(encoding="utf-8").replace(DEFAULT_SERVICE, service_url.rstrip("/"))
    if user_id is None:
        bar = '<p class="account">Not signed in. <a href="/">Sign in</a> to keep your notes on every device.</p>'
    else:
        name = escape(USERS[user_id][2])
        bar = (
            f'<form class="account" method="post" action="/logout"><p>Signed in as {name}. '
            '<button type="submit" data-sign-out>Sign out</button></p></form>'
        )
    html = html.replace(' data-trial="NCT07085104"', f' data-trial="NCT07085104" data-grant-url="{grant_url}"')
    return html.replace("<main>", f"<main>{bar}", 1)


def create_host_app(
    service_url: str = DEFAULT_SERVICE, workdir: Path | str = ".host-site", issuer: str = "http://localhost:8001"
) -> tuple[Flask, Path]:
    """The host site (a Flask app) and the publishers file the service is to be started with.

    `issuer` names the site in its grants (any stable string; its origin by custom): the
    service knows the site by it, with the public key, from the publishers file.
    """
    folder = Path(workdir)
    folder.mkdir(parents=True, exist_ok=True)
    signing_key, nks_key = _keys(folder)
    app = Flask(__name__)
    app.config.update(SECRET_KEY=secrets.token_hex(32), SESSION_COOKIE_SAMESITE="Lax")

    @app.get("/")
    def home() -> Any:
        if session.get("user_id") in USERS:
            return redirect("/trial")
        return _page("Sign in", LOGIN_FORM)

    @app.post("/login")
    def login() -> Any:
        username, password = request.form.get("username", ""), request.form.get("password", "")
        for user_id, (name, secret, _display) in USERS.items():
            if hmac.compare_digest(name, username) and hmac.compare_digest(secret, password):
                session.clear()
                session["user_id"] = user_id
                return redirect("/trial")
        return Response(_page("Sign in", "<p>Wrong user name or password.</p>" + LOGIN_FORM), status=401)

    @app.post("/logout")
    def logout() -> Any:
        session.clear()
        return redirect("/trial")

    @app.get("/trial")
    def trial() -> Any:
        user_id = session.get("user_id")
        user_id = user_id if user_id in USERS else None
        return _trial_page(service_url, user_id, request.host_url.rstrip("/") + "/grant")

    @app.get("/grant")
    def grant() -> Any:
        user_id = session.get("user_id")
        if user_id not in USERS:
            return {"error": "not signed in"}, 401
        token = host_grant(signing_key, issuer, user_id, nks_key)
        return {"grant": token}, 200, {"Cache-Control": "no-store"}

    path = write_publishers_file(folder, issuer, signing_key)
    return app, path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--service", default=DEFAULT_SERVICE, help="the notes service's URL")
    parser.add_argument("--workdir", default=str(Path(__file__).with_name(".host-site")))
    args = parser.parse_args()
    origin = f"http://localhost:{args.port}"
    app, publishers = create_host_app(args.service, args.workdir, issuer=origin)
    print(f"Demo host site with accounts on {origin}/ (users alice and bob; passwords on the sign-in page)")
    print("Start the notes service with:")
    print(f"  NOTES_PUBLISHERS_FILE={publishers} NOTES_ALLOWED_ORIGINS={origin} make run")
    app.run(host="localhost", port=args.port)


if __name__ == "__main__":
    main()
