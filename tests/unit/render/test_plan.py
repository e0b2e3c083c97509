import io
import json

from statusync.core.plan import make_plan
from statusync.render.plan import render_json, render_markdown, render_text
from tests.support.builders import loaded, mapping, state_of

A = mapping("1", "2", "3", None)
B = mapping("1", "2", "9", None)


def text(plan, **kwargs) -> str:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    render_text(plan, out, **kwargs)
    return out.getvalue()


def test_text_shows_each_changed_category_before_and_after() -> None:
    out = text(make_plan([loaded(1, B, name="Shop")], state_of((1, A))))
    assert "~ update 1  mappings/1.yaml  (Shop)" in out
    assert 'DELIVERED  "3" -> "9"' in out
    assert "READY_TO_SEND" not in out
    assert "Plan: 0 to create, 1 to update, 0 to reset, 0 to forget, 0 unchanged." in out


def test_text_create_forget_and_reset() -> None:
    out = text(make_plan([loaded(5, A)], state_of((1, A)), on_removed="reset"))
    assert "+ create 5" in out and "CANCEL         null" in out
    assert "! reset  1" in out and '"1" -> null' in out
    out = text(make_plan([], state_of((1, A))))
    assert "- forget 1" in out and "nothing is sent" in out


def test_text_without_changes() -> None:
    assert text(make_plan([loaded(1, A)], state_of((1, A)))) == "No changes. 1 integration up to date.\n"


def test_colour_only_when_asked() -> None:
    plan = make_plan([loaded(1, A)], state_of())
    assert "\x1b[" not in text(plan)
    assert "\x1b[" in text(plan, color=True)


def test_text_shows_the_safety_breach() -> None:
    out = text(make_plan([loaded(1, A)], state_of()), breach="too many")
    assert "Warning: too many." in out


def test_json_is_one_object() -> None:
    out = io.StringIO()
    render_json(make_plan([loaded(1, B)], state_of((1, A))), out)
    data = json.loads(out.getvalue())
    assert data["changes"][0]["before"] == A and data["changes"][0]["after"] == B


def test_markdown_is_a_summary_and_a_table() -> None:
    out = io.StringIO()
    render_markdown(
        make_plan([loaded(1, mapping("a|b", "2", "9", None)), loaded(2, A)], state_of((1, A), (3, A))), out
    )
    md = out.getvalue()
    assert "**1 to create, 1 to update, 0 to reset, 1 to forget, 0 unchanged**" in md
    assert "| action | integration | file | category | before | after |" in md
    assert '| update | 1 | `mappings/1.yaml` | READY_TO_SEND | `"1"` | `"a\\|b"` |' in md
    assert "| forget | 3 |" in md


def test_markdown_without_changes() -> None:
    out = io.StringIO()
    render_markdown(make_plan([], state_of()), out)
    assert "No changes." in out.getvalue()


def test_markdown_stays_within_what_a_github_comment_holds() -> None:
    plan = make_plan([loaded(i, A, name="Shop " + "x" * 40) for i in range(1, 2001)], state_of())
    out = io.StringIO()
    render_markdown(plan, out)
    md = out.getvalue()
    assert len(md) < 65_536
    shown = md.count("| create |")
    assert 50 < shown < 2000
    assert f"… and {2000 - shown} more changes not shown here: run `statusync plan`" in md
    left_out = [str(c.integration_id) for c in plan.changes][shown : shown + 30]  # in the plan's order
    assert f"Not shown: {', '.join(left_out)} and {2000 - shown - 30} more.*" in md


def test_a_change_too_long_for_the_comment_is_skipped_and_the_rest_still_shown() -> None:
    huge = mapping("x" * 70_000, "2", "3", None)  # sorted first, longer than the whole budget
    plan = make_plan(
        [
            loaded(1, huge),
            *(loaded(i, A) for i in range(2, 5)),
            loaded(5, mapping("y" * 70_000, "2", "3", None)),
        ],
        state_of(),
    )
    out = io.StringIO()
    render_markdown(plan, out)
    md = out.getvalue()
    assert len(md) < 65_536
    assert [line.split(" | ")[1] for line in md.splitlines() if line.startswith("| create |")] == [
        "2",
        "3",
        "4",
    ]
    assert md.endswith(
        "\n*… and 2 more changes not shown here: run `statusync plan` for the full list. Not shown: 1, 5.*\n"
    )


def test_markdown_lists_everything_when_it_fits() -> None:
    out = io.StringIO()
    render_markdown(make_plan([loaded(i, A) for i in range(1, 11)], state_of()), out)
    assert out.getvalue().count("| create |") == 10 and "not shown" not in out.getvalue()


def test_names_and_paths_cannot_inject_lines_or_escape_sequences() -> None:
    evil = "Evil\n+ create 666  forged\x1b[31m|x"
    plan = make_plan([loaded(1, A, name=evil, file="mappings/a\rb.yaml")], state_of())
    shown = text(plan)
    assert "\x1b" not in shown and "\r" not in shown
    assert "\n+ create 666" not in shown and "Evil\\n+ create 666" in shown
    out = io.StringIO()
    render_markdown(plan, out)
    rows = [line for line in out.getvalue().splitlines() if line.startswith("| create |")]
    # Shown as it is: printable, then every ASCII punctuation character escaped for markdown.
    assert len(rows) == 1 and "Evil\\\\n\\+ create 666  forged\\\\u001b\\[31m\\|x" in rows[0]
    assert "`mappings/a\\rb.yaml`" in rows[0]
