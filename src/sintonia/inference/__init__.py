"""Generation: request checks, batched generate, and the engine that swaps adapters."""
