"""minigrad against PyTorch: a package, so that its conftest is not confused with tests/conftest.py."""
