"""Request and response bodies of the web API (Pydantic), with the limits that protect it.

Limits live here, in one place, so that the OpenAPI schema at /docs states them and every
refusal says which limit was hit. Text is checked by one validator (not by pydantic's
`max_length`) so that messages read "text has 25,000 characters; the limit is 20,000"
rather than a generic constraint name; the JSON schema still carries minLength/maxLength/
pattern so clients and schemathesis know them.
"""
from __future__ import annotations

from typing import Annotated, Any, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from sentiment_lab.text.tokenizer import is_unicode

MAX_TEXT_CHARS = 20_000  # a long review is ~13,000 characters; the model reads 400 tokens at most
MAX_BATCH = 256  # texts in one /v1/predict request
MAX_JSON_BYTES = 2 * 1024 * 1024  # request body cap for JSON routes (checked before reading)
MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # request body cap for file uploads
MAX_FILE_ROWS = 10_000  # rows of an uploaded table
# Characters of text in one upload, all rows together: 10,000 rows of 1,000 characters (about
# the median IMDB review), and what a 10 MB CSV could hold at most. Only a compressed format
# (Parquet) can describe more than its size: a 33 KB file held 300 million characters.
MAX_UPLOAD_CHARS = 10_000_000
MAX_IG_STEPS = 256


_JSON_TYPES = {str: "a string", int: "a number", float: "a number", bool: "a boolean", dict: "an object",
               list: "a list", type(None): "null"}


def check_text(value: Any, where: str = "text") -> str:
    """Refuse text that cannot be classified, saying why (the message reaches the user)."""
    if not isinstance(value, str):
        raise PydanticCustomError("text_type", "{where} must be a string, got {got}",
                                  {"where": where, "got": _JSON_TYPES.get(type(value), type(value).__name__)})
    if not is_unicode(value):
        raise PydanticCustomError("text_encoding", "{where} is not valid Unicode text (a lone surrogate)",
                                  {"where": where})
    if not value.strip():
        raise PydanticCustomError("empty_text", "{where} is empty or only whitespace", {"where": where})
    if len(value) > MAX_TEXT_CHARS:
        raise PydanticCustomError("text_too_long", "{where} has {n} characters; the limit is {limit}",
                                  {"where": where, "n": f"{len(value):,}", "limit": f"{MAX_TEXT_CHARS:,}"})
    return value


def check_texts(value: Any) -> str | list[str]:
    """One text, or a non-empty list of at most MAX_BATCH texts (each checked, by index)."""
    if not isinstance(value, list):
        if not isinstance(value, str):
            raise PydanticCustomError("text_type", "text must be a string or a list of strings, got {got}",
                                      {"got": _JSON_TYPES.get(type(value), type(value).__name__)})
        return check_text(value)
    if not value:
        raise PydanticCustomError("empty_batch", "the list of texts is empty")
    if len(value) > MAX_BATCH:
        raise PydanticCustomError("batch_too_large", "{n} texts in one request; the limit is {limit}",
                                  {"n": len(value), "limit": MAX_BATCH})
    return [check_text(v, f"text[{i}]") for i, v in enumerate(value)]


_TEXT_SCHEMA = {"type": "string", "minLength": 1, "maxLength": MAX_TEXT_CHARS, "pattern": r"\S"}
Text = Annotated[str, PlainValidator(check_text),
                 WithJsonSchema({**_TEXT_SCHEMA, "description": f"non-blank text, at most {MAX_TEXT_CHARS:,} characters"})]
TextOrList = Annotated[Union[str, list[str]], PlainValidator(check_texts),
                       WithJsonSchema({"anyOf": [_TEXT_SCHEMA, {"type": "array", "minItems": 1, "maxItems": MAX_BATCH,
                                                                "items": _TEXT_SCHEMA}],
                                       "description": f"one text, or a list of 1 to {MAX_BATCH} texts scored in one "
                                                      f"batch; each non-blank, at most {MAX_TEXT_CHARS:,} characters"})]

_EXAMPLE = "This movie is absolutely fantastic and amazing"
ModelName = Annotated[Optional[str], Field(max_length=200, description="the model to answer with: a name from "
                                            "GET /v1/models (default: the one the server was started with)")]
ANSWERED_BY = "the name of the model that answered (GET /v1/models)"


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"text": _EXAMPLE}, {"text": [_EXAMPLE, "Terrible movie, waste of time"]}, {"text": _EXAMPLE, "model": "imdb"}]})

    text: TextOrList
    model: ModelName = None


