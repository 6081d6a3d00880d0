"""Named updates: a callback's record becomes Gradio's outputs in the wired order (pure, no server)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr
import pytest

from assistant.ui.updates import KEEP, Outputs

PROGRESS = gr.Progress()


@dataclass(frozen=True)
class View:
    status: str
    boxes: Any = KEEP
    count: Any = KEEP


def _outputs() -> tuple[Outputs, gr.Markdown, list[gr.Textbox], gr.Number]:
    status, boxes, count = gr.Markdown(), [gr.Textbox(), gr.Textbox()], gr.Number()
    return Outputs(count=count, status=status, boxes=boxes), status, boxes, count


def test_fields_come_out_in_the_wired_order_and_kept_ones_are_skipped():
    outputs, status, boxes, count = _outputs()
    assert outputs.components == [count, status, *boxes]
    assert outputs.values(View("fait", boxes=("a", "b"))) == [gr.skip(), "fait", "a", "b"]
    assert outputs.values(View("rien", count=3)) == [3, "rien", gr.skip(), gr.skip()]


def test_a_single_output_gets_its_bare_value():
    assert Outputs(status=gr.Markdown()).values(View("seul")) == "seul"


def test_a_field_set_but_wired_nowhere_or_the_wrong_count_of_values_is_an_error():
    with pytest.raises(ValueError, match="count"):
        Outputs(status=gr.Markdown()).values(View("perdu", count=2))
    outputs, *_ = _outputs()
    with pytest.raises(ValueError, match="boxes"):
        outputs.values(View("trois", boxes=("a", "b", "c")))


def test_adapted_callbacks_keep_what_gradio_reads_signature_and_streaming():
    outputs = Outputs(status=gr.Markdown(), count=gr.Number())

    def answer(text: str, request: gr.Request, progress: gr.Progress = PROGRESS) -> View:
        return View(text.upper(), count=len(text))

    def stream(text: str) -> Iterator[View]:
        for n in range(1, 3):
            yield View(text * n)

    adapted = outputs.adapt(answer)
    assert inspect.signature(adapted) == inspect.signature(answer)
    assert adapted("oui", None) == ["OUI", 3]
    streamed = outputs.adapt(stream)
    assert inspect.isgeneratorfunction(streamed)
    assert list(streamed("a")) == [["a", gr.skip()], ["aa", gr.skip()]]
