"""Robot Framework integration: ``HarnessLibrary`` (keywords) and ``ResultsListener`` (records).

Import in a suite as ``Library    harness.robot.HarnessLibrary``. The keyword documentation is
built with ``python -m robot.libdoc harness.robot.HarnessLibrary docs/robot/harness-library.html``.
"""

from harness.robot.library import HarnessLibrary, UnitState
from harness.robot.listener import ResultsListener

__all__ = ["HarnessLibrary", "ResultsListener", "UnitState"]
