"""Starting a run: `session` runs a crawl and finishes it (the one sequence every command and
the scheduler use), `runner` runs the site spiders in one Scrapy process, `locks` keeps two
runs of one site apart, `reparse` runs the parsers again over archived raw pages.
"""
