from statusync.cli import run

run()
