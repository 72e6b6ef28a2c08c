"""python -m theorylab."""

from .cli import main

main()
