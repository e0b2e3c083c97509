"""The git repository the mapping files live in, for `--push`: bring the checkout to the newest
upstream commit before a run, then commit the state and push it, merging the state again when
someone pushed first.

git runs as a subprocess (`git.py`); nothing here prints to the terminal, and no message ever
carries credentials that a remote URL may hold. It may import statusync.core, statusync.errors
and statusync.text; the state's merge and files are the caller's (statusync.session.push).
"""
