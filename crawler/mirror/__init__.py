"""The offline mirror: the sites' sample pages and listing APIs served on 127.0.0.1."""
