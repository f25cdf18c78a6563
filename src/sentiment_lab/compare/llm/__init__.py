"""Large language models as sentiment classifiers and review writers, through one client
for Mistral's API and any OpenAI-compatible server (see client.py)."""
from sentiment_lab.compare.llm.cache import AnswerCache
from sentiment_lab.compare.llm.classify import LLMClassifier
from sentiment_lab.compare.llm.client import LLMClient, LLMError, LLMNotConfigured, LLMSettings, Usage
from sentiment_lab.compare.llm.generate import check_reviews, generate_reviews, sentiment_scorer, write_jsonl

__all__ = ["AnswerCache", "LLMClassifier", "LLMClient", "LLMError", "LLMNotConfigured", "LLMSettings", "Usage",
           "check_reviews", "generate_reviews", "sentiment_scorer", "write_jsonl"]
