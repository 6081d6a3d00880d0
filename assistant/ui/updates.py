"""Named updates: callbacks return records, and one adapter turns them into Gradio's positional outputs.

A callback says which output it sets by naming the field (``ChatView(sources=…)``); a field left at
``KEEP`` leaves its component as it is (Gradio's ``skip``). ``Outputs`` pairs each field with its component
(or, for a tuple field, its list of components) where events are wired, so the order Gradio expects is
written in one place and a callback never counts positions.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import gradio as gr


class _Keep:
    """The value of a field the callback leaves unchanged."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()

Target = Any  # a Gradio component (gr.State included), or a sequence of them for a tuple field


class Outputs:
    """Where each field of a callback's record goes, in the order Gradio receives them.

    ``Outputs(table=documents.table, facets=chat.facets)``: ``components`` is the ``outputs`` list of the
    event, ``values(record)`` the record as Gradio's list of values (``skip`` for each ``KEEP``).
    """

    def __init__(self, **targets: Target) -> None:
        self.targets = targets

    @property
    def components(self) -> list[Any]:
        flat: list[Any] = []
        for target in self.targets.values():
            flat.extend(target if _is_group(target) else [target])
        return flat

    def values(self, record: Any) -> Any:
        """The record's fields in output order; a single output gets its bare value, as Gradio expects."""
        fields = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
        # a field set but wired nowhere would be silently lost: a wiring mistake, said at once
        unwired = sorted(name for name, value in fields.items() if value is not KEEP and name not in self.targets)
        if unwired:
            raise ValueError(f"{type(record).__name__} sets {unwired}, which no output of this event shows")
        out: list[Any] = []
        for name, target in self.targets.items():
            value = fields[name]
            if not _is_group(target):
                out.append(gr.skip() if value is KEEP else value)
            elif value is KEEP:
                out.extend(gr.skip() for _ in target)
            else:
                if len(value) != len(target):
                    raise ValueError(f"{name}: {len(value)} values for {len(target)} components")
                out.extend(value)
        return out[0] if len(out) == 1 else out

    def adapt(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn`` (returning or yielding records) as a Gradio callback for these outputs.

        The wrapper keeps ``fn``'s signature, since Gradio reads it (``gr.Request``, ``gr.Progress``), and is
        a generator when ``fn`` is one, since Gradio streams only generator functions.
        """
        if inspect.isgeneratorfunction(fn):

            def stream(*args: Any, **kwargs: Any) -> Iterator[Any]:
                for record in fn(*args, **kwargs):
                    yield self.values(record)

            wrapper: Callable[..., Any] = stream
        else:

            def call(*args: Any, **kwargs: Any) -> Any:
                return self.values(fn(*args, **kwargs))

            wrapper = call
        functools.update_wrapper(wrapper, fn)
        return wrapper


def _is_group(target: Target) -> bool:
    return isinstance(target, Sequence) and not isinstance(target, str)
