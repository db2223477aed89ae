"""Device profiles and lab configurations: models, YAML loading with located errors, binding."""

from harness.profile.lab_models import LabConfig
from harness.profile.loader import lab_schema, load_lab, load_profile, profile_schema
from harness.profile.models import DeviceProfile, Unit
from harness.profile.resolve import Bench, open_bench
from harness.profile.yamlpos import ConfigError, ConfigIssue

__all__ = [
    "Bench", "ConfigError", "ConfigIssue", "DeviceProfile", "LabConfig", "Unit", "lab_schema",
    "load_lab", "load_profile", "open_bench", "profile_schema",
]
