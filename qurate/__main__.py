"""`python -m qurate` runs the CLI."""

from qurate.cli import main

if __name__ == "__main__":
    main()
