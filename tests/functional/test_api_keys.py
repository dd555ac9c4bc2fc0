"""Which routes need an API key: all the data, none of the console, and only when deployed.

API Gateway enforces `api_key_required` on AWS; Chalice's local gateway
(`chalice local`, `make up`, and the test client the other API tests use)
does not, so those tests drive the handlers, and this file checks what API
Gateway is told. `make up` listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json

from chalice.deploy.swagger import CFNSwaggerGenerator
from chalice.test import Client

from app import app
from tests.routes import DATA_ROUTES, OPEN_ROUTES


def test_deployed_exactly_the_data_routes_require_an_api_key() -> None:
    swagger = CFNSwaggerGenerator().generate_swagger(app)

    keyed = {
        path
        for path, methods in swagger["paths"].items()
        for method in methods.values()
        if {"api_key": []} in method.get("security", [])
    }
    assert set(swagger["paths"]) == DATA_ROUTES | OPEN_ROUTES
    assert keyed == DATA_ROUTES
    assert swagger["securityDefinitions"] == {
        "api_key": {"type": "apiKey", "name": "x-api-key", "in": "header"}
    }


def test_locally_the_data_routes_answer_without_a_key(client: Client) -> None:
    # What `make up` relies on: the console is never asked for a key locally.
    response = client.http.get("/unicorns")

    assert response.status_code == 200
    assert json.loads(response.body) == {"unicorns": [], "count": 0}


def test_locally_a_key_is_neither_needed_nor_checked(client: Client) -> None:
    response = client.http.get("/alerts", headers={"x-api-key": "not-a-key"})

    assert response.status_code == 200
