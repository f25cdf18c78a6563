"""Other methods side by side: baselines (lexicon, TF-IDF, NBSVM, sentence embeddings), LLMs,
and the comparison that runs them on the same samples."""
