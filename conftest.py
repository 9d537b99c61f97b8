"""Collection rules for the whole repository (library doctests, tests, theorems)."""
import importlib.util

# The torch backend's module raises MissingDependency on import when PyTorch is
# absent; its doctests can only be collected where torch is installed.
collect_ignore = [] if importlib.util.find_spec("torch") else ["ntkproof/backends/torch_backend.py"]
