"""Base models: the catalog (what can be tuned) and loading (GGUF -> cached safetensors)."""
