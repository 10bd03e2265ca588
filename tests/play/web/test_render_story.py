"""The embedded model reads chat messages rendered as a story: the context, the lines, then the
changing note, then the speaker's name. The closing instructions never reach it, and the note
never sits inside a line."""

import pytest

from play.engine.inference.local import render_story, split_tail
from play.engine.prompt import build_layout, read_context, render
from tests.factories import make_chat


def test_the_note_follows_the_story_and_the_closing_is_left_out():
    messages = [
        {"role": "system", "content": "## identity\nYou are Mara."},
        {"role": "assistant", "content": "Mara: Hello, Sam."},
        {
            "role": "user",
            "content": "Sam: Coffee?\n\n[## world\nRain on the roof.\n\n## activity\nMara: driving]"
            "\n\n[Write only Mara's reply.]",
        },
    ]
    story = render_story(messages, "Mara")
    assert story.startswith(
        "## identity\nYou are Mara.\n\nThe story so far:\nMara: Hello, Sam.\nSam: Coffee?"
    )
    assert (
        story.index("Sam: Coffee?")
        < story.index("## world")
        < story.index("\nMara:", story.index("## world"))
    )
    assert story.endswith("\nMara:")
    assert "Write only" not in story and "[" not in story


def test_a_later_turn_keeps_the_earlier_story_as_its_prefix():
    first = [
        {"role": "system", "content": "ctx"},
        {"role": "user", "content": "Sam: One.\n\n[## world\nnoon]\n\n[Reply.]"},
    ]
    second = [
        {"role": "system", "content": "ctx"},
        {"role": "user", "content": "Sam: One."},
        {"role": "assistant", "content": "Mara: Two."},
        {"role": "user", "content": "Sam: Three.\n\n[## world\ndusk]\n\n[Reply.]"},
    ]
    a, b = render_story(first, "Mara"), render_story(second, "Mara")
    assert b.startswith(a.split("\n\n## world")[0])
    assert "noon" not in b and "dusk" in b


def test_split_tail_takes_every_bracketed_block_off_the_end():
    assert split_tail("Sam: hi [waves]\n\n[## a\nb]\n\n[c]") == (
        "Sam: hi [waves]",
        ["## a\nb", "c"],
    )
    assert split_tail("[only]") == ("", ["only"])


@pytest.mark.django_db
def test_brackets_in_a_note_do_not_cut_it_short(data_dir):
    # a memory or a title may hold brackets of its own: the rendered note still ends where it ends
    chat = make_chat()
    ctx = read_context(chat, "host")
    layout = build_layout(ctx)
    layout.note[0].text = "A sign reads [CLOSED] in red."
    messages = render(layout, ctx)
    content, blocks = split_tail(messages[-1]["content"])
    assert "(CLOSED)" in blocks[0] and "[CLOSED]" not in messages[-1]["content"]
