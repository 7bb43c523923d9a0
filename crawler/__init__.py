"""newsarchive: crawl news sites, strip the boilerplate, archive the clean article."""

from importlib import metadata


def software_version() -> str:
    """newsarchive's installed version, as WARC files and WACZ packages name their software."""
    try:
        return metadata.version("newsarchive")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"
