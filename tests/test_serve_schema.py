"""Property-based API testing with schemathesis: requests generated from the OpenAPI schema
(valid and invalid ones), sent in-process to the ASGI app, must never get a 5xx and every
documented response must match its schema. Bounded to a few examples per operation and
mode so the module runs in seconds.

(The operations are driven through Hypothesis directly: schemathesis 4.32's pytest
`from_fixture` loader fails under pytest 9 with "'Function' object has no attribute
'_nodeid'".)"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from sentiment_lab.serve import create_app

EXAMPLES = 10  # per operation and generation mode


@pytest.fixture(scope="module")
def api_schema(tiny_bundle):
    import torch

    # schemathesis runs the app's lifespan itself (once, kept for the session)
    # any Host: schemathesis's in-process client names its own (host checks: test_serve_hosts.py)
    app = create_app(tiny_bundle, threads=torch.get_num_threads(), allowed_hosts=("*",))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def operations(schema) -> list:
    ops = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in ops} >= {"/v1/predict", "/v1/explain", "/v1/predict/file", "/v1/model", "/healthz"}
    return ops


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors(api_schema, mode):
    for op in operations(api_schema):
        if mode is GenerationMode.NEGATIVE and op.method.upper() == "GET":
            continue  # nothing to get wrong: the GETs take no input
        @given(case=op.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                         HealthCheck.data_too_large])
        def check(case):
            case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

        check()
