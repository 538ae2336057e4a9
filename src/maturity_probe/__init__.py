"""maturity-probe: infer MLOps maturity from the tooling an organisation really runs."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("maturity-probe")
except PackageNotFoundError:  # running from a checkout without installation
    __version__ = "0.0.0+local"
