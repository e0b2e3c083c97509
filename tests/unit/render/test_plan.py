import io
import json
from dataclasses import replace

from statusync.core.catalog import KnownStatus, ShopStatuses, StatusCatalog
from statusync.core.plan import make_plan
from statusync.core.state import Pending
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


def test_a_long_integration_name_cannot_crowd_its_own_change_out_of_the_comment() -> None:
    # A pull request's `name:` (outside text, like a status's name) is shortened in markdown,
    # so that the change it names stays in view.
    name = "Shop " + "x" * 61_000
    plan = make_plan([loaded(1, B, name=name)], state_of((1, A)))
    out = io.StringIO()
    render_markdown(plan, out)
    [row] = [line for line in out.getvalue().splitlines() if line.startswith("| update |")]
    assert row.startswith(f"| update | 1 (Shop {'x' * 74}…) | `mappings/1.yaml` | DELIVERED |")
    assert "not shown here" not in out.getvalue()


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


# What statusync last read of integration 1's shop statuses (integration 2's are unknown).
NAMES = StatusCatalog(
    {
        1: ShopStatuses(
            "2026-12-01T10:00:00Z",
            "en-gb",
            {
                "3": KnownStatus("Payment accepted"),
                "9": KnownStatus("Remote payment accepted"),
                "7": KnownStatus("Old status", deleted=True),
                "2": KnownStatus("   "),  # a blank name says nothing: shown without one
            },
        )
    }
)


def test_text_shows_the_name_of_each_id_it_knows_and_unknown_ids_as_they_are() -> None:
    plan = make_plan([loaded(1, B), loaded(2, B)], state_of((1, A), (2, A)))
    out = text(plan, catalog=NAMES)
    assert 'DELIVERED  "3" (Payment accepted) -> "9" (Remote payment accepted)' in out
    assert 'DELIVERED  "3" -> "9"\n' in out  # integration 2: its statuses were never read
    create = text(make_plan([loaded(1, mapping("7", "2", "99", None))], state_of()), catalog=NAMES)
    assert 'READY_TO_SEND  "7" (Old status)\n' in create  # a deleted status keeps its name
    assert 'IN_TRANSIT     "2"\n' in create and 'DELIVERED      "99"\n' in create
    assert text(plan) == text(plan, catalog=StatusCatalog())  # no catalog: as without names


def test_markdown_shows_names_outside_the_code_span() -> None:
    out = io.StringIO()
    render_markdown(make_plan([loaded(1, B)], state_of((1, A))), out, catalog=NAMES)
    assert '| DELIVERED | `"3"` (Payment accepted) | `"9"` (Remote payment accepted) |' in out.getvalue()


def test_a_long_name_is_shortened_where_people_read_and_kept_whole_in_json() -> None:
    long = "Payment accepted " * 2000
    catalog = StatusCatalog({1: ShopStatuses("2026-11-30T09:00:00Z", "en-gb", {"9": KnownStatus(long)})})
    plan = make_plan([loaded(1, B)], state_of((1, A)))
    shown = f'"9" ({long[:79]}…)'
    assert shown in text(plan, catalog=catalog)
    out = io.StringIO()
    render_markdown(plan, out, catalog=catalog)
    assert "| DELIVERED |" in out.getvalue() and len(out.getvalue()) < 2_000  # the change is shown
    out = io.StringIO()
    render_json(plan, out, catalog=catalog)
    assert json.loads(out.getvalue())["changes"][0]["status_names"] == {"9": long}


def test_json_changes_carry_the_names_of_their_ids() -> None:
    plan = make_plan(
        [loaded(1, mapping("1", "2", "9", "7")), loaded(2, B)], state_of((1, A), (2, A)), on_removed="reset"
    )
    out = io.StringIO()
    render_json(plan, out, catalog=NAMES)
    first, second = json.loads(out.getvalue())["changes"]
    # Every id of before and after it knows, deleted ones too; blank names are names all the same.
    assert first["status_names"] == {
        "2": "   ",
        "3": "Payment accepted",
        "7": "Old status",
        "9": "Remote payment accepted",
    }
    assert second["status_names"] == {}


def test_an_uncertain_change_names_the_ids_it_may_have_sent() -> None:
    sent = Pending(
        "mappings/1.yaml", "sha", "default", None, mapping("1", "2", "7", None), "2026-01-02T00:00:00Z"
    )
    state = replace(state_of((1, A)), uncertain={1: sent})
    plan = make_plan([loaded(1, B)], state)
    out = io.StringIO()
    render_json(plan, out, catalog=NAMES)
    [change] = json.loads(out.getvalue())["changes"]
    assert change["status_names"] == {
        "2": "   ",
        "3": "Payment accepted",
        "7": "Old status",
        "9": "Remote payment accepted",
    }
    assert 'DELIVERED  "3" (Payment accepted) or "7" (Old status) -> "9"' in text(plan, catalog=NAMES)


def test_markdown_lists_twenty_warnings_and_counts_the_rest() -> None:
    out = io.StringIO()
    render_markdown(make_plan([loaded(1, B)], state_of((1, A))), out, warnings=[f"w{i}" for i in range(25)])
    md = out.getvalue()
    assert md.count("> [!WARNING]") == 21 and "> w19." in md and "w20" not in md
    assert "> … and 5 more warnings: run `statusync plan` to see them all." in md
