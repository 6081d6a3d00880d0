"""Events the server refuses by role, whatever the page shows.

``guarded`` wraps an event so that the caller's role is checked before it runs; who is calling comes
from Gradio's request (the session's user, or ``LOCAL_USER`` when nobody logs in).
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import gradio as gr

from assistant.accounts import Access, Permission, allows, refusal

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


def guarded(fn: F, permission: Permission, access: Access) -> F:
    """``fn`` as a Gradio event that first checks the caller's role (a French error when it may not).

    Gradio hands a ``gr.Request`` to a parameter annotated with it: the wrapper declares one in
    front of ``fn``'s own parameters, which keep their order and defaults (``gr.Progress``), or
    checks the one ``fn`` declares itself (named ``request``).
    """

    def check(request: gr.Request | None) -> None:
        role = access.role_of(getattr(request, "username", None))
        if not allows(role, permission):
            log.warning("event refused to %r (%s): %s", getattr(request, "username", None), role, permission)
            raise gr.Error(refusal(role, permission))

    signature = inspect.signature(fn)
    own_request = "request" in signature.parameters  # fn wants the request too: the same one is checked

    def request_and_call(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, tuple[Any, ...]]:
        if own_request:
            return signature.bind_partial(*args, **kwargs).arguments.get("request"), args
        return args[0], args[1:]

    if inspect.isgeneratorfunction(fn):

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            request, rest = request_and_call(args, kwargs)
            check(request)
            yield from fn(*rest, **kwargs)
    else:

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            request, rest = request_and_call(args, kwargs)
            check(request)
            return fn(*rest, **kwargs)

    functools.update_wrapper(wrapper, fn)
    if not own_request:
        request_parameter = inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=gr.Request)
        signature = signature.replace(parameters=[request_parameter, *signature.parameters.values()])
    wrapper.__signature__ = signature
    wrapper.__annotations__ = {"request": gr.Request}  # only this one: fn's own may not resolve here
    return wrapper  # type: ignore[return-value]