class Prediction(BaseModel):
    label: str = Field(description='"positive" or "negative"')
    score: float = Field(description="probability of the predicted label (>= 0.5)")
    p_positive: float = Field(description="P(positive), the model's sigmoid output")
    unknown_words: list[str] = Field(description="words of the text that the model's vocabulary does not know")
    note: Optional[str] = Field(None, description="null, or one line when the text looks written in another language "
                                                  "than the model reads (a French text to an English model); the "
                                                  "prediction is made all the same")


class PredictResponse(BaseModel):
    model: str = Field(description=ANSWERED_BY)
    predictions: list[Prediction] = Field(description="one per input text, in input order (a list of one for one text)")


class TextPrediction(Prediction):
    text: Optional[str] = Field(None, description="the row's text (left out when the request set include_text=false)")


class FilePredictResponse(BaseModel):
    model: str = Field(description=ANSWERED_BY)
    text_column: str = Field(description="the column the texts were read from")
    count: int = Field(description="rows scored")
    predictions: list[TextPrediction] = Field(description="one per row, in file order")


class ExplainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"text": "The first half was dull, but the ending was brilliant."}]})

    text: Text
    ig_steps: int = Field(32, ge=1, le=MAX_IG_STEPS, strict=True, description="Integrated Gradients interpolation steps")
    internals: bool = Field(False, strict=True,
                            description="also return layer-0 gates and hidden states (T x H numbers; large)")
    model: ModelName = None


class ExplainResponse(BaseModel):
    model: str = Field(description=ANSWERED_BY)
    text: str
    label: str
    score: float = Field(description="probability of the predicted label (>= 0.5), as in /v1/predict")
    p_positive: float = Field(description="P(positive) of the whole text")
    tokens: list[str] = Field(description="the tokens the model reads (normalized, truncated), in order")
    unknown: list[bool] = Field(description="token is out of the vocabulary")
    attributions: list[float] = Field(description="Integrated Gradients per token (logit units); > 0 pushes towards positive")
    occlusion: list[float] = Field(description="P(positive) minus P(positive) without the token")
    trajectory: list[float] = Field(description="P(positive) after reading each token (the running prediction)")
    attention: Optional[list[float]] = Field(None, description="attention-pooling weights, for attention models")
    gates: Optional[dict[str, list[list[float]]]] = Field(None, description="layer-0 gate activations (internals=true)")
    hidden: Optional[list[list[float]]] = Field(None, description="layer-0 hidden states (internals=true)")
    ig_delta: Optional[float] = Field(None, description="Integrated Gradients convergence delta")
    truncated: bool = False
    meta: dict[str, Any] = Field(default_factory=dict)


class ModelInfo(BaseModel):
    name: str = Field(description="the model's name (a shipped name, else its bundle directory's)")
    language: str = Field("en", description="the language the model reads (ISO 639-1)")
    labels: list[str]
    architecture: dict[str, Any]
    max_len: int
    vocab_size: int
    created: Optional[str] = None
    sentiment_lab_version: Optional[str] = None
    metrics: dict[str, Any] = Field(description="metrics.json of the bundle (measured at training time)")
    config: dict[str, Any] = Field(description="the full training configuration")
    card: str = Field(description="the model card (README.md of the bundle, Markdown)")
    serving: dict[str, Any] = Field(description="backends, batching settings and counters of this server")
    limits: dict[str, int]


class ModelSummary(BaseModel):
    name: str = Field(description="what a request's `model` field takes")
    language: str = Field(description="the language the model reads (ISO 639-1: en, fr, ...)")
    data: str = Field(description="the data it was trained on (dataset names, A+B for a mixture)")
    summary: str = Field(description="what it is, in a few words (empty for a bundle that is not shipped)")
    test_accuracy: dict[str, float] = Field(description="test accuracy per dataset, measured at training time")
    size_bytes: int = Field(description="the bundle's size on disk")
    default: bool = Field(description="the model used when a request names none")
    loaded: bool = Field(description="in memory now (the others load on their first request, then stay)")


class ModelList(BaseModel):
    default: str = Field(description="the model used when a request names none")
    models: list[ModelSummary]


class Health(BaseModel):
    status: str
    detail: Optional[str] = None
