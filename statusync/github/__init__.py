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

The composite action's step (action.yml) is an entry point, statusync.action beside __main__.py:
this package is a library and imports no command and not the CLI.

May import: httpx (rest.py only), statusync.errors, statusync.text, statusync.environment,
statusync.console (summary.py, to say when the summary cannot be written), statusync.render's
markdown budget (no_plan.py) and statusync.sendcloud.urls (the loopback rule). runner.py imports
only the standard library, annotations.py adds the exception tree and summary.py the console:
`plan` and `validate` use them and must stay fast and offline.
"""
