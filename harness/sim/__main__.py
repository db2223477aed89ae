import sys

from harness.sim import main

sys.exit(main())
