"""A teaching chatbot's groundwork: a conversation with an LLM (the one client of
compare/llm) that keeps its context within a budget, a sentiment monitor over every message,
the course's personas and resumable JSONL transcripts (docs/chat.md)."""
from sentiment_lab.chat.memory import ContextOverflow, estimate_tokens
from sentiment_lab.chat.monitor import Monitor, MonitorRules, load_scorer
from sentiment_lab.chat.personas import Persona, load_persona
from sentiment_lab.chat.session import Chat, ChatError
from sentiment_lab.chat.transcript import Message, TranscriptError, load_transcript, save_transcript

__all__ = ["Chat", "ChatError", "ContextOverflow", "Message", "Monitor", "MonitorRules", "Persona", "TranscriptError",
           "estimate_tokens", "load_persona", "load_scorer", "load_transcript", "save_transcript"]
