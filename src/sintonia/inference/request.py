"""What a tuned model accepts: single text input within the documented limits.

Tuned models take text only, at most 40,000 characters, and have neither system
instructions nor JSON mode; each refusal names the model, as the Gemini API's errors do.
"""

from __future__ import annotations

from sintonia.errors import InvalidArgument, UnsupportedRequest

MAX_INPUT_CHARS = 40_000


def check_tuned_model_request(
    model_name: str,
    text: str,
    *,
    system_instruction: bool = False,
    json_mode: bool = False,
    non_text_part: str | None = None,
) -> None:
    """Refuse what a tuned model cannot serve.

    Args:
        model_name: "tunedModels/ID", used in the messages.
        text: the prompt text.
        system_instruction: the request carries a system instruction.
        json_mode: the request asks for JSON output (responseMimeType application/json).
        non_text_part: the kind of the first non-text part (e.g. "inlineData"), if any.

    Raises:
        UnsupportedRequest: with the reason.
    """
    if system_instruction:
        raise UnsupportedRequest(f"Developer instruction is not enabled for {model_name}")
    if json_mode:
        raise UnsupportedRequest(f"Json mode is not enabled for {model_name}")
    if non_text_part:
        raise UnsupportedRequest(
            f"{model_name} accepts text input only; the request has a {non_text_part} part."
        )
    if not text.strip():
        raise UnsupportedRequest(f"The request to {model_name} has no text input.")
    if len(text) > MAX_INPUT_CHARS:
        raise UnsupportedRequest(
            f"The input is {len(text):,} characters; {model_name} accepts at most "
            f"{MAX_INPUT_CHARS:,} characters."
        )


def check_sampling(
    max_temperature: float,
    temperature: float | None = None,
    top_p: float | None = None,
    top_k: int | None = None,
    max_output_tokens: int | None = None,
) -> None:
    """Refuse sampling settings out of range (None means "not given").

    Raises:
        InvalidArgument: naming the field and its range.
    """
    if temperature is not None and not 0 <= temperature <= max_temperature:
        raise InvalidArgument(f"temperature must be between 0 and {max_temperature:g}.")
    if top_p is not None and not 0 < top_p <= 1:
        raise InvalidArgument("topP must be in (0, 1].")
    if top_k is not None and top_k < 1:
        raise InvalidArgument("topK must be at least 1.")
    if max_output_tokens is not None and max_output_tokens < 1:
        raise InvalidArgument("maxOutputTokens must be at least 1.")
