"""``python -m ferrosock``: run an unmodified program on ferrosock.

::

    python -m ferrosock script.py [args ...]
    python -m ferrosock -m module [args ...]

The program runs as ``python script.py`` / ``python -m module`` would run
it (as ``__main__``, with ``sys.argv`` set to the script or the module's
file and its own arguments, and for a script its folder first on
``sys.path``), except that ``import socket`` and ``import socketserver``
give :mod:`ferrosock.socket` and :mod:`ferrosock.socketserver`
(:func:`ferrosock.monkey.patch_all`, whose docstring lists the limits).
For instance ``python -m ferrosock -m http.server 8000`` serves files with
ferrosock's server engine.

Tracebacks show a few more frames than usual at the top (this module and
``runpy``), as with any program started through ``runpy``.
"""

import os
import runpy
import sys

USAGE = """\
usage: python -m ferrosock script.py [args ...]
       python -m ferrosock -m module [args ...]

Run a Python program with ferrosock.socket and ferrosock.socketserver
standing in for the socket and socketserver modules."""


def main(argv=None):
    """Run the program named in ``argv`` (default: ``sys.argv[1:]``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print(USAGE, file=sys.stderr)
        return 2
    if args[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    from . import monkey

    if args[0] == "-m":
        if len(args) < 2:
            print("python -m ferrosock: -m needs a module name\n\n" + USAGE, file=sys.stderr)
            return 2
        module, rest = args[1], args[2:]
        monkey.patch_all()
        # run_module puts the module's file in sys.argv[0], as `python -m` does.
        sys.argv = [module, *rest]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return 0
    if args[0].startswith("-"):
        print(f"python -m ferrosock: unknown option {args[0]}\n\n" + USAGE, file=sys.stderr)
        return 2
    script, rest = args[0], args[1:]
    monkey.patch_all()
    sys.argv = [script, *rest]
    # `python script.py` puts the script's folder first on sys.path (here it
    # is the current folder, as for any `python -m`).
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
