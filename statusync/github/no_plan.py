"""What the plan comment says when there is no plan: validation failed, or the plan could not be
made. It replaces the plan the comment showed before, which no longer describes the pull
request: reviewers must never approve an older plan than the commit they merge."""

from __future__ import annotations

import io
from collections.abc import Sequence

from statusync.errors import Problem
from statusync.render.markdown import MarkdownBudget, md_code, md_text
from statusync.text import plural


def no_plan_markdown(problems: Sequence[Problem], reason: str | None, run_url: str | None) -> str:
    """The comment's markdown: the files' `problems` when validation found some, else `reason`
    (another error that stopped the plan) when known; always a pointer to the job's log."""
    out = io.StringIO()
    text = MarkdownBudget(out)
    text.write("### statusync plan\n\n")
    if problems:
        why = f"validation found {plural(len(problems), 'problem')} in the files"
    elif reason:
        why = f"the plan failed: {md_code(reason.splitlines()[0], table=False)}"
    else:
        why = "the plan step failed or did not run"
    text.write(
        f"> [!CAUTION]\n> **No plan for the latest push:** {why}. Any plan shown here "
        "before no longer applies; fix the problem and push again.\n"
    )
    if problems:
        text.write("\n")
        for problem in problems:
            where = (
                problem.file if problem.line is None else f"{problem.file}:{problem.line}:{problem.col or 1}"
            )
            text.group([f"- {md_code(where, table=False)}: {md_text(problem.message)}\n"], md_text(where))
        text.note("problem", "statusync validate")
    log = f"[the job's log]({run_url})" if run_url else "the job's log"
    text.write(f"\nThe details are in {log}.\n")
    return out.getvalue()
