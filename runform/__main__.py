try:
    from .cli import run
except KeyboardInterrupt:  # Ctrl-C while starting up
    import os
    import sys

    sys.stderr.write("interrupted: no result file was written or changed.\n")
    sys.stderr.flush()
    os._exit(130)

run()
