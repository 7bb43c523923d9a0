"""Public web archives (the Wayback Machine, Common Crawl) as a discovery source.

A capture comes back as the bytes the site served, so it goes through the same site parser,
the same spider accounting and the same archive as a page fetched from the site, with no
request to the news site itself. This package owns the reach of that source: which URL forms
are asked for, how captures are chosen, where their bytes are fetched from, and what the
record says about them. It imports no command and no run starter.
"""
