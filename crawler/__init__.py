"""newsarchive: crawl news sites, strip the boilerplate, archive the clean article."""
