"""Training: the loop (fit/train), CPU batch splitting, adversarial steps, DDP, pretraining,
word vectors, experiment grids."""
