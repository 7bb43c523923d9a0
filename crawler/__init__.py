"""newsarchive: crawl news sites, strip the boilerplate, archive the clean article."""


def software_version() -> str:
    """newsarchive's installed version, as WARC files and WACZ packages name their software.
    (importlib.metadata is imported here, not above: the CLI's first moments stay short.)"""
    from importlib import metadata

    try:
        return metadata.version("newsarchive")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"
