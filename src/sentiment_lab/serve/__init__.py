"""`sentiment-lab serve`: a REST API (FastAPI) and a web page for predictions and explanations.

    from sentiment_lab.serve import create_app
    app = create_app()            # the shipped model; loaded when the app starts, not here

See app.py (factory, lifespan), routes.py (endpoints), schemas.py (bodies and limits),
batcher.py (micro-batching), engine.py (which backend scores what), static/ (the page).
"""
from sentiment_lab.serve.app import create_app

__all__ = ["create_app"]
