"""Any OpenAI-compatible endpoint: Featherless, OpenRouter, Ollama, LM Studio, vLLM."""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import AsyncIterator
from typing import Any

import openai
from openai import AsyncOpenAI

from play.engine.inference import formats
from play.engine.inference.base import (
    EmptyCompletion,
    EndpointDown,
    EndpointTimeout,
    GenParams,
    InferenceError,
    Message,
    RateLimited,
    Refusal,
    ServerError,
    T,
    looks_like_refusal,
    usage_of,
    validate_output,
    wire_schema,
)
from play.engine.schemas import InterjectionDecision
from rpsite import config


def _translate(exc: Exception, model: str) -> InferenceError:
    if isinstance(exc, InferenceError):
        return exc
    if isinstance(exc, openai.APITimeoutError):
        return EndpointTimeout("the model endpoint did not answer in time", model=model)
    if isinstance(exc, openai.APIConnectionError):
        return EndpointDown(f"cannot reach the model endpoint: {exc}", model=model)
    if isinstance(exc, openai.RateLimitError):
        retry = None
        header = exc.response.headers.get("retry-after") if exc.response is not None else None
        try:
            retry = float(header) if header else None
        except ValueError:
            retry = None
        suffix = f"; retry after {retry:g} s" if retry is not None else ""
        return RateLimited(
            f"the model endpoint is rate limiting{suffix}", retry_after=retry, model=model
        )
    if isinstance(exc, openai.APIStatusError):
        detail = ""
        try:
            detail = json.dumps(exc.body)[:300] if exc.body else exc.response.text[:300]
        except Exception:  # the body is only for the message
            detail = ""
        return ServerError(
            f"the model endpoint answered HTTP {exc.status_code}: {detail or exc.message}",
            model=model,
        )
    return InferenceError(f"model call failed: {type(exc).__name__}: {exc}", model=model)


# Samplers outside OpenAI's own parameters, sent as extra body fields (vLLM, OpenRouter and
# Featherless take repetition_penalty, llama.cpp's servers call it repeat_penalty; each ignores
# the other's name); an endpoint that refuses them (HTTP 400 or 422 naming one, as OpenAI's own
# API does) is asked without them from then on, in this process.
EXTRA_SAMPLERS = ("min_p", "repetition_penalty", "repeat_penalty")
_NO_EXTRA_SAMPLERS: set[str] = set()

# Endpoints that refused ``stream_options`` (an older server with strict request checks):
# their streams are asked without it from then on, in this process.
_NO_STREAM_OPTIONS: set[str] = set()


def _names(exc: Exception, *fields: str) -> bool:
    """A refusal of the request because of one of ``fields`` (HTTP 400 or 422 naming it)."""
    if not isinstance(exc, openai.APIStatusError) or exc.status_code not in (400, 422):
        return False
    try:
        detail = json.dumps(exc.body) if exc.body else exc.response.text
    except Exception:  # only to read the message
        detail = ""
    return any(field in f"{detail} {exc.message}" for field in fields)


