"""What the tests share: builders of values (`builders`) and the throw-away project and
sandbox helpers (`project`). The fixtures themselves are in tests/conftest.py."""
