from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vireid")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+local"


def __getattr__(name: str):
    # ``vireid.load`` without importing torch on ``import vireid`` (the CLI must start fast).
    if name == "load":
        from vireid.inference.api import load

        return load
    raise AttributeError(f"module 'vireid' has no attribute {name!r}")