class OpenAICompatible:
    name = "openai-compatible"

    def __init__(
        self,
        *,
        base_url: str,
        api_key_env: str = "RP_API_KEY",
        api_key: str | None = None,
        narrative_model: str = "",
        classifier_model: str = "",
        timeout: float = 60.0,
    ) -> None:
        self.base_url = base_url
        self.api_key_env = api_key_env
        self.api_key = api_key  # given: used as is (the settings page tests an unsaved key)
        self.narrative_model = narrative_model
        self.classifier_model = classifier_model or narrative_model
        self.timeout = timeout
        # Local servers (Ollama, LM Studio) need no key; the client still wants a string.
        self._clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.structured_mode = ""  # the structured-output mode that answered last

    @property
    def client(self) -> AsyncOpenAI:
        """One HTTP client per event loop: a client's connections belong to its loop."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        # the environment variable, else the key saved from the settings page (read each time:
        # a key saved while the server runs is used from the next call)
        key = self.api_key or config.api_key(self.api_key_env) or "not-needed"
        if client is None or client.api_key != key:
            client = AsyncOpenAI(
                base_url=self.base_url, api_key=key, max_retries=0, timeout=self.timeout
            )
            self._clients[loop] = client
        return client

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "base_url": self.base_url,
            "narrative_model": self.narrative_model,
            "classifier_model": self.classifier_model,
            "api_key_env": self.api_key_env,
            "api_key_set": bool(self.api_key or config.api_key(self.api_key_env)),
        }

    def _model(self, params: GenParams) -> str:
        if params.model:
            return params.model
        return self.classifier_model if params.purpose == "classifier" else self.narrative_model

    def _kwargs(self, messages: list[Message], params: GenParams) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self._model(params),
            "messages": messages,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "timeout": params.timeout or self.timeout,
        }
        if params.stop:
            kwargs["stop"] = params.stop[:4]
        for name in ("top_p", "frequency_penalty", "presence_penalty"):
            if getattr(params, name) is not None:
                kwargs[name] = getattr(params, name)
        extra = {}
        if params.min_p is not None and params.min_p > 0:
            extra["min_p"] = params.min_p
        if params.repetition_penalty is not None and params.repetition_penalty != 1.0:
            extra["repetition_penalty"] = params.repetition_penalty
            extra["repeat_penalty"] = params.repetition_penalty
        if extra and self.base_url not in _NO_EXTRA_SAMPLERS:
            kwargs["extra_body"] = extra
        return kwargs

    async def _create(self, kwargs: dict[str, Any], **more: Any) -> Any:
        """A chat completion; asked again without the extra samplers when the endpoint
        refuses them."""
        try:
            return await self.client.chat.completions.create(**kwargs, **more)
        except openai.APIStatusError as exc:
            if "extra_body" not in kwargs or not _names(exc, *EXTRA_SAMPLERS):
                raise
            _NO_EXTRA_SAMPLERS.add(self.base_url)
            kwargs = {k: v for k, v in kwargs.items() if k != "extra_body"}
        return await self.client.chat.completions.create(**kwargs, **more)

    async def generate(self, messages: list[Message], params: GenParams) -> str:
        model = self._model(params)
        try:
            response = await self._create(self._kwargs(messages, params))
        except Exception as exc:
            raise _translate(exc, model) from exc
        params.usage.update(usage_of(getattr(response, "usage", None)))
        return self._text(response, model)

    def _text(self, response: Any, model: str) -> str:
        if not getattr(response, "choices", None):
            raise EmptyCompletion("the model returned no choices", model=model)
        choice = response.choices[0]
        message = choice.message
        refusal = getattr(message, "refusal", None)
        if refusal or choice.finish_reason == "content_filter":
            raise Refusal(
                f"the model refused: {refusal or 'content filter'}", model=model, raw=refusal or ""
            )
        text = message.content or ""
        if not text.strip():
            raise EmptyCompletion("the model returned an empty answer", model=model)
        return text

    async def stream(self, messages: list[Message], params: GenParams) -> AsyncIterator[str]:
        model = self._model(params)
        got_any = finished = False
        try:
            stream = await self._open_stream(messages, params)
            async for chunk in stream:
                if getattr(chunk, "usage", None):  # the last chunk, with include_usage
                    params.usage.update(usage_of(chunk.usage))
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                if choice.finish_reason == "content_filter":
                    raise Refusal("the model refused (content filter)", model=model)
                finished = finished or bool(choice.finish_reason)
                piece = getattr(choice.delta, "content", None) or ""
                if piece:
                    got_any = True
                    yield piece
        except InferenceError:
            raise
        except Exception as exc:
            error = _translate(exc, model)
            if got_any:
                error = ServerError(f"the model's stream broke off: {error.message}", model=model)
            raise error from exc
        if not got_any:
            raise EmptyCompletion("the model returned an empty answer", model=model)
        if not finished:
            # the connection closed without a finish reason: the stream broke off
            raise ServerError("the model's stream broke off before it finished", model=model)

    async def _open_stream(self, messages: list[Message], params: GenParams) -> Any:
        """A streamed completion that reports its usage at the end (``stream_options``), where
        the endpoint takes that: the prompt tokens its prefix cache spared are recorded with the
        turn."""
        kwargs = self._kwargs(messages, params)
        if self.base_url not in _NO_STREAM_OPTIONS:
            try:
                return await self._create(
                    kwargs, stream=True, stream_options={"include_usage": True}
                )
            except openai.APIStatusError as exc:
                if not _names(exc, "stream_options"):
                    raise
                _NO_STREAM_OPTIONS.add(self.base_url)
        return await self._create(kwargs, stream=True)

    def riding(self, messages: list[Message], params: GenParams) -> list[Message]:
        """A structured call on the narrative's own model rides on the exchange
        (``params.after``): the narrative request, the reply, then the call's instructions, so
        the server's prefix cache reads only the end anew. On another model: as it is."""
        after = params.after
        if not after or self._model(params) != self.narrative_model:
            return messages
        ask = after.get("ask") or "\n\n".join(m["content"].strip() for m in messages)
        return [
            *after["messages"],
            {"role": "assistant", "content": after["reply"]},
            {"role": "user", "content": ask},
        ]

    async def structured(self, messages: list[Message], schema: type[T], params: GenParams) -> T:
        """Structured output in the best mode the endpoint takes (see ``formats``)."""
        model = self._model(params)
        messages = self.riding(messages, params)
        kwargs = self._kwargs(messages, params)
        del kwargs["messages"]
        refused: list[str] = []
        for mode in formats.order(self.base_url, model):
            extra = formats.request_for(mode, messages, schema.__name__, wire_schema(schema))
            try:
                response = await self.client.chat.completions.create(**kwargs, **extra)
            except openai.APIStatusError as exc:
                error = _translate(exc, model)
                if not formats.names_the_format(exc.status_code, error.message):
                    raise error from exc
                refused.append(f"{mode}: {error.message}")
                continue
            except Exception as exc:
                raise _translate(exc, model) from exc
            formats.remember(self.base_url, model, mode)
            self.structured_mode = mode
            params.usage.update(usage_of(getattr(response, "usage", None)))
            text = self._answer(response, model, mode)
            if looks_like_refusal(text) and "{" not in text:
                raise Refusal("the model refused", raw=text, model=model)
            return validate_output(text, schema, model=model)
        raise ServerError(
            "the endpoint took no structured-output format: " + "; ".join(refused), model=model
        )

    def _answer(self, response: Any, model: str, mode: str) -> str:
        if not getattr(response, "choices", None):
            raise EmptyCompletion("the model returned no choices", model=model)
        message = response.choices[0].message
        text = formats.answer_text(mode, message)
        if mode == "tools" and not text.strip():
            return self._text(response, model)
        if getattr(message, "refusal", None):
            return self._text(response, model)
        if not text.strip():
            raise EmptyCompletion("the model returned an empty answer", model=model)
        return text

    async def probe_structured(self) -> str:
        """Find the structured-output mode this endpoint takes, from the top (the settings
        page's Test connection). Returns the mode; raises InferenceError."""
        model = self._model(GenParams(purpose="classifier"))
        formats.forget(self.base_url, model)
        await self.structured(
            [
                {"role": "system", "content": "Decide whether the character interjects."},
                {"role": "user", "content": "Mara: Hello. Is anyone there?"},
            ],
            InterjectionDecision,
            GenParams(purpose="classifier", max_tokens=60, temperature=0.0),
        )
        return self.structured_mode

    async def list_models(self) -> list[str]:
        try:
            page = await self.client.models.list()
        except Exception as exc:
            raise _translate(exc, self.narrative_model) from exc
        return [m.id for m in page.data]
