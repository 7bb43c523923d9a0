"""newsarchive: crawl Futu and Tencent news, strip the boilerplate, archive the clean article."""
