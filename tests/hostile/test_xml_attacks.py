"""Hostile XML at deploy: external entities reading a local file, entity expansion bombs, external
DTDs, XInclude, encodings that hide a DOCTYPE, and files far too large. Each is refused with a
4xx, quickly, reading nothing and storing nothing."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import TokenFactory
from xinedai_workflow.bootstrap import Services
from xinedai_workflow.db.models import ProcessVersion

SECRET_TEXT = "canary-3f1c0b7e-do-not-read"

PROCESS = """<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  id="Defs_evil" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="evil" name="{name}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def _post(client: TestClient, auth: TokenFactory, content: bytes, name: str) -> httpx.Response:
    return client.post(
        "/api/v1/definitions",
        headers=auth("compliance"),
        files=[("files", (name, content, "application/octet-stream"))],
    )


def _deploy(
    client: TestClient, auth: TokenFactory, content: bytes, name: str = "evil.bpmn"
) -> tuple[int, str, float]:
    # a refused harmless file first, so the time measured is the attack's, not a cold start's
    # (first request of the app, schema loading) on a busy machine
    assert _post(client, auth, b"<warm/>", "warm.bpmn").status_code == 422
    began = time.perf_counter()
    response = _post(client, auth, content, name)
    return response.status_code, response.text, time.perf_counter() - began


def _nothing_stored(services: Services) -> bool:
    with services.db.read() as session:
        return session.scalar(select(func.count()).select_from(ProcessVersion)) == 0


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET_TEXT)
    return path


def attacks(secret: Path) -> dict[str, bytes]:
    uri = secret.as_uri()
    laughs = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % ("" if i == 1 else i - 1)) * 10}">' for i in range(1, 10)
    )
    return {
        "xxe_local_file": (
            f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY secret SYSTEM "{uri}">]>'
            + PROCESS.format(name="&secret;")
        ).encode(),
        "xxe_parameter_entity": (
            f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % file SYSTEM "{uri}">'
            f"<!ENTITY % wrap \"<!ENTITY leak '%file;'>\">%wrap;]>" + PROCESS.format(name="&leak;")
        ).encode(),
        "billion_laughs": (
            f'<?xml version="1.0"?><!DOCTYPE d [{laughs}]>' + PROCESS.format(name="&lol9;")
        ).encode(),
        "external_dtd": (
            f'<?xml version="1.0"?><!DOCTYPE d SYSTEM "{uri}">' + PROCESS.format(name="x")
        ).encode(),
        "external_dtd_over_network": (
            '<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://169.254.169.254/latest/meta-data/">'
            + PROCESS.format(name="x")
        ).encode(),
        "xinclude_local_file": PROCESS.format(name="x")
        .replace(
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"',
            '<bpmn:definitions xmlns:xi="http://www.w3.org/2001/XInclude" '
            'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"',
        )
        .replace(
            '<bpmn:startEvent id="start">',
            f'<bpmn:startEvent id="start"><bpmn:documentation><xi:include href="{uri}" parse="text"/>'
            "</bpmn:documentation>",
        )
        .encode(),
        "doctype_hidden_in_utf16": (
            f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE d [<!ENTITY s SYSTEM "{uri}">]>'
            + PROCESS.format(name="&s;")
        ).encode("utf-16"),
        "doctype_hidden_in_utf7": (
            '<?xml version="1.0" encoding="UTF-7"?>+ADw-!DOCTYPE d +AFs-+ADw-!ENTITY s SYSTEM +ACI-'
            + uri
            + "+ACI-+AD4-+AF0-+AD4-"
            + PROCESS.format(name="&s;")
        ).encode(),
    }


@pytest.mark.parametrize(
    "attack",
    [
        "xxe_local_file",
        "xxe_parameter_entity",
        "billion_laughs",
        "external_dtd",
        "external_dtd_over_network",
        "xinclude_local_file",
        "doctype_hidden_in_utf16",
        "doctype_hidden_in_utf7",
    ],
)
def test_xml_attacks_at_deploy_are_refused_quickly_and_read_nothing(
    client: TestClient, auth: TokenFactory, services: Services, secret_file: Path, attack: str
) -> None:
    status, body, elapsed = _deploy(client, auth, attacks(secret_file)[attack])
    assert 400 <= status < 500, body
    assert SECRET_TEXT not in body
    assert elapsed < 2.0
    assert _nothing_stored(services)
    # the validation report names the file and says why
    if status == 422:
        assert "evil.bpmn" in body


def test_a_50_mb_file_is_refused_before_it_is_read(
    client: TestClient, auth: TokenFactory, services: Services
) -> None:
    huge = PROCESS.format(name="x").encode() + b"<!--" + b"x" * (50 * 1024 * 1024) + b"-->"
    status, body, elapsed = _deploy(client, auth, huge)
    assert status == 413, body
    assert elapsed < 5.0
    assert _nothing_stored(services)


def test_a_file_over_the_xml_limit_but_under_the_body_limit_is_422(
    client: TestClient, auth: TokenFactory, services: Services
) -> None:
    big = PROCESS.format(name="x").encode() + b"<!--" + b"x" * (6 * 1024 * 1024) + b"-->"
    status, body, elapsed = _deploy(client, auth, big)
    assert status == 422, body
    assert "larger than" in body
    assert elapsed < 5.0
    assert _nothing_stored(services)


def test_deeply_nested_xml_is_refused(client: TestClient, auth: TokenFactory, services: Services) -> None:
    depth = 100_000
    nested = PROCESS.format(name="x").replace(
        '<bpmn:startEvent id="start">',
        '<bpmn:startEvent id="start"><bpmn:documentation>'
        + "<a>" * depth
        + "</a>" * depth
        + "</bpmn:documentation>",
    )
    status, body, elapsed = _deploy(client, auth, nested.encode())
    assert 400 <= status < 500, body
    assert elapsed < 5.0
    assert _nothing_stored(services)
