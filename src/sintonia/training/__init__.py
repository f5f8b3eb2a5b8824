"""Tuning: validated hyperparameters (spec) and the LoRA loop (recipe) with its pieces."""
