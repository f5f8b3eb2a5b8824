"""A small client of a Sintonia server's public API, for `sintonia ... --server URL`."""

from __future__ import annotations

from typing import Any

import httpx

from sintonia import errors
from sintonia.datasets import Dataset
from sintonia.training.spec import Hyperparameters

# HTTP status -> the domain error the CLI already knows how to show.
_ERRORS: dict[int, type[errors.SintoniaError]] = {
    400: errors.InvalidArgument,
    401: errors.PermissionDenied,
    403: errors.PermissionDenied,
    404: errors.NotFound,
    409: errors.AlreadyExists,
    429: errors.ResourceExhausted,
}


class Client:
    def __init__(self, server: str, api_key: str | None, timeout: float = 600) -> None:
        headers = {"x-goog-api-key": api_key} if api_key else {}
        self.http = httpx.Client(
            base_url=server.rstrip("/") + "/v1beta", headers=headers, timeout=timeout
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise errors.SintoniaError(f"Cannot reach the server: {exc}") from None
        body = response.json() if response.content else {}
        if response.is_error:
            message = body.get("error", {}).get("message", response.text)
            raise _ERRORS.get(response.status_code, errors.SintoniaError)(message)
        return body

    def create(
        self,
        dataset: Dataset,
        base_model: str,
        hp: Hyperparameters,
        model_id: str | None,
        display_name: str,
        description: str,
    ) -> dict[str, Any]:
        """Start tuning; returns the long-running operation."""
        rate = (
            {"learningRateMultiplier": hp.learning_rate_multiplier}
            if hp.learning_rate_multiplier is not None
            else {"learningRate": hp.effective_learning_rate}
        )
        body = {
            "baseModel": base_model,
            "displayName": display_name,
            "description": description,
            "tuningTask": {
                "hyperparameters": {
                    "epochCount": hp.epoch_count,
                    "batchSize": hp.batch_size,
                    **rate,
                },
                "trainingData": {
                    "examples": {
                        "examples": [
                            {"textInput": e.text_input, "output": e.output}
                            for e in dataset.examples
                        ]
                    }
                },
            },
        }
        params = {"tunedModelId": model_id} if model_id else {}
        return self._call("POST", "/tunedModels", json=body, params=params)

    def operation(self, name: str) -> dict[str, Any]:
        return self._call("GET", f"/{name}")

    def cancel(self, operation: str) -> None:
        self._call("POST", f"/{operation}:cancel", json={})

    def get(self, name: str) -> dict[str, Any]:
        return self._call("GET", f"/{name}")

    def list(self) -> list[dict[str, Any]]:
        models, token = [], ""
        while True:
            page = self._call("GET", "/tunedModels", params={"pageSize": 100, "pageToken": token})
            models += page.get("tunedModels", [])
            token = page.get("nextPageToken", "")
            if not token:
                return models

    def delete(self, name: str) -> None:
        self._call("DELETE", f"/{name}")

    def generate(self, name: str, text: str, config: dict[str, Any]) -> str:
        body = {
            "contents": [{"role": "user", "parts": [{"text": text}]}],
            "generationConfig": {k: v for k, v in config.items() if v is not None},
        }
        answer = self._call("POST", f"/{name}:generateContent", json=body)
        return "".join(
            p.get("text", "")
            for c in answer.get("candidates", [])[:1]
            for p in c.get("content", {}).get("parts", [])
        )
