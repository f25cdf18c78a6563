"""`sentiment-lab serve`: a REST API (FastAPI) and a web page for predictions and explanations.

    from sentiment_lab.serve import create_app
    app = create_app()            # the shipped model; loaded when the app starts, not here

See app.py (factory, lifespan), routes.py (endpoints), schemas.py (bodies and limits),
batcher.py (micro-batching, turns, the queue cap), engine.py (which backend scores what),
uploads.py (tables read within the upload limits; the CSV download), limits.py (body size
caps and timeouts), hosts.py (host and origin checks), static/ (the page). The threat model
and the reasons for each limit: docs/security.md.
"""
from sentiment_lab.serve.app import create_app

__all__ = ["create_app"]
