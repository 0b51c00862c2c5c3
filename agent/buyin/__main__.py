"""``python -m buyin``: the `buyin` program (:mod:`buyin.entry`)."""

from buyin.entry import main

main()
