"""What statusync does for GitHub Actions, apart from the commands themselves.

    runner.py       what the Actions runner tells a step through its environment
    annotations.py  validation problems as `::error file=…,line=…,col=…::…` workflow commands
    summary.py      a plan or drift report appended to the job summary ($GITHUB_STEP_SUMMARY)
    rest.py         a small client for the few GitHub REST endpoints below (httpx)
    identity.py     who the token is: only what that identity wrote is statusync's own
    comment.py      the one pull-request comment that holds the plan, found by a hidden marker
                    and its author
    no_plan.py      what that comment says when validation or the plan failed
    drift_issue.py  the one open issue labelled `statusync-drift`, opened, updated and closed
    action.py       the step of the composite action (action.yml): runs one statusync command,
                    shows its output and keeps it in a file for the steps after it

annotations, summary and runner import only the standard library: `plan` and `validate` use them
and must stay fast and offline. Only rest.py imports httpx.
"""
