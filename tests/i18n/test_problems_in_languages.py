"""Problems (application/problem+json) in the request's language; their type and field paths never change."""

from __future__ import annotations

import pytest
from support import SEED, new_owner

from notes_service.errors import Gone
from notes_service.schemas import MESSAGES
from notes_service.shares.service import wrong_passcode_message


def bad_share(client, owner, **headers: str):
    body = {"trial_id": SEED, "expires_in_days": 0, "language": "fr", "passcode": "1"}
    return client.post("/api/v1/shares", json=body, headers={**owner.headers, **headers})


@pytest.mark.parametrize(
    ("accept", "title", "detail", "days", "language"),
    [
        ("en", "Invalid content", "The share is not valid.", "must be a whole number of days from 1 to 90", "must be"),
        (
            "es-ES,es;q=0.9",
            "Contenido no válido",
            "El enlace compartido no es válido.",
            "debe ser un número entero de días de 1 a 90",
            "debe ser uno de",
        ),
        (
            "ar",
            "محتوى غير صالح",
            "المشاركة غير صالحة.",
            "يجب أن يكون عددًا صحيحًا من الأيام من 1 إلى 90",
            "يجب أن يكون أحد هذه",
        ),
    ],
)
def test_a_422_speaks_the_accept_language(client, owner, accept, title, detail, days, language):
    response = bad_share(client, owner, **{"Accept-Language": accept})
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"] == "https://trial-notes.example/problems/invalid"
    assert (problem["title"], problem["detail"]) == (title, detail)
    assert set(problem["errors"]) == {"expires_in_days", "language", "passcode"}  # paths as sent, in any language
    assert problem["errors"]["expires_in_days"] == days
    assert problem["errors"]["language"].startswith(language)


@pytest.mark.parametrize(
    ("how", "title"),
    [
        ({"query_string": {"lang": "es"}}, "No encontrado"),
        ({"cookie": "ar", "headers": {"Accept-Language": "es"}}, "غير موجود"),
        ({"headers": {"Accept-Language": "ar-SA"}}, "غير موجود"),
        ({"headers": {"Accept-Language": "de"}}, "Not found"),
    ],
)
def test_the_language_is_chosen_as_the_pages_choose_it(client, owner, how, title):
    headers = {**owner.headers, **how.get("headers", {})}
    if "cookie" in how:
        client.set_cookie("lang", how["cookie"])
    response = client.get(f"/api/v1/shares/{'0' * 32}", headers=headers, query_string=how.get("query_string"))
    assert response.status_code == 404
    assert response.get_json()["type"] == "https://trial-notes.example/problems/not-found"
    assert response.get_json()["title"] == title


def test_werkzeug_statuses_keep_their_english_type_and_are_translated(client):
    response = client.put("/api/v1/notebooks", headers={"Accept-Language": "es"})
    assert response.status_code == 405
    problem = response.get_json()
    assert problem["type"] == "https://trial-notes.example/problems/method-not-allowed"
    assert problem["title"] == "Método no permitido"
    assert problem["detail"] == "Esta dirección no acepta ese tipo de solicitud."


@pytest.mark.parametrize(("left", "arabic"), [(1, "محاولة واحدة"), (2, "محاولتان"), (4, "4 محاولات")])
def test_the_tries_left_take_each_language_plural(app, left, arabic):
    with app.test_request_context("/", headers={"Accept-Language": "ar"}):
        assert arabic in wrong_passcode_message(left)
    with app.test_request_context("/", headers={"Accept-Language": "es"}):
        said = wrong_passcode_message(left)
        assert ("Le queda 1 intento" in said) if left == 1 else (f"Le quedan {left} intentos" in said)


def test_a_wrong_passcode_is_told_in_the_readers_language(client):
    owner = new_owner(client)
    owner.add_note()
    share = owner.share(passcode="123456")
    token = share["url"].rsplit("/s/", 1)[1]
    response = client.post(f"/api/v1/shared/{token}", json={"passcode": "000000"}, headers={"Accept-Language": "es"})
    assert response.status_code == 401
    assert response.get_json()["detail"].startswith("Ese código no es correcto.")
    assert "000000" not in response.get_data(as_text=True)


def test_every_field_message_has_words_outside_a_request(app):
    # Outside a request (a command, a service test) the words are the English ones.
    with app.app_context():
        assert MESSAGES["missing"]({}, "note") == "is required"
        assert MESSAGES["string_too_long"]({"max_length": 1}, "note") == "must be at most 1 character"
        assert MESSAGES["string_too_long"]({"max_length": 80}, "note") == "must be at most 80 characters"
    assert Gone("x").title == "Gone"  # titles stay English on the class: the type is made from them


def test_answers_in_words_say_they_vary_by_language_and_plain_data_does_not(client, owner):
    # A shared cache must not hand a Spanish problem or page to an English reader.
    problem = bad_share(client, owner, **{"Accept-Language": "es"})
    page = client.get(f"/trials/{SEED}")
    data = client.get(f"/api/v1/trials/{SEED}/notes", headers=owner.headers)
    assert {"Accept-Language", "Cookie"} <= set(problem.vary) and {"Accept-Language", "Cookie"} <= set(page.vary)
    assert "Accept-Language" not in data.vary


@pytest.mark.parametrize(("accept", "written"), [("en", "10,000"), ("es", "10.000"), ("ar", "10,000")])
def test_a_limit_in_a_field_message_is_written_as_the_language_writes_numbers(client, owner, accept, written):
    body = {"target": {"selector": [{"type": "TextQuoteSelector", "exact": "Cirrhosis"}]}, "body": "x" * 10_001}
    headers = {**owner.headers, "Accept-Language": accept}
    response = client.post(f"/api/v1/trials/{SEED}/notes", json=body, headers=headers)
    assert response.status_code == 422
    said = response.get_json()["errors"]["body"]
    assert written in said and "10000" not in said
