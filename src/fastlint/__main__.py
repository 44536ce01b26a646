"""``python -m fastlint``: the same command as the ``fastlint`` script."""

from fastlint.cli import main

if __name__ == "__main__":
    main()
