"""The HTTP edge: the Gemini API's tuning surface over the domain functions."""
