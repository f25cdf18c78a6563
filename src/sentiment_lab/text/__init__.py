"""Text to token ids: normalization and the tokenizer, augmentation, length-bucketed batches,
the token-id cache."""
