"""Looking at models and data: metrics, plots, embeddings, explanations, error analysis,
challenge suites, the HTML report."""
