"""Sintonia: self-hosted supervised fine-tuning of text language models."""

__version__ = "0.1.0"
